#!/usr/bin/env bash
# `make bench`: the performance figures of docs/measuring.md in one run, each beside its
# goal. Runs the widget's sizes, the load generator (ten thousand visitors with a
# restart; then a high message rate) and the bare floor under the same loads, the
# seeded database's reads, the knowledge search benchmark and the hot functions'
# micro-benchmarks, prints each tool's own output as it goes, then one table (with the
# floor's figure and the ratio where the goal is set against it).
# Takes about fourteen minutes on two cores; everything stays on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p porchlight-relay --bin porchlight \
  -p porchlight-tests --bin loadgen --bin floor --bin seeded --bin kbbench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { # name, command...
  local name=$1
  shift
  echo "== $name: $*"
  "$@" | tee "$out/$name"
}

run size bash tests/size.sh
run visitors ./target/release/loadgen --visitors 10000 --agents 10 --rate 2000 --secs 10 --restart
run rate ./target/release/loadgen --visitors 2000 --agents 10 --rate 8000 --secs 10
# The rate goal: 24,000 messages a second acknowledged after COMMIT (durability full);
# 16,000 shows the step below it.
run rate16 ./target/release/loadgen --visitors 2000 --agents 10 --rate 16000 --secs 10
run rate24 ./target/release/loadgen --visitors 2000 --agents 10 --rate 24000 --secs 10
run floor_visitors ./target/release/floor --visitors 10000 --agents 10 --rate 2000 --secs 10
run floor_rate ./target/release/floor --visitors 2000 --agents 10 --rate 8000 --secs 10
run floor_rate24 ./target/release/floor --visitors 2000 --agents 10 --rate 24000 --secs 10
run seeded ./target/release/seeded
run kbbench ./target/release/kbbench --chunks 10000 --queries 1000
run micro cargo bench --locked -p porchlight-relay --bench hot_paths

# The number after `label` on the line holding `line` in a tool's output.
value() { # file, line, label
  grep -F -- "$2" "$out/$1" | head -1 | sed -E "s/.*$3[^0-9]*([0-9][0-9.]*).*/\1/"
}
# A seeded figure: its small and seeded values and their ratio.
seeded() {
  grep -F -- "$1" "$out/seeded" | head -1 | awk '{print $(NF-4), $(NF-3), $(NF-2), $(NF-1), $NF}'
}

row() { printf '%-52s %-26s %s\n' "$1" "$2" "$3"; }
# The relay's figure beside the floor's under the same load, and their ratio.
floored() { # run, floor run, line, label
  local ours floor
  ours=$(value "$1" "$3" "$4")
  floor=$(value "$2" "$3" "$4")
  echo "$ours (floor $floor, $(awk -v a="$ours" -v b="$floor" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'))"
}
echo
row "figure" "goal" "value"
row "widget wasm+js+css, brotli (bytes)" "<= 65000" "$(awk '/widget wasm\+js\+css/ {print $NF}' "$out/size")"
row "loader, gzip (bytes)" "<= 2048" "$(awk '/loader/ {print $(NF-1)}' "$out/size")"
row "10,000 visitors connected (s)" "<= 5" "$(floored visitors floor_visitors 'visitors connected' 'in')"
row "10,000 chats joined by 10 agents (s)" "(no goal; grows linearly)" "$(value visitors 'chats joined' 'in')"
row "RSS per idle visitor (KiB)" "<= 8" "$(floored visitors floor_visitors 'relay RSS' 'MiB \(')"
row "p99 at 2,000 msg/s, 10,000 visitors (ms)" "<= 2x the bare floor" "$(floored visitors floor_visitors 'latency' 'p99')"
row "10,000 visitors resumed after kill -9 (s)" "<= 5" "$(value visitors 'after kill -9' 'resumed in')"
row "p99 at 8,000 msg/s (ms)" "< 50" "$(floored rate floor_rate 'latency' 'p99')"
row "relay CPU per message at 8,000 msg/s (us)" "<= 25" "$(floored rate floor_rate 'relay CPU' 's \(')"
row "p99 at 16,000 msg/s (ms)" "(no goal)" "$(value rate16 'latency' 'p99')"
row "p99 at 24,000 msg/s (ms)" "< 50" "$(floored rate24 floor_rate24 'latency' 'p99')"
for figure in "console chat list" "tickets list" "ticket page" "report, 90 days" \
  "chats.csv, first byte" "messages.csv, first byte" "relay heap while exporting messages"; do
  row "seeded: $figure (small, seeded, ratio)" "ratio <= 2" "$(seeded "$figure")"
done
row "knowledge search p95, 10,000 passages (ms)" "<= 2" "$(value kbbench 'keyword:' 'p95')"
