package dev.veriruntime.verifier;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.Reference;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer of {@link BinaryVerifier} for one file. Immutable.
 *
 * @param verdict {@link Verdict#decide} of {@code coverage}
 * @param path the path reported for the file (as given to the verifier)
 * @param sha256 lowercase hex SHA-256 of the bytes read
 * @param identity device, inode, ctime and size of the file that was read
 * @param coverage one result per intended scope (DISK_HASH, ELF_HEADER, ELF_SECTIONS, SIGNATURE)
 * @param findings what the checks noticed, in scope order
 * @param reference the reference that vouched for the digest or, when the digest differs, the one
 *     registered for the path; {@code null} when none
 * @param checkedAt when the verification started, from the verifier's clock
 * @param packageRecord the package database's record that was compared with the file (when no
 *     reference knew it): it vouched when DISK_HASH is VERIFIED, else it names what differs; {@code
 *     null} when the package database was not asked or owns no such path
 * @param lineage what build lineage vouched with when LINEAGE is VERIFIED; {@code null} otherwise
 */
public record BinaryVerification(
    Verdict verdict,
    String path,
    String sha256,
    FileIdentity identity,
    Coverage coverage,
    List<Finding> findings,
    Reference reference,
    Instant checkedAt,
    PackageDatabase.PackageFile packageRecord,
    LineageVouch lineage) {

  /** A verification that neither the package database nor build lineage took part in. */
  public BinaryVerification(
      Verdict verdict,
      String path,
      String sha256,
      FileIdentity identity,
      Coverage coverage,
      List<Finding> findings,
      Reference reference,
      Instant checkedAt) {
    this(verdict, path, sha256, identity, coverage, findings, reference, checkedAt, null, null);
  }

  public BinaryVerification {
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(coverage, "coverage");
    Objects.requireNonNull(checkedAt, "checkedAt");
    findings = List.copyOf(findings);
  }

  /**
   * Whether anything trusted knows this file: a reference (by digest or path) or the package
   * database. False exactly when the verdict is {@link Verdict#UNKNOWN}.
   */
  public boolean known() {
    return verdict != Verdict.UNKNOWN;
  }

  public Optional<Reference> matchedReference() {
    return Optional.ofNullable(reference);
  }

  /** The result for one scope; empty if that scope was not intended. */
  public Optional<ScopeResult> scope(Scope scope) {
    return coverage.get(scope);
  }
}
