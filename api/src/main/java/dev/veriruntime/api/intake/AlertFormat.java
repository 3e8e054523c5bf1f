package dev.veriruntime.api.intake;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** The alert formats the intake reads, by the name a caller gives ({@code ?format=falco}). */
public enum AlertFormat {
  /** Falco's JSON output, as Falco's http/program output and falcosidekick send it. */
  FALCO("falco"),
  /** The small generic format for EDRs and scripts (docs/api.md). */
  EDR("edr");

  private final String wireName;

  AlertFormat(String wireName) {
    this.wireName = wireName;
  }

  /** The name callers use. */
  public String wireName() {
    return wireName;
  }

  /** The format called {@code name} (case-insensitive), if there is one. */
  public static Optional<AlertFormat> named(String name) {
    return Arrays.stream(values()).filter(f -> f.wireName.equalsIgnoreCase(name)).findFirst();
  }

  /** "falco, edr": for error messages. */
  public static String names() {
    return Arrays.stream(values()).map(AlertFormat::wireName).collect(Collectors.joining(", "));
  }
}
