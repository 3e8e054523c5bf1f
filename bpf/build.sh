#!/usr/bin/env bash
# Compiles the probe into bpf/veriruntime.bpf.o (or into the directory given as $1).
# Deterministic: the same sources and clang 14 give the same bytes wherever the repository is
# cloned. Sources are compiled by relative path from bpf/ (no absolute path enters .BTF.ext line
# info), -fdebug-prefix-map hides the working directory from DWARF, and DWARF is stripped
# afterwards (-g is needed only to make clang emit .BTF/.BTF.ext, which llvm-strip -g keeps).
set -euo pipefail
cd "$(dirname "$0")"
out_dir="${1:-.}"
mkdir -p "$out_dir"
out="$(cd "$out_dir" && pwd)/veriruntime.bpf.o"

CLANG="${CLANG:-clang}"
LLVM_STRIP="${LLVM_STRIP:-llvm-strip}"
arch="$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')"

"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_"$arch" \
  -I. -idirafter /usr/include/"$(uname -m)"-linux-gnu \
  -fdebug-prefix-map="$PWD"=. -fno-ident \
  -Wall -Werror \
  -c veriruntime.bpf.c -o "$out"
"$LLVM_STRIP" -g "$out"
echo "built $out"
