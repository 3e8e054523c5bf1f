package dev.veriruntime.verifier.reference;

import java.util.List;

/**
 * One statement read from a reference file, with the references taken from it.
 *
 * @param source the file, statement and signer (if any)
 * @param references one per subject that has a SHA-256 digest
 * @param skippedSubjects subjects without a SHA-256 digest (for example only {@code sha512}): they
 *     cannot vouch for anything and are left out
 */
public record LoadedStatement(
    ReferenceSource source, List<Reference> references, int skippedSubjects) {
  public LoadedStatement {
    references = List.copyOf(references);
  }

  /** Whether the statement came inside a DSSE envelope (possibly with no trusted signature). */
  public boolean enveloped() {
    return source.enveloped();
  }

  public InTotoStatement statement() {
    return source.statement();
  }
}
