package dev.veriruntime.verifier.reference;

import java.util.List;

/**
 * One statement read from a reference file, with the references taken from it.
 *
 * @param source the file, statement and signer (if any)
 * @param enveloped whether the statement came inside a DSSE envelope (possibly with no trusted
 *     signature)
 * @param references one per subject that has a SHA-256 digest
 * @param skippedSubjects subjects without a SHA-256 digest (for example only {@code sha512}): they
 *     cannot vouch for anything and are left out
 */
public record LoadedStatement(ReferenceSource source, boolean enveloped, List<Reference> references, int skippedSubjects) {
  public LoadedStatement {
    references = List.copyOf(references);
  }

  public InTotoStatement statement() {
    return source.statement();
  }
}
