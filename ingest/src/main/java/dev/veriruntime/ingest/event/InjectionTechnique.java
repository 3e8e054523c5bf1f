package dev.veriruntime.ingest.event;

/** How one process tried to control or write into another. */
public enum InjectionTechnique {
  PTRACE_ATTACH,
  PTRACE_SEIZE,
  PTRACE_POKETEXT,
  PTRACE_POKEDATA,
  PTRACE_POKEUSER,
  PTRACE_SETREGS,
  PTRACE_SETREGSET,
  PROCESS_VM_WRITEV,
  /**
   * {@code /proc/PID/mem} (or {@code /proc/PID/task/TID/mem}) of another process opened for
   * writing.
   */
  PROC_PID_MEM
}
