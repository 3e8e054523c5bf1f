package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * A write into another process's memory that succeeded: a {@code ptrace} poke or {@code
 * process_vm_writev}, seen when the system call returned, so the bytes are in the target's memory
 * now. Its attempt was reported at system-call entry as an {@link InjectionEvent} (the alert); this
 * only tells when verifying the target will see what was written: at entry the write has not
 * happened, and a preempted writer may make it much later. From C {@code struct vr_injection} with
 * technique {@code VR_INJECT_WRITE_DONE}.
 *
 * @param technique {@link InjectionTechnique#PTRACE_POKETEXT}, {@link
 *     InjectionTechnique#PTRACE_POKEDATA} or {@link InjectionTechnique#PROCESS_VM_WRITEV}
 * @param targetPid the process (for ptrace, thread) written into
 * @param address the address a poke wrote; 0 for process_vm_writev
 * @param bytes the bytes process_vm_writev wrote; 0 for a poke (one word)
 */
public record RemoteWriteDone(
    long kernelTimeNanos,
    TaskContext task,
    InjectionTechnique technique,
    int targetPid,
    long address,
    long bytes)
    implements RuntimeEvent {
  public RemoteWriteDone {
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(technique, "technique");
  }
}
