#!/usr/bin/env bash
# Soak: `veriruntime watch` for a long time under a mixed load, sampled each minute
# (benchmarks/README.md, "Soak"). The load, all at nice 10 so the agent competes as it would on a
# busy host:
#   - a build loop: GNU hello 2.10 (configure, make -j2, make check) in a fresh temporary tree, again
#     and again;
#   - a storm every --storm-every: --storm-unique fresh binaries (never executed before, each its own
#     digest) executed once each by 4 workers, then 10 s of 4 workers executing 4 fixed binaries as
#     fast as they can;
#   - a long-running patched process: two int3 bytes written into its code through /proc/PID/mem at
#     the start (the agent reports it; re-attestation sees it again every period);
#   - package installs every --install-every: `dpkg -i` of a locally built package
#     (veriruntime-soak-fixture, one small binary under /usr/lib/veriruntime-soak-fixture/),
#     alternating two versions with different bytes, the installed binary run after each install;
#     the package is purged at the end.
# Every --interval (default 60 s) benchmarks/soak/sample.sh appends one row to soak.csv: RSS, peak
# RSS, heap after a full GC (jcmd GC.run, then GC.heap_info), metaspace, threads, file descriptors, the
# BPF maps the agent holds (entries of each, in bpf-maps.csv), journal size, CPU time, health-call
# latency over the API socket, the agent's exec/verdict/drop/loss counters and the load counters.
# At the end: SIGTERM, `journal verify` of the state directory, and SoakReport renders soak.svg
# (JFreeChart, SVG by Batik) and soak.md (each series' slope over the last 30 minutes).
#
#   sudo benchmarks/soak/soak.sh                       # one hour → benchmarks/results/soak/
#   sudo benchmarks/soak/soak.sh --duration 24h --out /var/tmp/soak-day
#   sudo benchmarks/soak/soak.sh --duration 10m --storm-every 2m --install-every 3m --out /tmp/soak
#
# The agent runs from a snapshot of bin/ and cli/target/veriruntime.jar in the work directory, so a
# rebuild of the worktree during a day-long run cannot replace the jar under the running JVM; the
# launcher's default JVM options apply. Needs root, gcc, make, dpkg-deb, jcmd (the JDK),
# bpftool, curl and jq.
set -euo pipefail
# VERIRUNTIME_ROOT: the worktree, when this script runs from a copy (editing a running bash script
# changes what it executes).
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=${VERIRUNTIME_ROOT:-$(cd "$here/../.." && pwd)}

duration=1h interval=60 storm_every=5m install_every=10m storm_unique=2000
out="$root/benchmarks/results/soak"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --storm-every) storm_every=$2; shift 2 ;;
    --storm-unique) storm_unique=$2; shift 2 ;;
    --install-every) install_every=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "soak: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
seconds() { # 90, 90s, 5m, 1h, 1d → seconds
  local v=$1
  case "$v" in
    *d) echo $(( ${v%d} * 86400 )) ;; *h) echo $(( ${v%h} * 3600 )) ;;
    *m) echo $(( ${v%m} * 60 )) ;; *s) echo "${v%s}" ;; *) echo "$v" ;;
  esac
}
duration_s=$(seconds "$duration"); storm_s=$(seconds "$storm_every"); install_s=$(seconds "$install_every")
interval=$(seconds "$interval")
if [ "$(id -u)" -ne 0 ]; then echo "soak: needs root (the agent's probe, dpkg)" >&2; exit 2; fi
for tool in gcc make dpkg-deb dpkg jcmd bpftool curl jq java; do
  command -v "$tool" >/dev/null || { echo "soak: $tool not found" >&2; exit 2; }
done
tarball=$root/../shared/testdata/hello_2.10.orig.tar.gz
[ -f "$tarball" ] || tarball=/work/shared/testdata/hello_2.10.orig.tar.gz
[ -f "$tarball" ] || { echo "soak: no hello_2.10.orig.tar.gz in ../shared/testdata" >&2; exit 2; }

(cd "$root" && { [ -f cli/target/veriruntime.jar ] && [ -f benchmarks/target/benchmarks.jar ]; } \
  || mvn -B -q -DskipTests package >&2)
