#!/usr/bin/env bash
# The wake-up floor under issue 17's calm p50 target (exec → verdict ≤ 50 µs for a cached identity
# on a calm host). Measures, in the same run and alternating, how soon after an exec three readers
# hold it: a minimal C reader (benchmarks/wakeup-floor/floor.c: real-time, epoll on a BPF ring
# buffer through libbpf, nothing else), the same in Java through the agent's own ring-buffer door
# (WakeupFloor: what the JVM adds), and the agent's exec → verdict. The execs: 500 (CALM_EXECS)
# distinct never-trusted binaries run back to back by the exec-storm harness's driver, as in that
# harness's calm phase. The agent is `bin/veriruntime watch` on its embedded default, warmed as the
# harness warms it (each binary run once, so it is verified and cached; a 30-s storm; idle), and
# read from its latency histogram (bucket deltas, interpolated within a bucket, as the harness
# reads them); the Java reader takes two passes unmeasured first. Root; needs clang, a C compiler,
# libbpf (headers and library) and curl.
#
#   benchmarks/wakeup-floor.sh [PASSES]    # default 3; writes results/wakeup-floor.md
#   WAKEUP_FLOOR_OUT=FILE                  # write the report elsewhere
set -euo pipefail
shopt -s inherit_errexit
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib/agent.sh"
passes="${1:-3}"
calm="${CALM_EXECS:-500}"
out="${WAKEUP_FLOOR_OUT:-$here/results/wakeup-floor.md}"
port=19460
work="$(mktemp -d)"
agent_pid=""
floor_pid=""
cleanup() {
  for pid in "$agent_pid" "$floor_pid"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "wakeup-floor: needs root (loads BPF programs)" >&2; exit 2; }
for tool in clang cc curl java; do
  command -v "$tool" >/dev/null || { echo "wakeup-floor: needs $tool" >&2; exit 2; }
done
tests="$root/ingest/src/test/resources/dev/veriruntime/ingest/testing/exec"
clang -O2 -g -target bpf -idirafter /usr/include/"$(uname -m)"-linux-gnu -c "$here/wakeup-floor/floor.bpf.c" -o "$work/floor.bpf.o"
cc -O2 -Wall -o "$work/floor" "$here/wakeup-floor/floor.c" -lbpf
cc -O2 -o "$work/exec_driver" "$tests/exec_driver.c"
cc -O2 -o "$work/exec_child" "$tests/exec_child.c"
if [ ! -f "$root/cli/target/veriruntime.jar" ] || [ ! -f "$here/target/benchmarks.jar" ]; then
  echo "wakeup-floor: building the jars (mvn -B -q -o -DskipTests package)..." >&2
  (cd "$root" && mvn -B -q -o -DskipTests package >&2)
fi
mkdir "$work/calm" "$work/storm"
# Distinct files, distinct digests: the child with a trailer of its own (the loader ignores it).
for ((i = 0; i < calm; i++)); do
  { cat "$work/exec_child"; echo "wakeup-floor calm $i"; } >"$work/calm/calm-$i"
