package dev.veriruntime.api.intake;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Another tool's alert, as the intake read it: who raised it and what it names. At least one of
 * {@code pid} and {@code path} is present. Immutable.
 *
 * @param format the format it came in
 * @param source who raised it: {@code falco} for Falco, the EDR's own name otherwise
 * @param id the alert's id at its source (Falco: the {@code uuid} falcosidekick adds, else a digest
 *     of the body, so a replayed alert keeps its id)
 * @param rule the rule or detection name; null when the EDR gave none
 * @param priority the source's priority or severity, as given; null when absent
 * @param time when the source saw it; null when absent
 * @param pid the process it is about (a host pid); null when absent
 * @param path the executable it names (absolute); null when absent
 * @param processName the process name it names ({@code proc.name}); null when absent
 * @param containerId the container it happened in; null, or {@code host}, for the host itself
 * @param hostname the host the source runs on; null when absent
 * @param tags the source's tags (Falco's rule tags)
 */
public record Alert(
    AlertFormat format,
    String source,
    String id,
    String rule,
    String priority,
    Instant time,
    Integer pid,
    String path,
    String processName,
    String containerId,
    String hostname,
    List<String> tags) {

  public Alert {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(id, "id");
    if (pid == null && path == null) {
      throw new IllegalArgumentException("an alert names a pid or a path");
    }
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** Whether it happened inside a container (so its path is the container's, not the host's). */
  public boolean inContainer() {
    return containerId != null && !containerId.isEmpty() && !containerId.equals("host");
  }

  /**
   * How events name it: {@code Falco rule 'Drop and execute new binary in container'}, {@code EDR
   * alert 'Suspicious loader' from acme-edr}, {@code EDR alert A-17 from acme-edr}.
   */
  public String label() {
    if (format == AlertFormat.FALCO) {
      return "Falco rule '" + rule + "'";
    }
    return rule == null
        ? "EDR alert " + id + " from " + source
        : "EDR alert '" + rule + "' from " + source;
  }

  /** What folds repeats of it: its source and rule (the id when it has no rule). */
  public String foldName() {
    return source + "/" + (rule == null ? "" : rule);
  }
}
