package dev.veriruntime.verifier;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of one ELF scope check: the {@link ScopeResult} and the findings behind it. A result
 * is FAILED exactly when there is at least one finding that makes it so; informational findings
 * (for example text relocations in a library) may accompany a VERIFIED result.
 */
public record ElfCheck(ScopeResult result, List<Finding> findings) {
  public ElfCheck {
    Objects.requireNonNull(result, "result");
    findings = List.copyOf(findings);
  }
}
