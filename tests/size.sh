#!/usr/bin/env bash
# Prints the loader's and the widget bundle's sizes in bytes: raw, gzip -9, brotli -q 11.
# The bundle total adds the files compressed one by one, as a browser fetches them.
set -euo pipefail
cd "$(dirname "$0")/.."
total_raw=0 total_gz=0 total_br=0
row() { # label, file
  local raw gz br
  raw=$(wc -c < "$2")
  gz=$(gzip -9c "$2" | wc -c)
  br=$(brotli -q 11 -c "$2" | wc -c)
  printf '%-26s %9s %9s %9s\n' "$1" "$raw" "$gz" "$br"
  if [ "$1" != "loader (embed.js)" ]; then
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
  fi
}
printf '%-26s %9s %9s %9s\n' "bytes" "raw" "gzip" "brotli"
row "loader (embed.js)" widget/embed.js
row "widget wasm" dist/widget/*_bg.wasm
row "widget js" dist/widget/*.js
row "widget css" dist/widget/*.css
printf '%-26s %9s %9s %9s\n' "widget wasm+js+css" "$total_raw" "$total_gz" "$total_br"
