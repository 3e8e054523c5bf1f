#!/usr/bin/env bash
# API flood (benchmarks/README.md, "API flood"): hundreds of connections to the control API of
# `bin/veriruntime watch` (half-open, stopped half-way, slow readers that never read) and a flood of
# malformed requests, while health is probed every 100 ms and a new binary is executed. Writes
# benchmarks/results/api-flood.{json,md} unless --out says otherwise; exit status 1 when the exec
# during the flood got no verdict.
#
#   sudo benchmarks/api-flood.sh                          # --seconds 20 --idle 300 --partial 100 --slow-readers 20
#   sudo benchmarks/api-flood.sh --seconds 60 --idle 1000 --out /tmp/flood
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then echo "api-flood: needs root (the agent's probe)" >&2; exit 2; fi
(cd "$root" && { [ -f cli/target/veriruntime.jar ] && [ -f benchmarks/target/benchmarks.jar ]; } \
  || mvn -B -q -DskipTests package >&2)
args=("$@")
[[ " $* " == *" --out "* ]] || args+=(--out "$root/benchmarks/results")
exec java -cp "$root/benchmarks/target/benchmarks.jar" dev.veriruntime.benchmarks.ApiFlood \
  --root "$root" "${args[@]}"
