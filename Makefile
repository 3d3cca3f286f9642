# hookgate: `make run` brings up the local stack, `make test` runs every check.
# Both install what they need into the project-local .venv on first use.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
FUNCTIONS := panjaya syncso namirial redner
CARGO ?= cargo

.PHONY: help setup test lint unit run build clean

help:
	@echo "make run    - local SQS + the functions on http://127.0.0.1:9000, one signed sample each"
	@echo "make test   - fmt, clippy, release binaries, unit and end-to-end tests against a local SQS"
	@echo "make build  - release binaries for every function and the hookgate CLI"

$(VENV)/.installed: tools/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

setup: $(VENV)/.installed

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

build:
	$(CARGO) build --release $(addprefix -p ,$(FUNCTIONS)) -p hookgate-cli

test: setup lint build
	scripts/with-sqs.sh $(CARGO) test --workspace

run: setup
	scripts/run-local.sh

clean:
	rm -rf $(VENV) target
