package dev.veriruntime.ingest.kernel;

import java.util.List;
import java.util.Optional;

/**
 * {@code bpf_object__load} failed; carries the program the kernel refused, when libbpf named it.
 */
public final class BpfLoadException extends BpfException {
  private static final long serialVersionUID = 1L;
  private final String failedProgram;
  private final transient List<String> log;

  public BpfLoadException(String message, int errno, String failedProgram, List<String> log) {
    super(message, errno);
    this.failedProgram = failedProgram;
    this.log = log;
  }

  /** The program whose verification or load failed, if libbpf's log named it. */
  public Optional<String> failedProgram() {
    return Optional.ofNullable(failedProgram);
  }

  /** libbpf warning and info lines emitted during the failed load (verifier log included). */
  public List<String> log() {
    return log == null ? List.of() : log;
  }
}