mkdir -p "$out"
work=$(mktemp -d /var/tmp/veriruntime-soak.XXXXXX)
mkdir -p "$work/dist/bin" "$work/dist/cli/target" "$work/bin" "$work/state" "$work/counters"
cp "$root/bin/veriruntime" "$work/dist/bin/"
cp "$root/cli/target/veriruntime.jar" "$work/dist/cli/target/"
exec_dir="$root/ingest/src/test/resources/dev/veriruntime/ingest/testing/exec"
gcc -O2 -o "$work/bin/exec_driver" "$exec_dir/exec_driver.c"
gcc -O2 -o "$work/bin/unique_driver" "$root/benchmarks/unique-storm/unique_driver.c"
gcc -O2 -o "$work/bin/long_patched" "$root/benchmarks/soak/long_patched.c"
gcc -O2 -o "$work/bin/patcher" "$root/verifier/src/test/resources/scenarios/patcher.c"
gcc -O2 -o "$work/bin/child" "$exec_dir/exec_child.c"
for i in 0 1 2 3; do cp "$work/bin/child" "$work/bin/child-$i"; printf 'fixed-%d' "$i" >>"$work/bin/child-$i"; done

# The package fixture: two versions of one tiny binary.
for v in 1 2; do
  d="$work/deb-$v"
  mkdir -p "$d/DEBIAN" "$d/usr/lib/veriruntime-soak-fixture"
  cp "$work/bin/child" "$d/usr/lib/veriruntime-soak-fixture/fixture"
  printf 'version-%d' "$v" >>"$d/usr/lib/veriruntime-soak-fixture/fixture"
  cat >"$d/DEBIAN/control" <<EOF
Package: veriruntime-soak-fixture
Version: 1.$v
Architecture: all
Maintainer: VeriRuntime soak <soak@localhost>
Description: test fixture of the VeriRuntime soak harness (safe to remove)
EOF
  dpkg-deb --root-owner-group -b "$d" "$work/fixture-$v.deb" >/dev/null
done

pids=()
agent_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  dpkg --purge veriruntime-soak-fixture >/dev/null 2>&1 || true
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(( 20000 + RANDOM % 20000 ))
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "soak: work directory $work, $duration_s s, load average $load_start" >&2
"$work/dist/bin/veriruntime" watch --json --state-dir "$work/state" --socket "$work/api.sock" \
  --metrics-port "$port" >"$work/agent.jsonl" 2>"$work/agent.err" &
agent_pid=$!
for _ in $(seq 600); do grep -q 'veriruntime: watching' "$work/agent.err" 2>/dev/null && break; sleep 0.5; done
grep -q 'veriruntime: watching' "$work/agent.err" || { echo "soak: the agent did not start:" >&2; cat "$work/agent.err" >&2; exit 1; }
started=$(date +%s)
end=$(( started + duration_s ))

# The long-running patched process.
"$work/bin/long_patched" >"$work/patched.out" &
patched_pid=$!
pids+=("$patched_pid")
for _ in $(seq 50); do [ -s "$work/patched.out" ] && break; sleep 0.1; done
addr=$(awk '{print $3}' "$work/patched.out")
"$work/bin/patcher" procmem "$patched_pid" "$addr" >"$work/patcher.out"

# The build loop.
setsid nice -n 10 bash -c '
  n=0
  while true; do
    n=$((n + 1)); d="$1/build"; rm -rf "$d"; mkdir -p "$d"
    if tar -xzf "$2" -C "$d" --strip-components=1 && cd "$d" && ./configure -q >/dev/null 2>&1 \
       && make -j2 >/dev/null 2>&1 && make check >/dev/null 2>&1; then
      echo ok >>"$1/counters/builds"
    else
      echo failed >>"$1/counters/builds"
    fi
    cd /
  done' soak-build "$work" "$tarball" &
pids+=("$!")

# The storms: fresh unique binaries (numbered on from the last storm, never reused), then fixed ones.
setsid nice -n 10 bash -c '
  w=$1; first=0
  echo "time,unique_ok,unique_failed,unique_seconds,fixed_ok,fixed_failed" >"$w/storms.csv"
  while true; do
    sleep "$2"
    mkdir -p "$w/unique"
    "$w/bin/unique_driver" make "$w/bin/child" "$w/unique" "$first" "$3" >/dev/null
    u=$("$w/bin/unique_driver" run "$w/unique" "$first" "$3" 4 | awk "{print \$2\",\"\$3\",\"\$4}")
    first=$((first + $3))
    rm -rf "$w/unique"
    f=$(for i in 0 1 2 3; do "$w/bin/exec_driver" storm "$w/bin/child-$i" 10 1 & done; wait)
    fo=$(echo "$f" | awk "{ok += \$2; failed += \$3} END {print ok\",\"failed}")
    echo "$(date -u +%FT%TZ),$u,$fo" >>"$w/storms.csv"
    echo x >>"$w/counters/storms"
  done' soak-storm "$work" "$storm_s" "$storm_unique" &
