#!/usr/bin/env bash
# Fails when the committed bpf/veriruntime.bpf.o no longer matches its sources: rebuilds the probe
# into a temporary directory with bpf/build.sh and compares the bytes.
# Without clang the check cannot run: outside CI it is skipped with a message; with CI set (CI
# machines must be able to build the probe) a missing clang is a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/veriruntime.bpf.o"

if ! command -v "${CLANG:-clang}" >/dev/null 2>&1 || ! command -v "${LLVM_STRIP:-llvm-strip}" >/dev/null 2>&1; then
  if [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; then
    echo "check-object: FAILED: clang/llvm-strip not found, and CI=$CI requires the probe check" >&2
    exit 1
  fi
  echo "check-object: SKIPPED: clang/llvm-strip not found (install clang and llvm to check bpf/veriruntime.bpf.o)" >&2
  exit 0
fi

if [ ! -f "$committed" ]; then
  echo "check-object: FAILED: $committed is missing; run bpf/build.sh and commit it" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$here/build.sh" "$tmp" >/dev/null
if ! cmp -s "$committed" "$tmp/veriruntime.bpf.o"; then
  echo "check-object: FAILED: bpf/veriruntime.bpf.o does not match its sources" \
       "(committed sha256 $(sha256sum < "$committed" | cut -c1-16), rebuilt $(sha256sum < "$tmp/veriruntime.bpf.o" | cut -c1-16))." \
       "Run bpf/build.sh and commit the object together with the source change." >&2
  exit 1
fi
echo "check-object: OK: bpf/veriruntime.bpf.o matches its sources ($("${CLANG:-clang}" --version | head -1))"
