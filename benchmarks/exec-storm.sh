#!/usr/bin/env bash
# The end-to-end exec-storm harness in one command (see benchmarks/README.md, "Exec storm").
# Builds the jars if they are missing, then runs dev.veriruntime.benchmarks.ExecStorm as root.
# Options pass through: --seconds S --pairs N --binaries K --workers W --port P --out DIR,
# --rate max,500,1000 (load levels), --agent-args ARGS (repeatable: one agent configuration each),
# --no-oracle (no bpftrace), and --peer CMD --peer-setup CMD --peer-teardown CMD for a peer
# comparison (README: fapolicyd). Without --out, the results go to benchmarks/results and the
# exec-storm section of README.md is rewritten with them.
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
if [ ! -f cli/target/veriruntime.jar ] || [ ! -f benchmarks/target/benchmarks.jar ]; then
  echo "exec-storm: building the jars (mvn -B -q -o -DskipTests package)..." >&2
  mvn -B -q -o -DskipTests package >&2
fi
recorded="benchmarks/exec-storm.sh"
defaults=(--out benchmarks/results --readme README.md)
for arg in "$@"; do
  recorded+=" $(printf '%q' "$arg")"
  case "$arg" in --out|--out=*) defaults=() ;; esac
done
command -v bpftrace >/dev/null || echo "exec-storm: bpftrace not found: no independent exec count (apt-get install -y bpftrace)" >&2
exec java -Xmx512m -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.ExecStorm \
  --root "$root" --agent bin/veriruntime "${defaults[@]}" \
  --command "$recorded" "$@"
