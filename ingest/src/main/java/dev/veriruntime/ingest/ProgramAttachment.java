package dev.veriruntime.ingest;

import java.util.List;

/**
 * Outcome for one program of a {@link Probe}.
 *
 * @param program function name in the object
 * @param section ELF section (where it attaches), e.g. {@code tp_btf/sched_process_exec}
 * @param status what happened
 * @param required whether its failure would have failed the probe
 * @param errno positive errno of the failure, 0 when attached
 * @param error one-line failure text ("EPERM (Operation not permitted)"), empty when attached
 * @param kernelId kernel program id (as in {@code bpftool prog show}); 0 when not loaded
 * @param tag kernel program tag (16 hex characters); empty when not loaded
 * @param remedy what is missing and the command that fixes it; empty when attached or when no
 *     operator action helps (an optional accelerator this kernel does not offer)
 * @param attachPoints where it is attached, one entry per link: its section's hook ({@code
 *     sched_process_exec}), or each tracepoint it was attached to by name ({@code
 *     syscalls/sys_exit_mmap}); empty when not attached
 */
public record ProgramAttachment(
    String program,
    String section,
    Status status,
    boolean required,
    int errno,
    String error,
    int kernelId,
    String tag,
    String remedy,
    List<String> attachPoints) {

  public ProgramAttachment {
    attachPoints = List.copyOf(attachPoints);
  }

  public enum Status {
    /** Loaded and attached: its events flow. */
    ATTACHED,
    /** The kernel refused to load (verify) it; optional programs are then left out. */
    LOAD_REFUSED,
    /** Loaded but the kernel refused the attachment. */
    ATTACH_REFUSED,
    /**
     * Not attached, and nothing is missing: another program doing the same work is attached in its
     * place ({@code error} says which, or why this one could not be used).
     */
    STANDBY
  }

  public boolean attached() {
    return status == Status.ATTACHED;
  }

  /** Refused at load or attach: what it would have seen is not seen. */
  public boolean failed() {
    return status == Status.LOAD_REFUSED || status == Status.ATTACH_REFUSED;
  }
}
