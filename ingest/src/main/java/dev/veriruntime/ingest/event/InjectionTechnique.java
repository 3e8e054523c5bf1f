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
  PROC_PID_MEM,
  /**
   * A write through such a descriptor, seen when it completed: {@code address} and {@code count}
   * bytes of the target's memory were overwritten.
   */
  PROC_PID_MEM_WRITE
}
