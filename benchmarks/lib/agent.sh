# Sourced by the harness scripts that start the agent themselves (syscall-cost.sh, wakeup-floor.sh).

# User + system CPU ticks of process $1 so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# await_watching PID LOG TOOL: waits until the agent started as PID, its stderr in LOG, says it
# watches; when it dies first, or after 10 min, TOOL says so with the log's last lines and exits 1.
await_watching() {
  local deadline=$((SECONDS + 600))
  until grep -q '^veriruntime: watching' "$2"; do
    if ! kill -0 "$1" 2>/dev/null || ((SECONDS > deadline)); then
      echo "$3: the agent did not start (10 min at most); its last lines:" >&2
      tail -5 "$2" >&2
      exit 1
    fi
    sleep 0.1
  done
}

# await_idle PID: until the process used under 2 ticks (20 ms) of CPU in a second, twice in a row,
# or 60 s at most (the agent's warm-ups and start-up scan end first).
await_idle() {
  local quiet=0 before after
  for _ in $(seq 60); do
    before=$(cpu_ticks "$1"); sleep 1; after=$(cpu_ticks "$1")
    if [ $((after - before)) -lt 2 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ "$quiet" -ge 2 ] && return
  done
}
