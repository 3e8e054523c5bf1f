package dev.veriruntime.verifier.reference;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a {@link Reference} came from: the file, the statement inside it, and whether that
 * statement arrived in a DSSE envelope whose signature verified against a trusted key. Shared by
 * all the references of one statement. Immutable.
 *
 * @param file the reference file as given (a manifest, an {@code .intoto.jsonl}...)
 * @param statement the statement the references were taken from
 * @param payloadSha256 lowercase hex SHA-256 naming the statement in evidence: of the DSSE payload
 *     bytes for an envelope; of the statement re-serialised as compact JSON ({@link
 *     InTotoStatement#toJsonBytes()}) for a plain statement
 * @param signedByKeyId key id of the trusted key whose signature verified, or {@code null} if the
 *     statement is unsigned (plain JSON, or an envelope with no trusted signature)
 * @param enveloped whether the statement came in a DSSE envelope (which, when {@code signedByKeyId}
 *     is null, no trusted key signed)
 * @param signedByKeyOrigin where the trusted key of {@code signedByKeyId} was loaded from (its PEM
 *     file), or {@code null} when unsigned or not known
 */
public record ReferenceSource(
    Path file,
    InTotoStatement statement,
    String payloadSha256,
    String signedByKeyId,
    boolean enveloped,
    String signedByKeyOrigin) {

  /** A source whose signing key's origin is not known. */
  public ReferenceSource(
      Path file,
      InTotoStatement statement,
      String payloadSha256,
      String signedByKeyId,
      boolean enveloped) {
    this(file, statement, payloadSha256, signedByKeyId, enveloped, null);
  }

  public ReferenceSource {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(payloadSha256, "payloadSha256");
  }

  /** True only when a trusted key's signature over this statement verified. */
  public boolean signed() {
    return signedByKeyId != null;
  }

  public Optional<String> signedBy() {
    return Optional.ofNullable(signedByKeyId);
  }

  /** Why an unsigned source is unsigned, for reasons shown to operators; empty when signed. */
  public String unsignedBecause() {
    if (signed()) {
      return "";
    }
    return enveloped ? "envelope not signed by a trusted key" : "plain statement, no envelope";
  }

  public String predicateType() {
    return statement.predicateType();
  }
}
