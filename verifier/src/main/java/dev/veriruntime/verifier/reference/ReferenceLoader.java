package dev.veriruntime.verifier.reference;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reads reference files into {@link Reference}s. A file holds one or more JSON documents (one
 * object, or JSON Lines as in SLSA's {@code .intoto.jsonl}); each is either a DSSE envelope whose
 * payload is an in-toto statement, or a plain in-toto statement (always unsigned).
 *
 * <p>Signature rules for an envelope: a signature whose {@code keyid} names a trusted key must
 * verify with that key, else the file is refused (SIGNATURE_INVALID) whatever the policy; a
 * signature without a {@code keyid} is tried against every trusted key; signatures by unknown key
 * ids are ignored. The statement is signed if at least one trusted signature verified; otherwise
 * {@link SignaturePolicy} decides between refusing and loading it unsigned.
 *
 * <p>Stateless apart from its configuration; thread-safe.
 *
 * <pre>{@code
 * ReferenceLoader loader = new ReferenceLoader(TrustedKeys.load(keyFiles), SignaturePolicy.ALLOW_UNSIGNED);
 * ReferenceStore store = loader.loadAll(referenceFiles);
 * }</pre>
 */
public final class ReferenceLoader {
  /** Reference files are read whole; a larger file is refused rather than exhausting the heap. */
  static final int MAX_FILE_BYTES = 256 * 1024 * 1024;

  private final TrustedKeys trusted;
  private final SignaturePolicy policy;

  public ReferenceLoader(TrustedKeys trusted, SignaturePolicy policy) {
    this.trusted = Objects.requireNonNull(trusted, "trusted");
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /**
   * Load every file into one store.
   *
   * @throws ReferenceException for the first file that cannot be used (see {@link #load})
   */
  public ReferenceStore loadAll(Collection<Path> files) throws ReferenceException {
    ReferenceStore.Builder builder = ReferenceStore.builder();
    for (Path f : files) {
      for (LoadedStatement s : load(f)) {
        builder.addAll(s.references());
      }
    }
    return builder.build();
  }

  /**
   * Read, check and convert every statement in one file.
   *
   * @throws ReferenceException UNREADABLE (missing, directory, permission, I/O error, too large),
   *     MALFORMED (not JSON, neither envelope nor statement, bad base64, bad digest, wrong payload
   *     type), SIGNATURE_INVALID (a trusted key's signature does not verify, or under {@link
   *     SignaturePolicy#REQUIRE_TRUSTED} no trusted signature at all)
   */
  public List<LoadedStatement> load(Path file) throws ReferenceException {
    return load(read(file), file);
  }

  /**
   * {@link #load(Path)} of bytes already read ({@code file} only names them): the seam the fuzz
   * target drives.
   */
  List<LoadedStatement> load(byte[] bytes, Path file) throws ReferenceException {
    List<JsonNode> documents = parse(bytes, file);
    List<LoadedStatement> out = new ArrayList<>(documents.size());
    for (int i = 0; i < documents.size(); i++) {
      String where = documents.size() == 1 ? file.toString() : file + " (document " + (i + 1) + ")";
      out.add(loadDocument(documents.get(i), file, where));
    }
    return out;
  }

  /**
   * The exact bytes of a file that holds one plain in-toto statement, after checking that it is
   * one: what {@code refs sign} signs, byte for byte, so fields this reader ignores are kept.
   *
   * @throws ReferenceException UNREADABLE as for {@link #load}; MALFORMED if the file is not
   *     exactly one JSON object that is a valid in-toto statement (an envelope is refused too)
   */
  public static byte[] readStatementBytes(Path file) throws ReferenceException {
    byte[] bytes = read(file);
    List<JsonNode> documents = parse(bytes, file);
    if (documents.size() != 1) {
      throw Json.malformed(
          file + " holds " + documents.size() + " JSON documents, expected one in-toto statement");
    }
    JsonNode doc = documents.get(0);
    if (doc.isObject() && doc.has("payloadType")) {
      throw Json.malformed(
          file + " is already a DSSE envelope, expected a plain in-toto statement");
    }
    InTotoStatement.fromJson(doc, file.toString());
    return bytes;
  }

  /**
   * The JSON documents of a reference file, parsed but not checked (no signature, no statement
   * validation): for tools that copy or inspect envelopes as they are, after {@link #load} has
   * accepted the file.
   *
   * @throws ReferenceException UNREADABLE as for {@link #load}; MALFORMED if it is not JSON
   */
  public static List<JsonNode> readDocuments(Path file) throws ReferenceException {
    return parse(read(file), file);
  }

  private LoadedStatement loadDocument(JsonNode doc, Path file, String where)
      throws ReferenceException {
    if (doc.isObject() && doc.has("payloadType")) {
      DsseEnvelope envelope = DsseEnvelope.fromJson(doc, where);
      String signer = checkSignatures(envelope, where);
      if (!DsseEnvelope.IN_TOTO_PAYLOAD_TYPE.equals(envelope.payloadType())) {
        throw Json.malformed(
            where
                + ": payloadType '"
                + Json.abbreviate(envelope.payloadType())
                + "' is not "
                + DsseEnvelope.IN_TOTO_PAYLOAD_TYPE);
      }
      byte[] payload = envelope.payload();
      JsonNode statementJson;
      try {
        statementJson = Json.MAPPER.readTree(payload);
      } catch (IOException e) {
        throw Json.malformed(
            where
                + ": payload is not valid JSON: "
                + (e instanceof JsonProcessingException j ? Json.describe(j) : e.getMessage()));
      }
      if (statementJson == null) {
        throw Json.malformed(where + ": payload is empty");
      }
      InTotoStatement statement = InTotoStatement.fromJson(statementJson, where + " payload");
      return references(
          new ReferenceSource(
              file,
              statement,
              Crypto.sha256Hex(payload),
              signer,
              true,
              signer == null ? null : trusted.get(signer).map(TrustedKey::origin).orElse(null)),
          where);
    }
    if (doc.isObject() && doc.has("_type")) {
      InTotoStatement statement = InTotoStatement.fromJson(doc, where);
      if (policy == SignaturePolicy.REQUIRE_TRUSTED) {
        throw new ReferenceException(
            ReferenceException.Kind.SIGNATURE_INVALID,
            where + " is a plain, unsigned in-toto statement, not a signed DSSE envelope");
      }
      byte[] canonical = statement.toJsonBytes();
      return references(
          new ReferenceSource(file, statement, Crypto.sha256Hex(canonical), null, false), where);
    }
    throw Json.malformed(
        where + ": neither a DSSE envelope (payloadType) nor an in-toto statement (_type)");
  }

  /**
   * The key id of a trusted signature that verified, or null when none did and the policy allows.
   */
  private String checkSignatures(DsseEnvelope envelope, String where) throws ReferenceException {
    byte[] pae = envelope.pae();
    String verifiedBy = null;
    List<String> unknown = new ArrayList<>();
    for (DsseEnvelope.Signature s : envelope.signatures()) {
      if (!s.keyId().isEmpty()) {
        TrustedKey key = trusted.get(s.keyId()).orElse(null);
        if (key == null) {
          unknown.add(s.keyId());
        } else if (key.verify(pae, s.sig())) {
          verifiedBy = verifiedBy == null ? key.keyId() : verifiedBy;
        } else {
          throw new ReferenceException(
              ReferenceException.Kind.SIGNATURE_INVALID,
              where
                  + ": signature by trusted key "
                  + key.keyId()
                  + " does not verify (payload or signature altered)");
        }
      } else {
        String match = null;
        for (TrustedKey key : trusted.all()) {
          if (key.verify(pae, s.sig())) {
            match = key.keyId();
            break;
          }
        }
        if (match == null) {
          unknown.add("(signature without keyid)");
        } else if (verifiedBy == null) {
          verifiedBy = match;
        }
      }
    }
    if (verifiedBy != null || policy == SignaturePolicy.ALLOW_UNSIGNED) {
      return verifiedBy;
    }
    String why;
    if (envelope.signatures().isEmpty()) {
      why = "the envelope has no signatures";
    } else if (trusted.isEmpty()) {
      why = "no trusted keys were given";
    } else {
      why = "no trusted key signed it (signatures by " + String.join(", ", unknown) + ")";
    }
    throw new ReferenceException(
        ReferenceException.Kind.SIGNATURE_INVALID, where + ": not signed by a trusted key: " + why);
  }

  private static LoadedStatement references(ReferenceSource source, String where)
      throws ReferenceException {
    InTotoStatement statement = source.statement();
    ManifestPredicate manifest =
        ManifestPredicate.TYPE.equals(statement.predicateType())
            ? ManifestPredicate.fromJson(statement.predicateView(), where)
            : new ManifestPredicate(Map.of());
    List<Reference> refs = new ArrayList<>(statement.subjects().size());
    int skipped = 0;
    for (InTotoStatement.Subject s : statement.subjects()) {
      String sha = s.sha256().orElse(null);
      if (sha == null) {
        skipped++;
        continue;
      }
      ManifestPredicate.FileFacts facts = manifest.files().get(s.name());
      refs.add(
          new Reference(
              s.name(),
              sha,
              facts == null ? Map.of() : facts.sections(),
              facts == null ? Map.of() : facts.elf(),
              source));
    }
    return new LoadedStatement(source, refs, skipped);
  }

  private static byte[] read(Path file) throws ReferenceException {
    try {
      if (Files.isDirectory(file)) {
        throw unreadable("reference file " + file + " is a directory");
      }
      byte[] bytes = readAtMost(file, MAX_FILE_BYTES);
      if (bytes == null) {
        throw unreadable(
            "reference file " + file + " is over the " + MAX_FILE_BYTES + " byte limit");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw unreadable("reference file " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw unreadable("reference file " + file + " cannot be read: permission denied");
    } catch (IOException e) {
      throw unreadable("reference file " + file + " cannot be read: " + e.getMessage());
    }
  }

  /**
   * The whole content of {@code file}, or null if it has more than {@code max} bytes. Reads rather
   * than trusting {@code size()}, so pipes ({@code <(...)}) work and {@code /dev/zero} cannot
   * exhaust the heap.
   */
  static byte[] readAtMost(Path file, int max) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(max);
      return in.read() < 0 ? bytes : null;
    }
  }

  private static List<JsonNode> parse(byte[] bytes, Path file) throws ReferenceException {
    List<JsonNode> docs = new ArrayList<>(1);
    try (MappingIterator<JsonNode> it = Json.MAPPER.readerFor(JsonNode.class).readValues(bytes)) {
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    } catch (JsonProcessingException e) {
      throw Json.malformed(file + " is not valid JSON: " + Json.describe(e));
    } catch (IOException e) {
      throw Json.malformed(file + " is not valid JSON: " + e.getMessage());
    }
    if (docs.isEmpty()) {
      throw Json.malformed(file + " is empty: no JSON document");
    }
    return docs;
  }

  private static ReferenceException unreadable(String message) {
    return new ReferenceException(ReferenceException.Kind.UNREADABLE, message);
  }
}
