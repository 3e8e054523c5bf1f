package dev.veriruntime.verifier.reference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An in-toto attestation Statement: what it is about ({@link #subjects()}) and a typed predicate
 * saying something about them. Any predicate type is accepted (SLSA provenance, our own {@link
 * ManifestPredicate}...): for reference purposes only the subjects' SHA-256 digests and names
 * matter. Immutable and thread-safe (the predicate is a private deep copy).
 *
 * <pre>{@code
 * {"_type": "https://in-toto.io/Statement/v1",
 *  "subject": [{"name": "/usr/bin/ls", "digest": {"sha256": "..."}}],
 *  "predicateType": "https://slsa.dev/provenance/v1",
 *  "predicate": {...}}
 * }</pre>
 */
public final class InTotoStatement {
  public static final String STATEMENT_V1 = "https://in-toto.io/Statement/v1";

  /** The earlier statement type; SLSA v0.2 provenance uses it, with the same subject layout. */
  public static final String STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";

  private static final Set<String> ACCEPTED_TYPES = Set.of(STATEMENT_V1, STATEMENT_V01);

  /**
   * One subject: a name (for VeriRuntime manifests an absolute path; for SLSA an artifact file
   * name) and its digests by algorithm. Digest values are lowercase hex.
   */
  public record Subject(String name, Map<String, String> digest) {
    public Subject {
      name = name == null ? "" : name;
      digest = Map.copyOf(digest);
    }

    public Optional<String> sha256() {
      return Optional.ofNullable(digest.get("sha256"));
    }
  }

  private final String type;
  private final List<Subject> subjects;
  private final String predicateType;
  private final JsonNode predicate;

  public InTotoStatement(
      String type, List<Subject> subjects, String predicateType, JsonNode predicate) {
    this.type = Objects.requireNonNull(type, "type");
    this.subjects = List.copyOf(subjects);
    this.predicateType = Objects.requireNonNull(predicateType, "predicateType");
    this.predicate = predicate == null ? Json.MAPPER.createObjectNode() : predicate.deepCopy();
  }

  /** A v1 statement. */
  public static InTotoStatement of(
      List<Subject> subjects, String predicateType, JsonNode predicate) {
    return new InTotoStatement(STATEMENT_V1, subjects, predicateType, predicate);
  }

  /**
   * Read a statement from parsed JSON.
   *
   * @param where names the source in error messages
   * @throws ReferenceException MALFORMED if {@code _type} is not an in-toto Statement type, or a
   *     required field is missing or of the wrong shape, or a {@code sha256} digest is not 64 hex
   *     digits
   */
  public static InTotoStatement fromJson(JsonNode node, String where) throws ReferenceException {
    if (!node.isObject()) {
      throw Json.malformed(where + ": an in-toto statement must be a JSON object");
    }
    String type = Json.requireText(node, "_type", where);
    if (!ACCEPTED_TYPES.contains(type)) {
      throw Json.malformed(
          where
              + ": _type '"
              + Json.abbreviate(type)
              + "' is not an in-toto Statement (expected "
              + STATEMENT_V1
              + ")");
    }
    JsonNode subjectNode = node.get("subject");
    if (subjectNode == null || !subjectNode.isArray() || subjectNode.isEmpty()) {
      throw Json.malformed(where + ": field 'subject' must be a non-empty array");
    }
    List<Subject> subjects = new ArrayList<>(subjectNode.size());
    for (int i = 0; i < subjectNode.size(); i++) {
      subjects.add(subject(subjectNode.get(i), where + ": subject[" + i + "]"));
    }
    String predicateType = Json.requireText(node, "predicateType", where);
    JsonNode predicate = node.get("predicate");
    if (predicate != null && !predicate.isObject() && !predicate.isNull()) {
      throw Json.malformed(where + ": field 'predicate' is not an object");
    }
    return new InTotoStatement(
        type, subjects, predicateType, predicate == null || predicate.isNull() ? null : predicate);
  }

  private static Subject subject(JsonNode s, String where) throws ReferenceException {
    if (!s.isObject()) {
      throw Json.malformed(where + " is not an object");
    }
    JsonNode name = s.get("name");
    if (name != null && !name.isTextual()) {
      throw Json.malformed(where + ".name is not a string");
    }
    JsonNode digestNode = Json.requireObject(s, "digest", where);
    Map<String, String> digest = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = digestNode.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isTextual()) {
        throw Json.malformed(where + ".digest." + e.getKey() + " is not a string");
      }
      String value = e.getValue().asText();
      digest.put(
          e.getKey(),
          "sha256".equals(e.getKey())
              ? Json.requireSha256(value, where + ".digest.sha256")
              : value);
    }
    return new Subject(name == null ? "" : name.asText(), digest);
  }

  /** {@code _type}: {@link #STATEMENT_V1} or {@link #STATEMENT_V01}. */
  public String type() {
    return type;
  }

  public List<Subject> subjects() {
    return subjects;
  }

  public String predicateType() {
    return predicateType;
  }

  /** The predicate (a copy; an empty object when the statement had none). */
  public JsonNode predicate() {
    return predicate.deepCopy();
  }

  /** Read-only access for this package without copying a possibly large SLSA predicate. */
  JsonNode predicateView() {
    return predicate;
  }

  public ObjectNode toJson() {
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("_type", type);
    ArrayNode subj = node.putArray("subject");
    for (Subject s : subjects) {
      ObjectNode o = subj.addObject();
      o.put("name", s.name());
      ObjectNode d = o.putObject("digest");
      s.digest().entrySet().stream()
          .sorted(Map.Entry.comparingByKey())
          .forEach(e -> d.put(e.getKey(), e.getValue()));
    }
    node.put("predicateType", predicateType);
    node.set("predicate", predicate.deepCopy());
    return node;
  }

  /** Compact JSON: the bytes that become a DSSE payload. */
  public byte[] toJsonBytes() {
    try {
      return Json.MAPPER.writeValueAsString(toJson()).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serialises", e);
    }
  }
}
