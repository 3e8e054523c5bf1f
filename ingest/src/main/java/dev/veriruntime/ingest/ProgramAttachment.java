package dev.veriruntime.ingest;

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
    String remedy) {

  public enum Status {
    /** Loaded and attached: its events flow. */
    ATTACHED,
    /** The kernel refused to load (verify) it; optional programs are then left out. */
    LOAD_REFUSED,
    /** Loaded but the kernel refused the attachment. */
    ATTACH_REFUSED
  }

  public boolean attached() {
    return status == Status.ATTACHED;
  }
}
