#!/bin/sh
# Rebuilds the committed test fixture object used by the libbpf binding tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../resources/dev/veriruntime/ingest/kernel/ringbuf_fixture.bpf.o"
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
  -c "$here/ringbuf_fixture.bpf.c" -o "$out"
llvm-strip -g "$out" 2>/dev/null || true
echo "wrote $out"
