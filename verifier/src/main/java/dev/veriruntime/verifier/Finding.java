package dev.veriruntime.verifier;

import java.util.Map;
import java.util.Objects;

/**
 * One thing a check noticed, with the scope it belongs to and a precise, human-readable reason.
 * {@code detail} holds machine-readable facts (address, section, library path...) for JSON output.
 */
public record Finding(FindingType type, Scope scope, String reason, Map<String, String> detail) {

  public Finding {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(reason, "reason");
    detail = detail == null ? Map.of() : Map.copyOf(detail);
  }

  public Finding(FindingType type, Scope scope, String reason) {
    this(type, scope, reason, Map.of());
  }
}
