# The README's two commands: `make run` and `make test`. Each installs what it needs
# (idempotently: an install whose right version is present is skipped).

SHELL := /bin/bash
# Project-local tools first: binaryen's wasm-opt comes from npm (see `tools`).
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TRUNK_VERSION := 0.21.14
# Debian's binaryen 108 writes wasm-bindgen's externref table export against the wrong
# table (the widget then fails at start-up); npm's build of binaryen is current.
BINARYEN_VERSION := 132
# The REST API is checked against its OpenAPI document by schemathesis (from PyPI).
SCHEMATHESIS_VERSION := 4.32.5
# wasm-bindgen-cli must match the wasm-bindgen library exactly (pinned in Cargo.toml).
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends

WIDGET_SOURCES := $(shell find widget protocol -type f \( -name '*.rs' -o -name '*.css' -o -name '*.html' -o -name 'Cargo.toml' \)) Cargo.toml Cargo.lock Trunk.toml
CONSOLE_SOURCES := $(shell find www -type f \( -name '*.rs' -o -name '*.css' -o -name '*.html' -o -name 'Cargo.toml' \)) $(WIDGET_SOURCES)

.PHONY: run test lint size bench fuzz tools test-tools web

## Build everything and start the relay on http://127.0.0.1:8080 (data in ./data).
run: tools web
	cargo run --release --locked -p porchlight-relay --bin porchlight -- kb import examples/knowledge
	cargo run --release --locked -p porchlight-relay --bin porchlight -- serve

## Every test: unit, integration, crash and browser; and the lints first. Then the
## relay's own suite once more on PostgreSQL (a private server, started and stopped).
test: test-tools web lint
	cargo test --workspace --locked
	bash tests/on-postgres.sh

## Clippy with warnings as errors, natively and for the wasm crates' UI code.
lint: tools
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cargo clippy -p porchlight-widget -p porchlight-console --target wasm32-unknown-unknown --locked -- -D warnings

## The parsers' fuzz targets, FUZZ_SCALE times as long as in `make test` (with a new
## random stream each time unless FUZZ_SEED is given); one line per target.
FUZZ_SCALE ?= 50
FUZZ_SEED ?= $(shell date +%s)
fuzz:
	PORCHLIGHT_FUZZ_SCALE=$(FUZZ_SCALE) PORCHLIGHT_FUZZ_SEED=$(FUZZ_SEED) \
		cargo test --locked -p porchlight-relay --test fuzz -- --nocapture --test-threads 1 2>&1 | grep -oE 'fuzz [a-z_]+: .*|panicked.*|test result.*'

## The performance figures beside their goals: sizes, ten thousand visitors and a
## restart, a high message rate, each beside a bare floor, a seeded database, knowledge
## search, the hot functions' micro-benchmarks (about fourteen minutes; see
## docs/measuring.md).
bench: tools web
	@bash tests/bench.sh

## Sizes of the loader and the widget bundle: raw, gzip, brotli.
size: tools web
	@bash tests/size.sh

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@trunk --version 2>/dev/null | grep -qF "$(TRUNK_VERSION)" || cargo install --locked trunk@$(TRUNK_VERSION)
	@wasm-bindgen --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)" || \
		cargo install --locked wasm-bindgen-cli@$(WASM_BINDGEN_VERSION) || \
		cargo install wasm-bindgen-cli@$(WASM_BINDGEN_VERSION)
	@command -v npm >/dev/null || { $(APT_INSTALL) nodejs npm; }
	@command -v brotli >/dev/null || { $(APT_INSTALL) brotli; }
	@.tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -qF "version $(BINARYEN_VERSION)" || \
		npm install --no-audit --no-fund --prefix .tools binaryen@$(BINARYEN_VERSION)

test-tools: tools
	@{ command -v chromium && command -v chromedriver; } >/dev/null || { $(APT_INSTALL) chromium chromium-driver; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { $(APT_INSTALL) postgresql; }
	@command -v nats-server >/dev/null || test -x /usr/sbin/nats-server || { $(APT_INSTALL) nats-server; }
	@.tools/venv/bin/schemathesis --version 2>/dev/null | grep -qF "$(SCHEMATHESIS_VERSION)" || { \
		python3 -c 'import ensurepip' 2>/dev/null || { $(APT_INSTALL) python3 python3-venv; }; \
		python3 -m venv .tools/venv && .tools/venv/bin/pip install -q schemathesis==$(SCHEMATHESIS_VERSION); }

web: dist/widget/index.html dist/console/index.html

# Each bundle is built, then precompressed (the relay serves .br/.gz when accepted).
dist/widget/index.html: $(WIDGET_SOURCES)
	trunk build --release --offline --dist dist/widget --public-url /widget/ widget/index.html
	@bash tests/precompress.sh dist/widget

dist/console/index.html: $(CONSOLE_SOURCES)
	trunk build --release --offline --dist dist/console --public-url /console/ www/index.html
	@bash tests/precompress.sh dist/console
