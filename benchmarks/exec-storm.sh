#!/usr/bin/env bash
# The end-to-end exec-storm harness in one command (see benchmarks/README.md, "Exec storm").
# Builds the jars if they are missing, then runs dev.veriruntime.benchmarks.ExecStorm as root.
# Options pass through: --seconds S --pairs N --binaries K --workers W --port P --out DIR,
# and --peer CMD --peer-setup CMD --peer-teardown CMD for a peer comparison (README: fapolicyd).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
if [ "$(id -u)" -ne 0 ]; then
  echo "exec-storm: needs root (the agent loads its eBPF probe)" >&2
  exit 2
fi
for tool in gcc openssl java; do
  command -v "$tool" >/dev/null || { echo "exec-storm: $tool not found" >&2; exit 2; }
done
if [ ! -f pipeline/target/veriruntime.jar ] || [ ! -f benchmarks/target/benchmarks.jar ]; then
  echo "exec-storm: building the jars (mvn -B -q -o -DskipTests package)..." >&2
  mvn -B -q -o -DskipTests package >&2
fi
recorded="benchmarks/exec-storm.sh"
for arg in "$@"; do recorded+=" $(printf '%q' "$arg")"; done
exec java -Xmx512m -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.ExecStorm \
  --root "$root" --agent-jar pipeline/target/veriruntime.jar --out benchmarks/results \
  --command "$recorded" "$@"
