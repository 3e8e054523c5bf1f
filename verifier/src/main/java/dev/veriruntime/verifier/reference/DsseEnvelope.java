package dev.veriruntime.verifier.reference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * A DSSE envelope (Dead Simple Signing Envelope v1): a typed payload plus signatures over its
 * pre-authentication encoding {@link #pae}. Only the envelope layout lives here; deciding whether a
 * signature is trusted is {@link ReferenceLoader}'s job. Immutable and thread-safe.
 *
 * <pre>{@code
 * {"payloadType": "application/vnd.in-toto+json",
 *  "payload": "<base64 of the statement bytes>",
 *  "signatures": [{"keyid": "<hex sha256 of signer SPKI>", "sig": "<base64 signature>"}]}
 * }</pre>
 */
public final class DsseEnvelope {
  /** The payload type of an in-toto statement. */
  public static final String IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

  /** One signature; {@code keyId} may be empty (DSSE makes it optional). */
  public record Signature(String keyId, byte[] sig) {
    public Signature {
      keyId = keyId == null ? "" : keyId;
      sig = sig.clone();
    }

    @Override
    public byte[] sig() {
      return sig.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Signature s && s.keyId.equals(keyId) && Arrays.equals(s.sig, sig);
    }

    @Override
    public int hashCode() {
      return 31 * keyId.hashCode() + Arrays.hashCode(sig);
    }

    @Override
    public String toString() {
      return "Signature[keyid=" + keyId + "]";
    }
  }

  private final String payloadType;
  private final byte[] payload;
  private final List<Signature> signatures;

  public DsseEnvelope(String payloadType, byte[] payload, List<Signature> signatures) {
    this.payloadType = Objects.requireNonNull(payloadType, "payloadType");
    this.payload = payload.clone();
    this.signatures = List.copyOf(signatures);
  }

  /**
   * The DSSE v1 pre-authentication encoding that is actually signed: {@code "DSSEv1" SP LEN(type)
   * SP type SP LEN(body) SP body}, lengths as ASCII decimal byte counts. Binding the type into the
   * signed bytes stops a signature for one payload type being replayed as another.
   */
  public static byte[] pae(String payloadType, byte[] body) {
    byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
    byte[] head =
        ("DSSEv1 " + type.length + " " + payloadType + " " + body.length + " ")
            .getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    return out;
  }

  /** Sign {@code payload} with one key: the key's id goes into the signature's {@code keyid}. */
  public static DsseEnvelope sign(String payloadType, byte[] payload, SigningKey key) {
    byte[] sig = key.sign(pae(payloadType, payload));
    return new DsseEnvelope(payloadType, payload, List.of(new Signature(key.keyId(), sig)));
  }

  /**
   * Read the envelope layout from a parsed JSON object.
   *
   * @param where names the source in error messages
   * @throws ReferenceException MALFORMED if a field is missing, has the wrong type, or is not
   *     base64
   */
  public static DsseEnvelope fromJson(JsonNode node, String where) throws ReferenceException {
    if (!node.isObject()) {
      throw Json.malformed(where + ": a DSSE envelope must be a JSON object");
    }
    String type = Json.requireText(node, "payloadType", where);
    byte[] payload = base64(Json.requireText(node, "payload", where), where + ": payload");
    JsonNode sigs = node.get("signatures");
    if (sigs == null || !sigs.isArray()) {
      throw Json.malformed(
          where + ": field 'signatures' is " + (sigs == null ? "missing" : "not an array"));
    }
    List<Signature> list = new ArrayList<>();
    for (int i = 0; i < sigs.size(); i++) {
      JsonNode s = sigs.get(i);
      String at = where + ": signatures[" + i + "]";
      if (!s.isObject()) {
        throw Json.malformed(at + " is not an object");
      }
      JsonNode keyId = s.get("keyid");
      if (keyId != null && !keyId.isTextual() && !keyId.isNull()) {
        throw Json.malformed(at + ".keyid is not a string");
      }
      String id = keyId == null || keyId.isNull() ? "" : keyId.asText();
      list.add(new Signature(id, base64(Json.requireText(s, "sig", at), at + ".sig")));
    }
    return new DsseEnvelope(type, payload, list);
  }

  /** DSSE accepts standard and URL-safe base64, padded or not. */
  static byte[] base64(String text, String where) throws ReferenceException {
    try {
      boolean urlSafe = text.indexOf('-') >= 0 || text.indexOf('_') >= 0;
      return (urlSafe ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(text);
    } catch (IllegalArgumentException e) {
      throw Json.malformed(where + " is not valid base64: " + e.getMessage());
    }
  }

  public String payloadType() {
    return payloadType;
  }

  /** The payload bytes (a copy). */
  public byte[] payload() {
    return payload.clone();
  }

  public List<Signature> signatures() {
    return signatures;
  }

  /** The PAE bytes that each signature covers. */
  public byte[] pae() {
    return pae(payloadType, payload);
  }

  public ObjectNode toJson() {
    ObjectNode node = Json.MAPPER.createObjectNode();
    node.put("payloadType", payloadType);
    node.put("payload", Base64.getEncoder().encodeToString(payload));
    ArrayNode sigs = node.putArray("signatures");
    for (Signature s : signatures) {
      sigs.addObject()
          .put("keyid", s.keyId())
          .put("sig", Base64.getEncoder().encodeToString(s.sig));
    }
    return node;
  }

  /** Pretty-printed JSON with a trailing newline, as written by {@code refs sign}. */
  public byte[] toJsonBytes() {
    try {
      return (Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n")
          .getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings always serialises", e);
    }
  }
}