pids+=("$!")

# Package installs, alternating the two versions; the installed binary runs after each.
setsid nice -n 10 bash -c '
  w=$1; v=1
  echo "time,version,install_rc,run_rc" >"$w/installs.csv"
  while true; do
    sleep "$2"
    rc=0; dpkg -i "$w/fixture-$v.deb" >>"$w/dpkg.log" 2>&1 || rc=$?
    r=0; /usr/lib/veriruntime-soak-fixture/fixture || r=$?
    echo "$(date -u +%FT%TZ),1.$v,$rc,$r" >>"$w/installs.csv"
    echo x >>"$w/counters/installs"
    v=$((3 - v))
  done' soak-install "$work" "$install_s" &
pids+=("$!")

csv="$out/soak.csv"
"$here/sample.sh" --header >"$csv"
echo "time,elapsed_s,map_id,name,type,entries,max_entries" >"$out/bpf-maps.csv"
next=$started
while [ "$(date +%s)" -lt "$end" ]; do
  kill -0 "$agent_pid" 2>/dev/null || { echo "soak: the agent exited early:" >&2; tail -5 "$work/agent.err" >&2; break; }
  "$here/sample.sh" "$agent_pid" "$work" "$port" "$started" "$out/bpf-maps.csv" >>"$csv" || true
  # A fixed schedule: the time a sample takes does not stretch the interval.
  while [ "$next" -le "$(date +%s)" ]; do next=$((next + interval)); done
  [ "$next" -gt "$end" ] && next=$end
  sleep $(( next - $(date +%s) > 0 ? next - $(date +%s) : 0 ))
done
"$here/sample.sh" "$agent_pid" "$work" "$port" "$started" "$out/bpf-maps.csv" >>"$csv" || true
patched_alive=no; kill -0 "$patched_pid" 2>/dev/null && patched_alive=yes
for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
pids=()
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
agent_rc=0
if kill -0 "$agent_pid" 2>/dev/null; then
  kill "$agent_pid"; wait "$agent_pid" || agent_rc=$?
else
  wait "$agent_pid" || agent_rc=$?
fi
agent_pid=""
journal_rc=0
"$work/dist/bin/veriruntime" journal verify "$work/state" >"$work/journal-verify.txt" 2>&1 || journal_rc=$?
cp "$work/storms.csv" "$work/installs.csv" "$out/" 2>/dev/null || true
{
  echo "started=$(date -u -d "@$started" +%FT%TZ)"
  echo "duration_s=$duration_s"
  echo "interval_s=$interval"
  echo "machine=$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
  echo "load_start=$load_start"
  echo "load_end=$load_end"
  echo "builds_ok=$(grep -c ok "$work/counters/builds" 2>/dev/null || true)"
  echo "builds_failed=$(grep -c failed "$work/counters/builds" 2>/dev/null || true)"
  echo "storms=$(wc -l <"$work/counters/storms" 2>/dev/null || echo 0)"
  echo "installs=$(wc -l <"$work/counters/installs" 2>/dev/null || echo 0)"
  echo "patched_alive_at_end=$patched_alive"
  echo "agent_exit=$agent_rc"
  echo "journal_verify_exit=$journal_rc"
  echo "journal_verify=$(head -1 "$work/journal-verify.txt")"
  echo "agent_events_printed=$(wc -l <"$work/agent.jsonl")"
  echo "patched_process_events=$(grep -c "\"pid\":$patched_pid[,}]" "$work/agent.jsonl" || true)"
} >"$out/run.properties"
java -Djava.awt.headless=true -cp "$root/benchmarks/target/benchmarks.jar" dev.veriruntime.benchmarks.SoakReport \
  "$out" || echo "soak: the report failed; the CSV is in $out" >&2
echo "soak: done; $out/soak.md" >&2
