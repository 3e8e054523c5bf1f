#!/usr/bin/env bash
# One sample of the soaked agent, as a CSV row on stdout (benchmarks/soak/soak.sh):
#   sample.sh --header
#   sample.sh AGENT_PID WORK_DIR METRICS_PORT STARTED_EPOCH BPF_MAPS_CSV
# Forces a full GC (jcmd GC.run) before reading the heap, so heap_after_gc_kib is the live set; the
# agent's BPF maps are those whose ids appear in its /proc/PID/fdinfo; their entries are counted with
# `bpftool map dump` (hash maps; arrays always hold max_entries, ring buffers cannot be dumped: -1)
# and appended, one row per map, to BPF_MAPS_CSV.
set -uo pipefail
cols="time,elapsed_s,load1,rss_kib,hwm_kib,heap_after_gc_kib,heap_committed_kib,metaspace_kib,threads,fds,bpf_maps,bpf_hash_entries,journal_bytes,state_bytes,cpu_s,health_ms,execs_seen,exec_verdicts,events_lost,events_dropped,events_emitted,agent_lines,builds,storms,installs"
if [ "${1:-}" = --header ]; then echo "$cols"; exit 0; fi
pid=$1 work=$2 port=$3 started=$4 maps_csv=$5
now=$(date -u +%FT%TZ); elapsed=$(( $(date +%s) - started ))
load1=$(cut -d' ' -f1 /proc/loadavg)
status=$(cat "/proc/$pid/status")
rss=$(awk '/^VmRSS:/ {print $2}' <<<"$status")
hwm=$(awk '/^VmHWM:/ {print $2}' <<<"$status")
threads=$(awk '/^Threads:/ {print $2}' <<<"$status")
fds=$(ls "/proc/$pid/fd" | wc -l)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
cpu=$(awk -v u="$utime" -v s="$stime" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (u + s) / hz}')
jcmd "$pid" GC.run >/dev/null 2>&1
# jcmd GC.heap_info (jstat needs the perf data file, which the launcher turns off): one line per
# generation or heap, "total NK, used MK", and "Metaspace used NK" (KiB); after a full GC eden is empty.
read -r heap committed meta < <(jcmd "$pid" GC.heap_info | awk '
  /^ +Metaspace +used/ {gsub(/[K,]/, "", $3); m = $3}
  /^ +[A-Za-z-]+( [a-z]+)* +total [0-9]+K, used [0-9]+K/ && !/Metaspace|class space/ {
    for (i = 1; i < NF; i++) { v = $(i + 1); gsub(/[K,]/, "", v); if ($i == "total") t += v; if ($i == "used") u += v }
  }
  END {printf "%.0f %.0f %.0f\n", u, t, m}')
maps=0 entries=0
for id in $(grep -h '^map_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -un); do
  info=$(bpftool map show id "$id" -j 2>/dev/null) || continue
  name=$(jq -r .name <<<"$info"); type=$(jq -r .type <<<"$info"); max=$(jq -r .max_entries <<<"$info")
  n=-1
  case "$type" in
    hash|lru_hash|percpu_hash|lru_percpu_hash) n=$(bpftool map dump id "$id" -j 2>/dev/null | jq length); entries=$((entries + n)) ;;
    array|percpu_array) n=$max ;;
  esac
  maps=$((maps + 1))
  echo "$now,$elapsed,$id,$name,$type,$n,$max" >>"$maps_csv"
done
journal=$(du -sb "$work/state/journal" 2>/dev/null | cut -f1); journal=${journal:-0}
state=$(du -sb "$work/state" 2>/dev/null | cut -f1); state=${state:-0}
health=$(curl -s -o /dev/null -w '%{time_total}' --max-time 10 --unix-socket "$work/api.sock" http://localhost/v1/health \
  | awk '{printf "%.1f", $1 * 1000}')
metrics=$(curl -s --max-time 10 "http://127.0.0.1:$port/metrics")
sum() { awk -v re="$1" '$0 ~ re && $1 !~ /^#/ {s += $NF} END {printf "%.0f", s}' <<<"$metrics"; }
execs=$(sum '^veriruntime_events_in_total\\{.*kind="ExecEvent"')
verdicts=$(sum '^veriruntime_exec_verdict_latency_seconds_count')
lost=$(sum '^veriruntime_events_lost_total')
dropped=$(sum '^veriruntime_events_dropped_total')
emitted=$(sum '^veriruntime_events_emitted_total')
lines=$(wc -l <"$work/agent.jsonl")
count() { [ -f "$work/counters/$1" ] && wc -l <"$work/counters/$1" || echo 0; }
echo "$now,$elapsed,$load1,$rss,$hwm,$heap,$committed,$meta,$threads,$fds,$maps,$entries,$journal,$state,$cpu,$health,$execs,$verdicts,$lost,$dropped,$emitted,$lines,$(count builds),$(count storms),$(count installs)"
