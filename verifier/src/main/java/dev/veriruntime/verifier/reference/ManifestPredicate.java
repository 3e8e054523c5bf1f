package dev.veriruntime.verifier.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The predicate of VeriRuntime's own manifests ({@link #TYPE}): for each subject name, the SHA-256
 * of each ELF section and a few ELF facts, so that a mismatch can name what changed. Subjects stay
 * in the statement's {@code subject} list, exactly as for any other predicate type. Immutable.
 *
 * <pre>{@code
 * "predicate": {
 *   "files": {
 *     "/usr/bin/ls": {
 *       "sections": {".text": "<sha256>", ".rodata": "<sha256>", ...},
 *       "elf": {"class": "ELF64", "machine": "62", "type": "DYN", "buildId": "<hex>"}
 *     }
 *   }
 * }
 * }</pre>
 */
public record ManifestPredicate(Map<String, FileFacts> files) {
  /** The predicate type of a VeriRuntime manifest. */
  public static final String TYPE = "https://veriruntime.dev/manifest/v1";

  /**
   * What the manifest records about one file beyond its whole-file digest.
   *
   * @param sections section name to lowercase hex SHA-256 of the section's bytes in the file
   * @param elf free-form ELF facts (class, machine, type, buildId...), informational
   */
  public record FileFacts(Map<String, String> sections, Map<String, String> elf) {
    public FileFacts {
      sections = Map.copyOf(sections);
      elf = Map.copyOf(elf);
    }
  }

  public ManifestPredicate {
    files = Map.copyOf(files);
  }

  /**
   * Read the predicate of a {@link #TYPE} statement.
   *
   * @throws ReferenceException MALFORMED if {@code files} is not an object of objects, or a section
   *     digest is not a hex SHA-256
   */
  public static ManifestPredicate fromJson(JsonNode predicate, String where)
      throws ReferenceException {
    JsonNode files = predicate.get("files");
    if (files == null || files.isNull()) {
      return new ManifestPredicate(Map.of());
    }
    if (!files.isObject()) {
      throw Json.malformed(where + ": predicate.files is not an object");
    }
    Map<String, FileFacts> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      String at = where + ": predicate.files[\"" + Json.abbreviate(f.getKey()) + "\"]";
      if (!f.getValue().isObject()) {
        throw Json.malformed(at + " is not an object");
      }
      Map<String, String> sections = new LinkedHashMap<>();
      for (Map.Entry<String, String> e :
          strings(f.getValue().get("sections"), at + ".sections").entrySet()) {
        sections.put(
            e.getKey(), Json.requireSha256(e.getValue(), at + ".sections[\"" + e.getKey() + "\"]"));
      }
      out.put(f.getKey(), new FileFacts(sections, strings(f.getValue().get("elf"), at + ".elf")));
    }
    return new ManifestPredicate(out);
  }

  private static Map<String, String> strings(JsonNode node, String where)
      throws ReferenceException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw Json.malformed(where + " is not an object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode() || e.getValue().isNull()) {
        throw Json.malformed(where + "." + e.getKey() + " is not a string or number");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  /** The predicate as JSON, keys sorted so that equal manifests serialise to equal bytes. */
  public ObjectNode toJson() {
    ObjectNode node = Json.MAPPER.createObjectNode();
    ObjectNode files = node.putObject("files");
    for (Map.Entry<String, FileFacts> f : new TreeMap<>(this.files).entrySet()) {
      ObjectNode o = files.putObject(f.getKey());
      ObjectNode s = o.putObject("sections");
      new TreeMap<>(f.getValue().sections()).forEach(s::put);
      ObjectNode e = o.putObject("elf");
      new TreeMap<>(f.getValue().elf()).forEach(e::put);
    }
    return node;
  }
}
