# The two commands (see README.md):
#   make demo   run the function on a sample event against local AWS (moto) and print the secret
#   make test   every check and test; .ci/run calls exactly this
SHELL := /bin/bash
VENV := .venv
# Python tools, pinned: moto (the local AWS), the template linters, cargo-lambda and zig.
PY_TOOLS := moto[server]==5.2.5 aws-sam-cli==1.170.0 cfn-lint==1.58.0 cargo-lambda==1.9.2 ziglang==0.17.1
PY_STAMP := $(VENV)/.tools-$(shell echo '$(PY_TOOLS)' | md5sum | cut -c1-8)
EVENT ?= events/rds-instance-created.json
ENGINE ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export CDK_DISABLE_VERSION_CHECK := true

.PHONY: demo test venv unit deploy-check lambda-arm64 cdk-check

# Python venv with the tools; re-made when the pins change.
$(PY_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(foreach t,$(PY_TOOLS),'$(t)')
	touch $@

venv: $(PY_STAMP)

demo: venv
	cargo build --bins --examples
	ENGINE="$(ENGINE)" ./target/debug/examples/local_invoke $(EVENT)

test: venv
	cargo fmt --all -- --check
	$(MAKE) deploy-check
	cargo clippy --all-targets -- -D warnings
	cargo test
	$(MAKE) cdk-check

# The SAM template, offline: cfn-lint, sam validate --lint, and the transformed template's
# function, rules, DLQs and IAM (tests/deploy/check_template.py).
deploy-check: venv
	cfn-lint template.yaml
	sam validate --lint --template-file template.yaml
	python tests/deploy/check_template.py template.yaml

# The Lambda artifact: target/lambda/db-secret-provisioner/bootstrap (arm64, release profile).
lambda-arm64: venv
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64

# The CDK app, synthesised offline from the arm64 artifact, then checked.
cdk-check: lambda-arm64
	cd cdk && npm ci --no-audit --no-fund && npx tsc && npx cdk synth --quiet --no-notices && node test/check-synth.mjs
