#!/usr/bin/env bash
# Events per 1,000 execs on a small workload of lasting conditions, under `watch --json` with the
# embedded default policy. Run it with two builds to compare them (a ratio in one sitting, not a
# number from another day):
#
#   benchmarks/alert-noise.sh [SECONDS] [LAUNCHER]      # default 180 s, ./bin/veriruntime
#
# The workload, all from a private directory (so its events can be told from the host's):
#   - a package command (/usr/bin/true) run in a loop: trusted execs, no event expected;
#   - an unknown binary run once every 0.5 s (short-lived unknown executions, one digest);
#   - an unknown process that runs the whole time;
#   - a process running from a memfd (fexecve) the whole time;
#   - a long-running process whose code is patched through /proc/PID/mem at the start;
#   - every 30 s, a copy of python3.11 outside the package database importing 12 extension modules
#     it has its own copies of (the interpreter case), when Debian's python3.11 is installed.
# At the end every workload process is killed and the agent keeps running 10 s more, so that
# resolutions are counted too. Reports execs made, events about the workload, events per 1,000
# execs, and the events by type and incident state. Needs root, gcc; syscall programs need tracefs
# (run inside `unshare -m` with tracefs mounted there if it is not mounted on the host).
# ALERT_NOISE_KEEP=FILE keeps the agent's JSON events.
set -euo pipefail
secs=${1:-180}
here=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
launcher=${2:-$here/bin/veriruntime}
src=$here/agent/src/test/resources/scenarios
work=$(mktemp -d /tmp/vr-noise.XXXXXX)
out=$work/events.jsonl
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

sed 's/i < 60/i < 100000/' "$src/patchable.c" > "$work/long.c"
gcc -O1 -o "$work/unknown-once" "$src/sleeper.c"
gcc -O1 -o "$work/unknown-long" "$work/long.c" -DVARIANT=1 -Wl,--build-id=none -g
gcc -O1 -o "$work/memfd-launcher" "$src/memfd_exec.c"
gcc -O1 -o "$work/memfd-payload" "$work/long.c"
gcc -O2 -o "$work/patched" "$work/long.c"
gcc -O1 -o "$work/patcher" "$src/patcher.c"

py=""
if [ -x /usr/bin/python3.11 ] && [ -d /usr/lib/python3.11 ]; then
  lib=$work/python/lib/python3.11
  mkdir -p "$lib/lib-dynload" "$work/python/bin"
  for e in /usr/lib/python3.11/*; do
    [ "$(basename "$e")" = lib-dynload ] || ln -s "$e" "$lib/$(basename "$e")"
  done
  mods="_json _decimal _bz2 _lzma _queue _uuid mmap _contextvars _ctypes _hashlib _zoneinfo _multibytecodec"
  for m in $mods; do cp /usr/lib/python3.11/lib-dynload/$m.cpython-311-x86_64-linux-gnu.so "$lib/lib-dynload/"; done
  cp /usr/bin/python3.11 "$work/python/bin/python3"
  py="import $(echo $mods | sed 's/ /, /g')"
fi

"$launcher" watch --json --no-journal --no-api > "$out" 2> "$work/agent.err" &
agent=$!
pids+=("$agent")
for _ in $(seq 1 120); do grep -q "watching (pid" "$work/agent.err" 2>/dev/null && break; sleep 1; done
grep -q "watching (pid" "$work/agent.err" || { cat "$work/agent.err" >&2; exit 1; }
sleep 5 # the start-up scan's events are not the workload's

start=$(date +%s)
end=$((start + secs))
execs=0
"$work/unknown-long" > /dev/null & pids+=("$!"); execs=$((execs + 1))
"$work/memfd-launcher" "$work/memfd-payload" > /dev/null & pids+=("$!"); execs=$((execs + 2))
coproc PATCHED { exec "$work/patched"; }
pids+=("$PATCHED_PID"); execs=$((execs + 1))
read -r _ ppid addr <&"${PATCHED[0]}"
"$work/patcher" procmem "$ppid" "$addr"; execs=$((execs + 1))

next_py=$start
while [ "$(date +%s)" -lt "$end" ]; do
  for _ in $(seq 1 50); do /usr/bin/true; done
  execs=$((execs + 50))
  "$work/unknown-once" once > /dev/null; execs=$((execs + 1))
  if [ -n "$py" ] && [ "$(date +%s)" -ge "$next_py" ]; then
    PYTHONHOME=$work/python "$work/python/bin/python3" -S -c "$py"; execs=$((execs + 1))
    next_py=$((next_py + 30))
  fi
  sleep 0.5
done
for p in "${pids[@]:1}"; do kill -9 "$p" 2>/dev/null || true; done
sleep 10
kill -TERM "$agent"; wait "$agent" || true

mine=$(grep -c -e "$work" -e 'memfd:veriruntime-scenario' "$out" || true)
total=$(wc -l < "$out")
echo "alert-noise: ${secs} s, launcher $launcher"
echo "  execs by the workload: $execs"
echo "  events about the workload: $mine ($(awk -v e="$mine" -v x="$execs" 'BEGIN{printf "%.1f", 1000*e/x}') per 1,000 execs); all events on the host meanwhile: $total"
echo "  by type and incident state:"
grep -e "$work" -e 'memfd:veriruntime-scenario' "$out" \
  | python3 -c '
import json, sys, collections
c = collections.Counter()
for line in sys.stdin:
    e = json.loads(line)
    inc = (e.get("incident") or {}).get("state", "-")
    c[(e["type"], inc, e.get("details", {}).get("check", "live"))] += 1
for (t, s, src), n in sorted(c.items()):
    print(f"    {n:5d}  {t:22s} {s:9s} {src}")'
echo "  load average: $(cut -d" " -f1-3 /proc/loadavg)"
if [ -n "${ALERT_NOISE_KEEP:-}" ]; then
  cp "$out" "$ALERT_NOISE_KEEP"
  echo "  events kept in $ALERT_NOISE_KEEP"
fi
