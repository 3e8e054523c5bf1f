package dev.veriruntime.verifier.reference;

import java.util.Map;
import java.util.Objects;

/**
 * One trusted statement that a file with digest {@link #sha256()} and name {@link #name()} is
 * intended to run. Immutable.
 *
 * @param name the subject name: for VeriRuntime manifests the absolute path of the file; for SLSA
 *     provenance whatever the build called the artifact (may be empty)
 * @param sha256 lowercase hex SHA-256 of the whole file
 * @param sectionDigests section name to lowercase hex SHA-256 of the section's file bytes; empty
 *     when the source carried none (any predicate type other than {@link ManifestPredicate#TYPE})
 * @param elfFacts informational ELF facts (class, machine, type, buildId...); may be empty
 * @param source the statement and file the reference came from, and who signed it
 */
public record Reference(
    String name,
    String sha256,
    Map<String, String> sectionDigests,
    Map<String, String> elfFacts,
    ReferenceSource source) {

  public Reference {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(source, "source");
    sectionDigests = Map.copyOf(sectionDigests);
    elfFacts = Map.copyOf(elfFacts);
  }

  /** Whether the statement this reference came from had a verified signature by a trusted key. */
  public boolean signed() {
    return source.signed();
  }

  /** "NAME (from FILE, signed by KEYID)" or "... unsigned": for reasons and log lines. */
  public String describe() {
    String n = name.isEmpty() ? "sha256:" + sha256.substring(0, 12) : name;
    return n
        + " (from "
        + source.file()
        + ", "
        + (signed() ? "signed by " + source.signedByKeyId().substring(0, 16) : "unsigned")
        + ")";
  }
}
