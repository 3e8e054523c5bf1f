package dev.veriruntime.verifier.lineage;

import dev.veriruntime.verifier.BinaryVerification;
import java.util.Objects;

/**
 * What {@link LineageTrust} decided for one executed or mapped file, with the verification to use
 * from now on (the given one, or one with a {@link dev.veriruntime.verifier.Scope#LINEAGE} result
 * added).
 *
 * @param outcome which rule applied
 * @param verification the verification to classify
 * @param root the lineage root that contains the file, or {@code null} when none does
 * @param record the lineage record behind the outcome (the matching one, or the one that no longer
 *     matches), or {@code null}
 */
public record LineageDecision(
    Outcome outcome, BinaryVerification verification, String root, LineageRecord record) {

  /** The rules, in the order they are tried. */
  public enum Outcome {
    /** A reference, the package database or an ELF check already decided: lineage is not asked. */
    NOT_ASKED,
    /** The file lies in no lineage root: lineage does not apply. */
    OUTSIDE_ROOTS,
    /** Written by verified toolchain processes and unchanged since: LINEAGE verified. */
    TRUSTED,
    /** Written by toolchain processes, then changed by something else: the lineage is void. */
    CHANGED_SINCE_WRITTEN,
    /** Inside a root, but no toolchain process wrote this inode (copied, downloaded...). */
    NO_LINEAGE
  }

  public LineageDecision {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(verification, "verification");
  }

  /** Whether this decision is worth an evidence record: lineage was asked inside a root. */
  public boolean inRoot() {
    return root != null && outcome != Outcome.NOT_ASKED;
  }
}
