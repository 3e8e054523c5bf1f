#!/usr/bin/env bash
# Per-syscall cost of the probe's raw syscall hooks (tp_btf/sys_enter and sys_exit fire for every
# syscall on the host). Measures, in the same run and alternating, ns per syscall of a syscall-heavy
# load with the probe loaded and not loaded (and, for reference, with two empty programs on the same
# tracepoints: the cost of any such hook before the probe's dispatch runs), for several pairs, and
# prints the ratios and the load average. Root; builds its drivers with cc/clang and libbpf.
#
#   benchmarks/syscall-cost.sh [PAIRS]            # default 7 pairs; writes results/syscall-cost.md
#   OLD_OBJECT=old.bpf.o benchmarks/syscall-cost.sh
#       also measures another probe object (e.g. the tp/syscalls probe of an older commit, which
#       needs tracefs: run it as  unshare -m sh -c 'mount -t tracefs nodev /sys/kernel/tracing &&
#       OLD_OBJECT=... benchmarks/syscall-cost.sh'  so the machine's own mounts stay as they are)
#   EXIT_ONLY=1  also measures one empty program on tp_btf/sys_exit alone (what dropping the
#       sys_enter hook would save)
#   AGENT=1  also measures the agent itself: `bin/veriruntime watch` on its embedded default (the
#       syscall programs on the syscalls' own tracepoints: state "agent") and with
#       `raw-syscall-hooks: true` (state "agent-raw"), each measured once it is idle after start
#   SYSCALL_COST_OUT=FILE  write the report elsewhere
#
# The probe is loaded by bpf/capture/vrcapture (libbpf, the same object the agent loads, records
# read and discarded); the mixed load makes the probe resolve descriptors and look up its maps but
# report nothing, so the figures are the hooks' cost, not the agent's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib/agent.sh"
pairs="${1:-7}"
out="${SYSCALL_COST_OUT:-$here/results/syscall-cost.md}"
work="$(mktemp -d)"
loader_pid=""
cleanup() {
  if [ -n "$loader_pid" ]; then kill "$loader_pid" 2>/dev/null || true; wait "$loader_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "syscall-cost: needs root (loads BPF programs)" >&2; exit 2; }
command -v bpftool >/dev/null || { echo "syscall-cost: needs bpftool (to see other agents' hooks)" >&2; exit 2; }
cc -O2 -Wall -o "$work/syscall_loop" "$here/syscall-cost/syscall_loop.c"
cc -O2 -o "$work/vrcapture" "$root/bpf/capture/vrcapture.c" -lbpf
objects=(off "" probe "$root/bpf/veriruntime.bpf.o")
if command -v clang >/dev/null; then
  clang -O2 -g -target bpf -idirafter /usr/include/"$(uname -m)"-linux-gnu -c "$here/syscall-cost/empty_hooks.bpf.c" -o "$work/empty.bpf.o"
  objects+=(empty "$work/empty.bpf.o")
  if [ -n "${EXIT_ONLY:-}" ]; then
    clang -O2 -g -target bpf -idirafter /usr/include/"$(uname -m)"-linux-gnu -DEXIT_ONLY \
      -c "$here/syscall-cost/empty_hooks.bpf.c" -o "$work/empty-exit.bpf.o"
    objects+=(empty-exit "$work/empty-exit.bpf.o")
  fi
fi
if [ -n "${AGENT:-}" ]; then
  # "@..." is not an object: load starts the agent instead of vrcapture.
  objects+=(agent @agent agent-raw @agent-raw)
  printf 'raw-syscall-hooks: true\n' >"$work/raw-hooks.yaml"
fi
if [ -n "${OLD_OBJECT:-}" ]; then
  objects+=(old "$(cd "$(dirname "$OLD_OBJECT")" && pwd)/$(basename "$OLD_OBJECT")")
fi
declare -A object
states=()
for ((i = 0; i < ${#objects[@]}; i += 2)); do
  states+=("${objects[i]}")
  object[${objects[i]}]="${objects[i + 1]}"
done

declare -A iterations=([getppid]=3000000 [read]=2000000 [mixed]=200000)
workloads=(getppid read mixed)

foreign_hooks() { # programs of other tools or agents on the raw syscall tracepoints right now
  bpftool -j link list 2>/dev/null | grep -oE '"tp_name":"sys_(enter|exit)"' | wc -l
}
programs() { # $1: object; how many programs it has (one ELF section each)
  llvm-objdump -h "$1" | grep -cE ' (tp_btf|tp|raw_tp|tracepoint)/'
}
start_agent() { # $1: @agent or @agent-raw; waits until the agent watches and has gone idle
  local args=(watch --no-api --state-dir "$work/agent-state")
  [ "$1" = @agent-raw ] && args+=(--policy "$work/raw-hooks.yaml")
  rm -rf "$work/agent-state"
  # The launcher ends in `exec java`, so $! is the agent's JVM (it builds the jars on first use).
  "$root/bin/veriruntime" "${args[@]}" >/dev/null 2>"$work/loader.log" &
  loader_pid=$!
  await_watching "$loader_pid" "$work/loader.log" syscall-cost
  await_idle "$loader_pid"
}
load() { # $1: object; waits until every program is attached
  case "$1" in @*) start_agent "$1"; return ;; esac
  mkdir -p "$work/records"
  : >"$work/loader.log"
  VR_QUIET=1 "$work/vrcapture" "$1" "$work/records" 100000 2>"$work/loader.log" &
  loader_pid=$!
  for _ in $(seq 200); do
    if grep -q "attach .* failed\|load failed" "$work/loader.log"; then
      cat "$work/loader.log" >&2
      exit 1
    fi
    # vrcapture prints one "attached" line per program, then polls the ring.
    if [ "$(grep -c '^attached' "$work/loader.log")" = "$(programs "$1")" ]; then
      return
    fi
    sleep 0.05
  done
  echo "syscall-cost: the loader did not attach in 10 s" >&2
  cat "$work/loader.log" >&2
  exit 1
}
unload() {
  kill "$loader_pid"
  wait "$loader_pid" 2>/dev/null || true
  loader_pid=""
}

declare -A sample
# A pair during which another agent's syscall hooks were attached (the machine is shared) measures
# their cost in every state, "off" included: it is left out of the medians and counted.
declare -A spoiled
valid=()
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for ((p = 1; p <= pairs; p++)); do
  # Rotate the order of the states each pair so drift in the machine's load hits all of them.
  n=${#states[@]}
  for ((k = 0; k < n; k++)); do
    state="${states[(k + p) % n]}"
    if [ -z "${object[$state]}" ] && [ "$(foreign_hooks)" != 0 ]; then spoiled[$p]=1; fi
    [ -n "${object[$state]}" ] && load "${object[$state]}"
    for w in "${workloads[@]}"; do
      sample[$state,$w,$p]="$("$work/syscall_loop" "$w" "${iterations[$w]}" "$work/scratch")"
    done
    [ -n "${object[$state]}" ] && unload
  done
  [ -n "${spoiled[$p]:-}" ] || valid+=("$p")
  echo "pair $p$([ -n "${spoiled[$p]:-}" ] && echo ' (spoiled: other syscall hooks attached)'): $(for w in "${workloads[@]}"; do printf '%s ' "$w"; for s in "${states[@]}"; do printf '%s=%s ' "$s" "${sample[$s,$w,$p]}"; done; done)" >&2
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${#valid[@]}" = 0 ]; then
  echo "syscall-cost: every pair ran with other syscall hooks attached on this machine; no result" >&2
  exit 1
fi
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
{
  echo "# Per-syscall cost of the probe's raw syscall hooks"
  echo
  echo "\`benchmarks/syscall-cost.sh $pairs\`, $started, $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
  echo "tracefs: $([ -d /sys/kernel/tracing/events ] && echo mounted || echo 'not mounted')."
  echo "Load average (1, 5, 15 min) at start: $load_start; at end: $load_end."
  echo "Pairs used: ${#valid[@]} of $pairs (a pair is left out when another agent's hooks were on sys_enter/sys_exit during its \"off\" run)."
  echo
  echo "CPU ns per syscall (user + system time of the load, so time spent descheduled by other"
  echo "work on the machine is not counted), median of $pairs alternating runs per state; ratio = median over pairs of"
  echo "(state ÷ off in the same pair); +ns = median of (state − off) in the same pair."
  echo "States: off = no probe; probe = bpf/veriruntime.bpf.o attached (all programs);"
  echo "empty = two empty programs on tp_btf/sys_enter and sys_exit (the floor of any such hook)$([ -n "${EXIT_ONLY:-}" ] && echo "; empty-exit = one empty program on tp_btf/sys_exit only")$([ -n "${AGENT:-}" ] && echo "; agent = \`veriruntime watch --no-api\` on its embedded default, idle (its syscall programs on the syscalls' own tracepoints); agent-raw = the same with \`raw-syscall-hooks: true\` (on the raw tracepoints)")$([ -n "${OLD_OBJECT:-}" ] && echo "; old = $(basename "$OLD_OBJECT") (${OLD_OBJECT})")."
  echo
  printf '| load | iterations |'
  for s in "${states[@]}"; do printf ' %s ns |' "$s"; done
  for s in "${states[@]}"; do [ "$s" = off ] || printf ' %s ratio | %s +ns |' "$s" "$s"; done
  echo
  printf '| --- | ---: |'
  for s in "${states[@]}"; do printf ' ---: |'; done
  for s in "${states[@]}"; do [ "$s" = off ] || printf ' ---: | ---: |'; done
  echo
  for w in "${workloads[@]}"; do
    printf '| %s | %s |' "$w" "${iterations[$w]}"
    for s in "${states[@]}"; do
      printf ' %s |' "$(for p in "${valid[@]}"; do echo "${sample[$s,$w,$p]}"; done | median)"
    done
    for s in "${states[@]}"; do
      [ "$s" = off ] && continue
      ratio="$(for p in "${valid[@]}"; do awk -v a="${sample[$s,$w,$p]}" -v b="${sample[off,$w,$p]}" 'BEGIN {printf "%.4f\n", a / b}'; done | median)"
      delta="$(for p in "${valid[@]}"; do awk -v a="${sample[$s,$w,$p]}" -v b="${sample[off,$w,$p]}" 'BEGIN {printf "%.1f\n", a - b}'; done | median)"
      printf ' %.3f | %.1f |' "$ratio" "$delta"
    done
    echo
  done
  echo
  echo "Raw samples (CPU ns per syscall, pair by pair):"
  echo
  for w in "${workloads[@]}"; do
    for s in "${states[@]}"; do
      echo "- $w $s: $(for ((p = 1; p <= pairs; p++)); do printf '%s ' "${sample[$s,$w,$p]}"; done)"
    done
  done
} > "$out"
cat "$out"