done
for i in 0 1 2 3; do { cat "$work/exec_child"; echo "wakeup-floor storm $i"; } >"$work/storm/storm-$i"; done
chmod +x "$work"/calm/* "$work"/storm/*
calm_pass() { "$work/exec_driver" each "$work"/calm/calm-* | tail -1 | grep -q "^done $calm 0$"; }

reader_pass() { # $1: c or java; the reader's line into $work/$1.line
  local k warm=0 command=("$work/floor" "$work/floor.bpf.o" "$calm")
  if [ "$1" = java ]; then
    warm=2
    command=(java -cp "$here/target/benchmarks.jar" dev.veriruntime.benchmarks.WakeupFloor "$work/floor.bpf.o" $((warm * calm)) "$calm")
  fi
  calm_pass # the page cache, as for the agent
  "${command[@]}" >"$work/reader.out" &
  floor_pid=$!
  for _ in $(seq 600); do grep -q '^ready' "$work/reader.out" && break; sleep 0.05; done
  grep -q '^ready' "$work/reader.out" || { echo "wakeup-floor: the $1 reader did not attach" >&2; exit 1; }
  for ((k = 0; k <= warm; k++)); do calm_pass; done
  wait "$floor_pid"; floor_pid=""
  grep '^all' "$work/reader.out" >"$work/$1.line"
}

buckets() { # the latency histogram's cumulative buckets: "LE COUNT" per line
  curl -fsS "http://127.0.0.1:$port/metrics" |
    awk -F'le="' '/^veriruntime_exec_verdict_latency_seconds_bucket/ {split($2, a, "\""); n = split($0, f, " "); print a[1], f[n]}'
}
quantiles() { # $1, $2: bucket files before and after; prints "N P50 P90 P99" (µs)
  awk 'NR == FNR {before[$1] = $2; next} {le[++k] = $1; c[k] = $2 - before[$1]}
    function q(p,   rank, i, lo, lc) {
      rank = p * c[k]; lo = 0; lc = 0
      for (i = 1; i <= k; i++) {
        if (c[i] >= rank) return (c[i] == lc ? le[i] : lo + (le[i] - lo) * (rank - lc) / (c[i] - lc)) * 1e6
        lo = le[i]; lc = c[i]
      }
      return lo * 1e6
    }
    END {printf "%d %.1f %.1f %.1f\n", c[k], q(0.5), q(0.9), q(0.99)}' "$1" "$2"
}
agent_pass() { # the agent's "N P50 P90 P99" into $work/agent.line
  rm -rf "$work/state"
  # The launcher ends in `exec java`, so $! is the agent's JVM (it builds the jars on first use).
  "$root/bin/veriruntime" watch --json --metrics-port "$port" --state-dir "$work/state" \
    >"$work/agent.out" 2>"$work/agent.err" &
  agent_pid=$!
  await_watching "$agent_pid" "$work/agent.err" wakeup-floor
  calm_pass # verified once: cached identities from here on
  local storms=()
  for s in "$work"/storm/*; do "$work/exec_driver" storm "$s" 30 1 >/dev/null & storms+=($!); done
  wait "${storms[@]}"
  await_idle "$agent_pid"
  buckets >"$work/before"
  calm_pass
  sleep 0.5
  buckets >"$work/after"
  kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=""
  quantiles "$work/before" "$work/after" >"$work/agent.line"
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
rows=()
for ((p = 1; p <= passes; p++)); do
  # Rotate the order, so drift in the machine's load hits all three.
  order=(c java agent)
  for ((k = 0; k < 3; k++)); do
    r="${order[(k + p - 1) % 3]}"
    if [ "$r" = agent ]; then agent_pass; else reader_pass "$r"; fi
  done
  read -r _ cn c50 c90 c99 _ csn cs50 _ con co50 <"$work/c.line"
  read -r _ jn j50 j90 j99 _ jsn js50 _ jon jo50 <"$work/java.line"
  read -r an a50 a90 a99 <"$work/agent.line"
  rows+=("| $p | $c50 / $c90 / $c99 | $cs50 ($csn) / $co50 ($con) | $j50 / $j90 / $j99 | $js50 ($jsn) / $jo50 ($jon) | $a50 / $a90 / $a99 ($an) | $(cut -d' ' -f1-3 /proc/loadavg) |")
  echo "pass $p: C $(cat "$work/c.line"); Java $(cat "$work/java.line"); agent $(cat "$work/agent.line")" >&2
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
{
  echo "# The wake-up floor under the calm exec → verdict"
  echo
  echo "\`benchmarks/wakeup-floor.sh $passes\`, $started, $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), agent at $(git -C "$root" rev-parse --short HEAD)."
  echo "Load average (1, 5, 15 min) at start: $load_start; at end: $load_end."
  echo
  echo "$calm distinct never-trusted binaries run back to back, per pass under each of three readers in turn (the"
  echo "order rotated each pass). C: from the kernel's exec time to the record in a real-time C reader's callback."
  echo "Java: the same through the agent's \`BpfRingBuffer\` on a real-time Java thread, after two unmeasured passes."
  echo "Both exact percentiles, $calm records each; same / other CPU: the record read on the CPU the exec ran on or on"
  echo "another (records in brackets). Agent: exec → verdict from its histogram (bucket deltas, interpolated;"
  echo "verdicts in brackets: the calm execs and the driver's own), \`watch --json\` on its embedded default. µs."
  echo
  echo "| pass | C p50 / p90 / p99 | C p50 same / other CPU | Java p50 / p90 / p99 | Java p50 same / other CPU | agent p50 / p90 / p99 | load average after |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
} >"$out"
cat "$out"
