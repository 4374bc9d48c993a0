#!/usr/bin/env bash
# Prints the loader's and the widget bundle's sizes (raw, gzip -9, brotli -q 11).
set -euo pipefail
cd "$(dirname "$0")/.."
row() { # name, files...
  local name=$1; shift
  local raw gz br
  raw=$(cat "$@" | wc -c)
  gz=$(cat "$@" | gzip -9 | wc -c)
  br=$(cat "$@" | brotli -q 11 -c | wc -c)
  printf '%-28s %9s %9s %9s\n' "$name" "$raw" "$gz" "$br"
}
printf '%-28s %9s %9s %9s\n' "bytes" "raw" "gzip" "brotli"
row "loader (embed.js)" widget/embed.js
row "widget wasm" dist/widget/*.wasm
row "widget js" dist/widget/*.js
row "widget css" dist/widget/*.css
row "widget total (wasm+js+css)" dist/widget/*.wasm dist/widget/*.js dist/widget/*.css
