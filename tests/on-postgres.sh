#!/usr/bin/env bash
# The relay's own test suite once more with every relay keeping its store in
# PostgreSQL (one switch: PORCHLIGHT_TEST_STORE=postgres), on a private server in a
# temporary folder that is stopped at the end. Tests that are about SQLite's own file
# say so and pass over it.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$bin" ] || bin=$(dirname "$(command -v initdb)")
tmp=$(mktemp -d)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$tmp"; fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_postgres "$bin/initdb" -A trust -U postgres --no-sync -D "$tmp/cluster" >/dev/null
as_postgres "$bin/pg_ctl" start -w -l "$tmp/log" -D "$tmp/cluster" \
	-o "-p $port -c listen_addresses=127.0.0.1 -k $tmp -c fsync=off -c max_connections=400" >/dev/null
trap 'as_postgres "$bin/pg_ctl" stop -m immediate -D "$tmp/cluster" >/dev/null; rm -rf "$tmp"' EXIT
# The tests that start their own PostgreSQL (postgres*, cluster*) ran on it already in
# the first pass, and unit tests never touch a store: only the rest run again.
# `--workspace`, as in the first pass, so that the relay keeps the same features and
# its test binaries are reused; `-p porchlight-relay` built all of them a second time.
targets=()
for file in relay/tests/*.rs; do
	name=$(basename "$file" .rs)
	case "$name" in postgres* | cluster*) ;; *) targets+=(--test "$name") ;; esac
done
PORCHLIGHT_TEST_STORE=postgres \
PORCHLIGHT_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres" \
	cargo test --locked --workspace "${targets[@]}" "$@"
