package dev.veriruntime.agent;

import java.time.Instant;
import java.util.List;

/**
 * The latest self-integrity results, for Health: the start-up check and each periodic check of the
 * agent's files, and the probe attachment check every second. Written by the start-up step and the
 * monitor's single worker, read by any thread.
 */
final class SelfIntegrityStatus {

  /**
   * What Health shows.
   *
   * @param filesCheckedAt when the agent's files (jar, JVM, libbpf) were last checked
   * @param probeCheckedAt when the probe's attachment was last checked; null before the first
   * @param ok no check failed in the latest results
   * @param failed each failed check as {@code component path: reason}
   * @param notChecked each check that could not be made, with why
   */
  record View(
      Instant filesCheckedAt,
      Instant probeCheckedAt,
      boolean ok,
      List<String> failed,
      List<String> notChecked) {}

  private volatile List<SelfIntegrity.Check> files = List.of();
  private volatile Instant filesAt;
  private volatile SelfIntegrity.Check probe;
  private volatile Instant probeAt;

  void files(List<SelfIntegrity.Check> results, Instant at) {
    files = List.copyOf(results);
    filesAt = at;
  }

  void probe(SelfIntegrity.Check result, Instant at) {
    probe = result;
    probeAt = at;
  }

  View view() {
    List<SelfIntegrity.Check> all = new java.util.ArrayList<>(files);
    SelfIntegrity.Check p = probe;
    if (p != null) {
      all.removeIf(c -> c.component().equals(p.component()));
      all.add(p);
    }
    List<String> failed = all.stream().filter(SelfIntegrity.Check::failed).map(this::line).toList();
    List<String> notChecked =
        all.stream().filter(c -> !c.ok() && !c.failed()).map(this::line).toList();
    return new View(filesAt, probeAt, failed.isEmpty(), failed, notChecked);
  }

  private String line(SelfIntegrity.Check c) {
    return c.component() + (c.path().isEmpty() ? "" : " " + c.path()) + ": " + c.reason();
  }
}
