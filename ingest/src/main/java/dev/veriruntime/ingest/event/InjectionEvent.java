package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A code-injection signal: an <em>attempt</em>, seen at system-call entry, to attach to or write
 * into another process ({@code ptrace} attach/seize/poke/set-registers, {@code process_vm_writev}).
 * Whether the call succeeded is not known. From C {@code struct vr_injection}.
 *
 * @param targetPid the process (or thread) aimed at
 * @param request the raw ptrace request; 0 for process_vm_writev
 * @param address ptrace {@code addr}; the remote iovec pointer for process_vm_writev
 * @param count ptrace {@code data}; the remote iovec count for process_vm_writev
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
