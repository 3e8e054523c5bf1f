package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A code-injection signal: an <em>attempt</em>, seen at system-call entry, to attach to or write
 * into another process ({@code ptrace} attach/seize/poke/set-registers, {@code process_vm_writev};
 * whether the call succeeded is not known then: a write that did is followed by a {@link
 * RemoteWriteDone}), or another process's {@code /proc/PID/mem} opened for writing (seen when the
 * open succeeded, before any write) and each completed write through it. From C {@code struct
 * vr_injection}.
 *
 * @param targetPid the process (or, for ptrace, thread) aimed at; for the /proc/PID/mem techniques
 *     the target's process id (tgid), 0 if it had exited already
 * @param request the raw ptrace request; 0 for process_vm_writev; the open flags for /proc/PID/mem;
 *     the syscall number (write, pwrite64...) for a /proc/PID/mem write
 * @param address ptrace {@code addr}; the remote iovec pointer for process_vm_writev; the first
 *     address written for a /proc/PID/mem write; else 0
 * @param count ptrace {@code data}; the remote iovec count for process_vm_writev; for the
 *     /proc/PID/mem open the thread id the path names (equal to the target pid for /proc/PID/mem);
 *     the bytes written for a /proc/PID/mem write
 */
public record InjectionEvent(
    long kernelTimeNanos,
    TaskContext task,
    InjectionTechnique technique,
    int targetPid,
    long request,
    long address,
    long count)
    implements RuntimeEvent {
  public InjectionEvent {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(technique, "technique");
  }
}
