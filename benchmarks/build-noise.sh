#!/usr/bin/env bash
# Build noise: what a real build looks like to the agent, without and with build lineage
# (benchmarks/README.md, "Build noise"). Builds GNU hello 2.10 (configure, make -j2, make check)
# in fresh trees, alternating: without the agent, under `veriruntime watch` on its embedded default,
# without the agent, under `watch --lineage-root BUILD_DIR`, without the agent (after an unmeasured
# warm-up build; ROUNDS times). Each agent sees two builds in the same tree, a clean rebuild after
# the first: the first is what a freshly started agent costs (every compiler verified for the
# first time, its code not compiled yet), the second what an agent that has run for a while costs,
# the steady state of a build server. Then, in each lineage run, a build output copied with cp and run
# (must be UNKNOWN_EXECUTION) and a build output modified after linking and run (must not be
# trusted). Execs are counted by bpftrace, filtered to a cgroup that holds only the build. Writes
# benchmarks/results/build-noise.md (OUT=FILE elsewhere).
#
#   sudo benchmarks/build-noise.sh [--out FILE] [--rounds N]   # TARBALL=... for another copy of hello 2.10
#
# --rounds N (or ROUNDS=N; default 2) repeats the agent runs; each is timed against the agent-off
# builds just before and after it. --out FILE (or OUT=FILE) writes the report there instead of
# benchmarks/results/build-noise.md. Needs root (the agent's probe, bpftrace, a cgroup), gcc and
# make. bpftrace's tracepoints need tracefs: it is mounted in a private mount namespace of
# bpftrace's own, never on the host.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
tarball=${TARBALL:-$root/../shared/testdata/hello_2.10.orig.tar.gz}
[ -f "$tarball" ] || tarball=/work/shared/testdata/hello_2.10.orig.tar.gz
out=${OUT:-$root/benchmarks/results/build-noise.md}
rounds=${ROUNDS:-2}
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || { echo "build-noise: --out needs a file" >&2; exit 2; }; out=$2; shift 2 ;;
    --rounds)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "build-noise: --rounds needs a positive number" >&2; exit 2; }
      rounds=$2; shift 2 ;;
    -h|--help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0 ;;
    *) echo "build-noise: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "build-noise: needs root (probe, bpftrace, cgroup)" >&2
  exit 2
fi
for tool in gcc make java python3; do
  command -v "$tool" >/dev/null || { echo "build-noise: $tool not found" >&2; exit 2; }
done
[ -f "$tarball" ] || { echo "build-noise: no $tarball" >&2; exit 2; }

work=$(mktemp -d /tmp/vr-build-noise.XXXXXX)
cgroot=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && cgroot=/sys/fs/cgroup
cg="$cgroot/vr-build-noise.$$"
mkdir "$cg"
agent_pid=""
counter_pid=""
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  [ -n "$counter_pid" ] && kill -INT "$counter_pid" 2>/dev/null || true
  for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 1
  rmdir "$cg" 2>/dev/null || true
}
trap cleanup EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "build-noise: work directory $work, load average $load_start" >&2
(cd "$root" && [ -f cli/target/veriruntime.jar ] || mvn -B -q -DskipTests package >&2)

# bpftrace counting the execs of the build's cgroup; prints "@execs: N" when stopped.
start_counter() { # $1: output file
  local script="BEGIN { printf(\"ready\\n\"); } tracepoint:sched:sched_process_exec /cgroup == cgroupid(\"$cg\")/ { @execs = count(); }"
  unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing && exec bpftrace -e "$0"' "$script" >"$1" 2>&1 &
  counter_pid=$!
  for _ in $(seq 300); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "build-noise: bpftrace did not start: $(cat "$1")" >&2
  kill "$counter_pid" 2>/dev/null || true
  counter_pid=""
}
stop_counter() { # $1: output file; sets $execs to the count or n/a (not in a subshell: wait)
  execs=n/a
  [ -n "$counter_pid" ] || return 0
  # bpftrace prints its maps and exits on SIGINT; it has been seen to miss one, so TERM follows.
  kill -INT "$counter_pid"
  for _ in $(seq 50); do kill -0 "$counter_pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$counter_pid" 2>/dev/null || true
  wait "$counter_pid" 2>/dev/null || true
  counter_pid=""
  execs=$(sed -n 's/^@execs: \([0-9]*\)$/\1/p' "$1" | tail -1)
  execs=${execs:-0}
}

