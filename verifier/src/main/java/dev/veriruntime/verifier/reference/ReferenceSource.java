package dev.veriruntime.verifier.reference;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a {@link Reference} came from: the file, the statement inside it, and whether that statement
 * arrived in a DSSE envelope whose signature verified against a trusted key. Shared by all the
 * references of one statement. Immutable.
 *
 * @param file the reference file as given (a manifest, an {@code .intoto.jsonl}...)
 * @param statement the statement the references were taken from
 * @param payloadSha256 lowercase hex SHA-256 of the statement bytes (the DSSE payload, or the plain
 *     statement document), naming the statement in evidence
 * @param signedByKeyId key id of the trusted key whose signature verified, or {@code null} if the
 *     statement is unsigned (plain JSON, or an envelope with no trusted signature)
 */
public record ReferenceSource(Path file, InTotoStatement statement, String payloadSha256, String signedByKeyId) {

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

  public String predicateType() {
    return statement.predicateType();
  }
}
