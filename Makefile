# The two commands (see README.md):
#   make demo   run the function on a sample event against local AWS (moto) and print the secret
#   make test   every check and test; .ci/run calls exactly this
SHELL := /bin/bash
VENV := .venv
MOTO_VERSION := 5.2.5
EVENT ?= events/rds-instance-created.json
ENGINE ?=

.PHONY: demo test venv

# Python venv with moto (the local AWS). Re-made when the pinned version changes.
$(VENV)/.moto-$(MOTO_VERSION):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'
	touch $@

venv: $(VENV)/.moto-$(MOTO_VERSION)

demo: venv
	cargo build --bins --examples
	ENGINE="$(ENGINE)" ./target/debug/examples/local_invoke $(EVENT)

test: venv
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo test
