#!/usr/bin/env bash
# Unique-binaries storm (benchmarks/README.md, "Unique-binaries storm"): every exec a binary never
# seen before, at the machine's maximum, under `bin/veriruntime watch` (its default configuration:
# journal, start-up scan and control API on). Writes benchmarks/results/unique-storm.{json,md}
# unless --out says otherwise; the exit status is 1 when an exec the agent read went unanswered or
# the driver's execs exceed what the agent read plus what the kernel counted as lost.
#
#   sudo benchmarks/unique-storm.sh                       # --execs 20000 --workers 4
#   sudo benchmarks/unique-storm.sh --execs 50000 --workers 8 --out /tmp/us
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "unique-storm: needs root (the agent's probe)" >&2; exit 2; fi
(cd "$root" && { [ -f cli/target/veriruntime.jar ] && [ -f benchmarks/target/benchmarks.jar ]; } \
  || mvn -B -q -DskipTests package >&2)
args=("$@")
[[ " $* " == *" --out "* ]] || args+=(--out "$root/benchmarks/results")
exec java -cp "$root/benchmarks/target/benchmarks.jar" dev.veriruntime.benchmarks.UniqueStorm \
  --root "$root" "${args[@]}"
