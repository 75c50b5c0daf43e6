#!/usr/bin/env bash
# Builds every Lambda function as SAM deploys it (`cargo lambda build --release`, one
# `bootstrap` per function, zipped with the bootstrap at the root) and prints a
# markdown table of the zipped sizes, flagging any over the 4 MiB goal.
#
#   bash infra/package.sh              # every function
#   bash infra/package.sh intake time  # just these binaries
#
# cargo-lambda and zig (its linker) come from PyPI into the project venv, pinned.
# arm64 (what the template deploys by default) needs the rustup target
# aarch64-unknown-linux-gnu; without it the script builds x86-64 and says so: deploy
# that with `--parameter-overrides Architecture=x86_64`. ARCH=arm64|x86_64 forces one.
# Zips land in $CARGO_TARGET_DIR/lambda/<function>/bootstrap.zip (default target/).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.14.1
GOAL_BYTES=$((4 * 1024 * 1024))

installed() { .venv/bin/pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }
if [ "$(installed cargo-lambda)" != "$CARGO_LAMBDA_VERSION" ] \
  || [ "$(installed ziglang)" != "$ZIGLANG_VERSION" ]; then
  echo "installing cargo-lambda==$CARGO_LAMBDA_VERSION and ziglang==$ZIGLANG_VERSION into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
# cargo-lambda finds zig as `python3 -m ziglang`, so the venv's python must come first.
export PATH="$PWD/.venv/bin:$PATH"

if [ -z "${ARCH:-}" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    ARCH=arm64
  else
    ARCH=x86_64
    echo "note: rustup target aarch64-unknown-linux-gnu is not installed; building x86-64." >&2
    echo "      Deploy with --parameter-overrides Architecture=x86_64 (or install the target:" >&2
    echo "      rustup target add aarch64-unknown-linux-gnu)." >&2
  fi
fi
case "$ARCH" in
  arm64) arch_flag=--arm64 ;;
  x86_64) arch_flag=--x86-64 ;;
  *) echo "ARCH must be arm64 or x86_64, not '$ARCH'" >&2; exit 2 ;;
esac

bins=()
for b in "$@"; do bins+=(--bin "$b"); done

target_dir="${CARGO_TARGET_DIR:-target}"
started=$SECONDS
cargo lambda build --release "$arch_flag" --locked --output-format zip "${bins[@]}"
echo "built in $((SECONDS - started)) s ($ARCH)" >&2

mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
over=0
echo
echo "| Function | Zipped (MiB) | Unzipped (MiB) | ≤ 4 MiB |"
echo "|---|---:|---:|:---:|"
for zip in "$target_dir"/lambda/*/bootstrap.zip; do
  name="$(basename "$(dirname "$zip")")"
  if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  zipped=$(stat -c %s "$zip")
  unzipped=$(python3 -c 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))' "$zip")
  ok=yes
  if [ "$zipped" -gt "$GOAL_BYTES" ]; then ok="**no**"; over=$((over + 1)); fi
  echo "| $name | $(mib "$zipped") | $(mib "$unzipped") | $ok |"
done
echo
if [ "$over" -gt 0 ]; then
  echo "$over function(s) over the 4 MiB goal" >&2
fi
