#!/usr/bin/env bash
# The one test command: sets up what the tests need on a fresh machine (a
# project-local Python venv with moto, cfn-lint, schemathesis and the SAM CLI), then
# runs every check.
# Tests start and stop their own moto_server; if it cannot start, they fail. Last,
# tests/fuzz.sh fuzzes the local host against its OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
SCHEMATHESIS_VERSION=4.32.5
SAM_CLI_VERSION=1.170.0

step() { printf '\n==> %s\n' "$*"; }

installed() { .venv/bin/pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
if [ "$(installed moto)" != "$MOTO_VERSION" ] || [ "$(installed cfn-lint)" != "$CFN_LINT_VERSION" ] \
  || [ "$(installed schemathesis)" != "$SCHEMATHESIS_VERSION" ] \
  || [ "$(installed aws-sam-cli)" != "$SAM_CLI_VERSION" ]; then
  step "creating .venv with moto[server]==$MOTO_VERSION, cfn-lint==$CFN_LINT_VERSION, schemathesis==$SCHEMATHESIS_VERSION and aws-sam-cli==$SAM_CLI_VERSION"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
    "aws-sam-cli==$SAM_CLI_VERSION"
fi
# Fail here, clearly, rather than in forty tests, if moto cannot run at all.
.venv/bin/moto_server --help >/dev/null

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cfn-lint infra/template.yaml"
.venv/bin/cfn-lint infra/template.yaml

# SAM's own checks (the transform, then its linter) on the source template. Offline:
# no credentials or network are needed, only a region to transform for.
step "sam validate --lint"
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 \
  .venv/bin/sam validate --lint --template infra/template.yaml

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "schemathesis against agencyops serve --demo (tests/fuzz.sh)"
bash tests/fuzz.sh
