# hookgate: `make run` brings up the local stack, `make test` runs every check,
# `make build` produces the arm64 Lambda artifacts. All install what they need
# into the project-local .venv on first use.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
# One function crate per registered provider, each under functions/<slug>.
FUNCTIONS := $(sort $(notdir $(wildcard functions/*)))
CARGO ?= cargo
LAMBDA_TARGET := aarch64-unknown-linux-gnu
LAMBDA_DIR := $(or $(CARGO_TARGET_DIR),target)/lambda
# The template checks run offline: no telemetry, and dummy credentials so
# that no profile of the caller's is ever used.
TEMPLATE_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN SAM_CLI_TELEMETRY=0 \
	AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline

# Fuzzing: seconds per target, and the targets (fuzz/fuzz_targets/<name>.rs).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := es256_header hmac_header timestamped_header namirial_token \
	json_strict payload pipeline lambda_event
# cargo-fuzz passes nightly-only flags; RUSTC_BOOTSTRAP lets stable take them.
# No sanitizer: hookgate forbids unsafe code, so the targets look for panics
# and broken properties, and an ASan build would only be slower.
FUZZ := RUSTC_BOOTSTRAP=1 $(CARGO) fuzz
FUZZ_BUILD := --sanitizer none

.PHONY: help setup test soak lint lint-template unit run build build-host sam-build bench fuzz clean

help:
	@echo "make run    - local SQS + the functions on http://127.0.0.1:9000, one signed sample each"
	@echo "make test   - fmt, clippy, template checks, release binaries, unit and end-to-end tests against a local SQS"
	@echo "make build  - arm64 Lambda artifacts (target/lambda/<function>/bootstrap) with cargo-lambda"
	@echo "make soak   - the load run with 10,000 deliveries and SQS faults (make test runs 1,000)"
	@echo "make build-host - release binaries for this machine (used by the tests)"
	@echo "make lint-template - cfn-lint and sam validate on template.yaml, for each Front (HttpApi, FunctionUrl)"
	@echo "make sam-build - sam build from the .venv (arm64, as sam deploy ships it), then checks each function's bootstrap is an arm64 ELF"
	@echo "make bench  - criterion pipeline benches, cold start, warm CPU, RSS and size against hello-world and a Python peer; one table"
	@echo "make fuzz   - each cargo-fuzz target for FUZZ_SECONDS (600), then minimize its corpus"

$(VENV)/.installed: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

setup: $(VENV)/.installed

# The Python peer of `make bench`, resolved together with the tools above so
# that pip keeps one consistent boto3.
$(VENV)/.bench-installed: $(VENV)/.installed tools/bench/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt -r tools/bench/requirements.txt
	touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Both fronts: `sam validate` takes no parameter values, so the
# FunctionUrl variant is a generated copy with the Front default switched.
TEMPLATE_VARIANT := $(or $(CARGO_TARGET_DIR),target)/template-function-url.yaml
lint-template: setup
	mkdir -p $(dir $(TEMPLATE_VARIANT))
	$(PY) scripts/template-variant.py template.yaml Front=FunctionUrl > $(TEMPLATE_VARIANT)
	for t in template.yaml $(TEMPLATE_VARIANT); do \
		$(TEMPLATE_ENV) $(VENV)/bin/cfn-lint $$t && \
		$(TEMPLATE_ENV) $(VENV)/bin/sam validate -t $$t --region us-east-1 && \
		$(TEMPLATE_ENV) $(VENV)/bin/sam validate -t $$t --lint --region us-east-1 || exit 1; \
	done

# The functions are built apart from the CLI: built together, cargo would
# unify their features and compile the CLI's SSO and credential-process
# providers into the functions too.
build-host:
	$(CARGO) build --release $(addprefix -p ,$(FUNCTIONS))
	$(CARGO) build --release -p hookgate-cli

# cargo-lambda cross-compiles with zig, both from the .venv (zig is found as
# `python3 -m ziglang`, hence the PATH).
build: setup
	rustup target add $(LAMBDA_TARGET)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) lambda build --release --arm64 $(addprefix -p ,$(FUNCTIONS))
	@ls -l $(foreach f,$(FUNCTIONS),$(LAMBDA_DIR)/$(f)/bootstrap)

# What `sam deploy` ships: `sam build` (BuildMethod: rust-cargolambda, SAM
# CLI 1.170 from the .venv, cargo-lambda and zig on PATH as for `make
# build`) into .aws-sam/build, then a check that each bootstrap is an arm64
# ELF executable.
SAM_ARTIFACTS := $(foreach f,Panjaya Syncso Namirial Redner,.aws-sam/build/$(f)Function/bootstrap)
sam-build: setup
	rustup target add $(LAMBDA_TARGET)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(TEMPLATE_ENV) $(VENV)/bin/sam build
	$(PY) scripts/check-arm64.py $(SAM_ARTIFACTS)

# Measured, not asserted: see BENCHMARKS.md. The functions are built
# together, as `make build` builds the Lambda artifacts (same profile and
# feature set), with the hello-world floor beside them; the driver is a
# debug build and only measures other processes.
BENCH_ARGS ?=
bench: $(VENV)/.bench-installed
	$(CARGO) build --release $(addprefix -p ,$(FUNCTIONS)) -p hello-lambda
	$(CARGO) build -p hookgate-tests --bin hookgate-bench
	$(CARGO) bench -p hookgate --bench pipeline
	HOOKGATE_BIN_DIR=$${HOOKGATE_BIN_DIR:-$(abspath $(or $(CARGO_TARGET_DIR),target))/release} \
		scripts/with-sqs.sh $(or $(CARGO_TARGET_DIR),target)/debug/hookgate-bench $(BENCH_ARGS)

test: setup lint lint-template build-host
	scripts/with-sqs.sh $(CARGO) test --workspace

# The full load run: 10,000 signed deliveries at concurrency 50 through the
# release binaries with SQS faults injected; prints its counts.
SOAK_DELIVERIES ?= 10000
soak: setup build-host
	HOOKGATE_LOAD_DELIVERIES=$(SOAK_DELIVERIES) scripts/with-sqs.sh \
		$(CARGO) test --workspace --test load -- --nocapture

# One target at a time; each run adds to fuzz/corpus/<target>/ (replayed by
# `cargo test`), then cmin keeps only inputs that add coverage.
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --version 0.13.2 --locked
	for t in $(FUZZ_TARGETS); do \
		$(FUZZ) run $(FUZZ_BUILD) $$t -- -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -close_fd_mask=1 -timeout=10 \
			-dict=$(CURDIR)/fuzz/hookgate.dict && \
		$(FUZZ) cmin $(FUZZ_BUILD) $$t -- -close_fd_mask=1 || exit 1; \
	done

run: setup
	scripts/run-local.sh

clean:
	rm -rf $(VENV) target
