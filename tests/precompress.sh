#!/usr/bin/env bash
# Writes NAME.br and NAME.gz beside each wasm, js and css file of a built bundle.
set -euo pipefail
for file in "$1"/*.wasm "$1"/*.js "$1"/*.css; do
  [ -e "$file" ] || continue
  brotli -q 11 -f -k "$file"
  gzip -9 -f -k "$file"
done
