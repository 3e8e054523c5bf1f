#!/usr/bin/env bash
# Runs JMH benchmarks (default: all of them; or the class-name patterns given) with the settings of
# AbstractBenchmark, then writes benchmarks/results/jmh.md (scores, throughput, ratio to each
# class's baseline, machine and load average) with JmhReport. See benchmarks/README.md.
#   benchmarks/jmh.sh                                   # every benchmark
#   benchmarks/jmh.sh CacheHitBenchmark ElfParseBenchmark
# JMH_OUT=FILE sets the markdown file (default benchmarks/results/jmh.md); JMH's own JSON goes
# beside it (jmh.json), so the page can be rendered again with JmhReport.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
if [ ! -f benchmarks/target/benchmarks.jar ]; then
  echo "jmh: building benchmarks/target/benchmarks.jar..." >&2
  mvn -B -q -o -pl benchmarks -am -DskipTests package >&2
fi
out=${JMH_OUT:-benchmarks/results/jmh.md}
json=${out%.md}.json
mkdir -p "$(dirname "$out")"
recorded="benchmarks/jmh.sh"
for arg in "$@"; do recorded+=" $(printf '%q' "$arg")"; done
start=$(cut -d' ' -f1-3 /proc/loadavg)
java -jar benchmarks/target/benchmarks.jar -rf json -rff "$json" "$@"
java -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.JmhReport \
  --json "$json" --out "$out" --loadavg-start "$start" --command "$recorded"