# One build of hello in $1 inside the cgroup; prints the wall time in seconds.
build() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir"
  tar -xzf "$tarball" -C "$dir" --strip-components=1
  local t0 t1
  t0=$(date +%s.%N)
  sh -c 'echo $$ > "$1/cgroup.procs" && cd "$2" && ./configure -q >configure.log 2>&1 && make -j2 >make.log 2>&1 && make check >check.log 2>&1' sh "$cg" "$dir"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}

start_agent() { # $1: name; rest: extra watch arguments
  local name=$1; shift
  mkdir -p "$work/$name-state"
  "$root/bin/veriruntime" watch --json --no-api --state-dir "$work/$name-state" "$@" \
    >"$work/$name.json" 2>"$work/$name.err" &
  agent_pid=$!
  for _ in $(seq 1200); do
    grep -q "watching (pid" "$work/$name.err" 2>/dev/null && {
      cpu_seconds >"$work/$name.cpu-start"; thread_ticks >"$work/$name.threads-start"; return 0; }
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "build-noise: the agent did not start: $(cat "$work/$name.err")" >&2
  exit 1
}
cpu_seconds() { # the agent's CPU seconds so far (all its threads, JIT and GC included)
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$agent_pid/stat"
}
thread_ticks() { # per thread name (numbered pool threads together): CPU clock ticks so far
  for t in /proc/"$agent_pid"/task/*; do
    printf '%s %s\n' "$(tr ' ' _ <"$t/comm" | sed 's/-[0-9]*$//')" "$(awk '{print $14 + $15}' "$t/stat")"
  done 2>/dev/null | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}'
}
stop_agent() { # $1: name; keeps the agent's CPU seconds (start-up included) in $work/NAME.cpu
  sleep 12 # one aggregation window (10 s) so folded repeats are flushed with their counts
  cpu_seconds >"$work/$1.cpu"
  kill -TERM "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
  agent_pid=""
}

results=()
run() { # $1: name, $2: agent mode (off|default|lineage)
  local name=$1 mode=$2 dir="$work/$1" secs execs first=n/a
  mkdir -p "$dir" # the lineage root must exist when the agent starts
  case $mode in
    default) start_agent "$name" ;;
    lineage) start_agent "$name" --lineage-root "$dir" ;;
  esac
  if [ "$mode" != off ]; then
    # The agent's first build; the measured one below is the clean rebuild after it.
    first=$(build "$dir")
    cpu_seconds >"$work/$name.cpu-first"; thread_ticks >"$work/$name.threads-start"
    echo "build-noise: $name ($mode): first build under the agent ${first} s" >&2
  fi
  start_counter "$work/$name.bpftrace"
  date +%s.%N >"$work/$name.t-measured"
  secs=$(build "$dir")
  stop_counter "$work/$name.bpftrace"
  if [ "$mode" != off ]; then cpu_seconds >"$work/$name.cpu-built"; thread_ticks >"$work/$name.threads-built"; fi
  echo "build-noise: $name ($mode): ${secs} s, $execs execs" >&2
  if [ "$mode" = lineage ]; then
    # The cp and the patch after linking, in the same agent run and the same root.
    (cd "$dir" && ./hello >/dev/null && cp hello hello-copy && ./hello-copy >/dev/null \
      && printf '\0' >> hello && ./hello >/dev/null && sha256sum hello | cut -d' ' -f1 >"$work/$name.patched")
  fi
  if [ "$mode" != off ]; then stop_agent "$name"; fi
  results+=("$name $mode $secs $execs $first")
}

# A first build warms the page cache (the tarball, the compiler, the headers); it is not measured.
echo "build-noise: warm-up build: $(build "$work/warm-up") s" >&2
n=0
run "off-$((n += 1))" off
for r in $(seq "$rounds"); do
  run "watch-default-$r" default
  run "off-$((n += 1))" off
  run "watch-lineage-$r" lineage
  run "off-$((n += 1))" off
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work" "$out" "$load_start" "$load_end" "$tarball" "$(getconf CLK_TCK)" "${results[@]}" <<'EOF'
import json, os, sys, platform, datetime
work, out, load_start, load_end, tarball, hz = sys.argv[1:7]
runs = [r.split() for r in sys.argv[7:]]  # name mode seconds execs first-build-seconds
def thread_cpu(name):  # the threads that used the most CPU during the build: "name 1.2 s"
    def read(suffix):
        t = {}
        for line in open(os.path.join(work, name + suffix)):
            k, v = line.split()
            t[k] = int(v)
        return t
    a, b = read(".threads-start"), read(".threads-built")
    d = sorted(((b[k] - a.get(k, 0)) / int(hz), k) for k in b)
    return ", ".join(f"{k} {v:.1f}" for v, k in reversed(d[-6:]) if v >= 0.05)
def events(name):  # the events first seen during the measured build or after it
    since = datetime.datetime.fromtimestamp(float(open(os.path.join(work, name + ".t-measured")).read()), datetime.timezone.utc)
    evs = []
    for line in open(os.path.join(work, name + ".json")):
        if line.startswith("{"):
            e = json.loads(line)
            seen = datetime.datetime.fromisoformat((e.get("firstSeen") or e["time"])[:26].rstrip("Z") + "+00:00")
            if seen >= since:
                evs.append(e)
    return evs
rows, checks, lineage_notes = [], [], {}
secs = {r[0]: float(r[2]) for r in runs}
order = [r[0] for r in runs]
def neighbours(name):
    i = order.index(name)
    return [secs[order[j]] for j in (i - 1, i + 1) if 0 <= j < len(order) and order[j].startswith("off-")]
ratios, first_ratios = {}, {}
for name, mode, s, execs, first in runs:
    if mode == "off":
        continue
    build_dir = os.path.join(work, name) + "/"
    evs = events(name)
    patched = open(os.path.join(work, name + ".patched")).read().strip() if mode == "lineage" else None
    post = lambda e: (e.get("exe") or {}).get("path") == build_dir + "hello-copy" or (
        (e.get("exe") or {}).get("path") == build_dir + "hello" and (e.get("exe") or {}).get("sha256") == patched)
    from_build = [e for e in evs if (e.get("exe") or {}).get("path", "").startswith(build_dir) and not (mode == "lineage" and post(e))]
    occurrences = sum(int(e.get("count", 1)) for e in from_build)
    by_type = {}
    for e in from_build:
        by_type[e["type"]] = by_type.get(e["type"], 0) + 1
    per_k = "n/a" if execs in ("n/a", "0") else f"{1000 * len(from_build) / int(execs):.1f}"
    near = neighbours(name)
    off = sum(near) / len(near)
    ratios.setdefault(mode, []).append(off / float(s))
    first_ratios.setdefault(mode, []).append(off / float(first))
    cpu = open(os.path.join(work, name + ".cpu")).read().strip()
    cpu_start = float(open(os.path.join(work, name + ".cpu-start")).read())
    cpu_first = float(open(os.path.join(work, name + ".cpu-first")).read())
    during = float(open(os.path.join(work, name + ".cpu-built")).read()) - cpu_first
    cpu_k = "n/a" if execs in ("n/a", "0") else f"{1000 * during / int(execs):.2f}"
    rows.append((name, mode, execs, len(from_build), occurrences, per_k, by_type, len(evs), first, f"{off / float(first):.2f}",
                 f"{cpu_first - cpu_start:.1f}", s, f"{off / float(s):.2f}", f"{cpu_start:.1f}", f"{during:.1f}", cpu_k, f"{float(cpu):.1f}"))
    if mode == "lineage":
        copy = [e for e in evs if (e.get("exe") or {}).get("path") == build_dir + "hello-copy"]
        mod = [e for e in evs if (e.get("exe") or {}).get("path") == build_dir + "hello" and (e.get("exe") or {}).get("sha256") == patched]
        checks.append((name + ": cp of a build output, run", "UNKNOWN_EXECUTION", ", ".join(sorted({e["type"] for e in copy})) or "no event",
                       bool(copy) and all(e["type"] == "UNKNOWN_EXECUTION" for e in copy)))
        checks.append((name + ": build output modified after linking, run", "not trusted (an event)", ", ".join(sorted({e["type"] for e in mod})) or "no event (trusted!)", bool(mod)))
        for dirpath, _, files in os.walk(os.path.join(work, name + "-state")):
            for f in files:
                if f.endswith(".jsonl"):
                    for line in open(os.path.join(dirpath, f)):
                        rec = json.loads(line)
                        if rec.get("kind") == "note" and rec["note"].get("topic") == "lineage":
                            o = rec["note"]["detail"].get("outcome")
                            lineage_notes[o] = lineage_notes.get(o, 0) + 1
with open(out, "w") as f:
    w = lambda s="": f.write(s + "\n")
    w("# Build noise: GNU hello 2.10 under `veriruntime watch`, without and with build lineage")
    w()
    w(f"Generated by `benchmarks/build-noise.sh` on {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')} UTC, "
      f"{platform.node()}, {os.cpu_count()} CPUs, kernel {platform.release()}. Load average at start {load_start}, "
      f"at end {load_end} (a shared development machine: other sessions build and test at the same time, so "
      "wall times are noisy; the ratio compares builds of the same run, alternating).")
    w()
    w(f"Source: `{os.path.basename(tarball)}`; each build is `./configure && make -j2 && make check` in a fresh tree, "
      "inside a cgroup of its own; execs are counted by bpftrace on `sched_process_exec` filtered to that cgroup. "
      "\"From the build\" are the events whose executable lies in the build tree (conftest programs, the build's "
      "helpers, the product); events are the lines the agent printed (`--json`), occurrences add up their `count`.")
    w()
    w("| run | agent | execs | events from the build | occurrences | events per 1,000 execs | by type | all events (host) | first build under the agent (s) | its time off ÷ on | agent CPU in it (s) | measured build (s) | time off ÷ on | agent CPU: start-up (s) | during the measured build (s) | during it per 1,000 execs (s) | in all (s) |")
    w("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, mode, execs, n, occ, per_k, by_type, total, first, first_ratio, cpu_first, s, ratio, cpu_start, during, cpu_k, cpu in rows:
        agent = "`watch` (embedded default)" if mode == "default" else "`watch --lineage-root BUILD`"
        types = ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())) or "none"
        w(f"| {name} | {agent} | {execs} | {n} | {occ} | {per_k} | {types} | {total} | {first} | {first_ratio} | {cpu_first} | {s} | {ratio} | {cpu_start} | {during} | {cpu_k} | {cpu} |")
    w()
    w("| run | agent CPU during the measured build by thread (s; names cut to 15 characters by the kernel; threads that ended meanwhile, e.g. pool threads idle for 60 s, are missing here but counted in the CPU above) |")
    w("|---|---|")
    for r in rows:
        w(f"| {r[0]} | {thread_cpu(r[0])} |")
    w()
    w("Each agent sees two builds in the same tree: its first (every compiler and tool verified for the first "
      "time, the agent's own code still being compiled by the JIT) and the measured one, a clean rebuild right "
      "after it (an agent that has run for a while: the steady state of a build server). Execs, events and the "
      "measured columns are those of the measured build; events count when first seen during it or after it. "
      "Agent CPU: all its threads (JIT compiler and GC included), read from `/proc/PID/stat`: at \"watching\" "
      "(start-up: package database, start-up scan, lineage's toolchain verification), in the first build, "
      "during the measured build (the agent sees the whole host: other sessions' processes count too), and in "
      "all (until it is stopped one aggregation window after the measured build). Per 1,000 execs divides the "
      "CPU during the measured build by its execs.")
    w()
    offs = [f"{k} {v} s" for k, v in secs.items() if k.startswith("off-")]
    w("Builds without the agent: " + ", ".join(offs) + ". The \"off\" of each ratio is the mean of the agent-off builds "
      "just before and just after that run (a warm-up build before them all is not measured).")
    w()
    import statistics
    for mode, rs in ratios.items():
        label = "embedded default" if mode == "default" else "with the lineage root"
        fr = first_ratios[mode]
        w(f"- Build time off ÷ on, {label}: median {statistics.median(rs):.2f} over {len(rs)} run(s) ({', '.join(f'{x:.2f}' for x in rs)}); "
          f"the agent's first build {statistics.median(fr):.2f} ({', '.join(f'{x:.2f}' for x in fr)}).")
    w()
    w("Same run, lineage root on the build tree, after `make check`:")
    w()
    w("| check | expected | got | ok |")
    w("|---|---|---|---|")
    for what, want, got, ok in checks:
        w(f"| {what} | {want} | {got} | {'yes' if ok else 'NO'} |")
    w()
    w("Lineage decisions written to the evidence journal in the lineage runs (one note per file identity and outcome; all rounds together): "
      + (", ".join(f"{k} {v}" for k, v in sorted(lineage_notes.items())) or "none") + ".")
print(open(out).read())
EOF
echo "build-noise: results in $out; work files in $work" >&2
