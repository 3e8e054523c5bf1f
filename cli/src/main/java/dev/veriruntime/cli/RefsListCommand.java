package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code refs list}: the subjects of reference files, with their section counts and who signed
 * them. Unlike {@code refs verify} it also lists statements no trusted key signed, saying so.
 */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "List the subjects of reference files: name, sha256, section digests, signer key id.",
      "%nWithout --trusted-key signatures are not checked and signers are shown as claimed.",
      "%nExit codes: 0 listed, 10 unreadable, 11 malformed, 12 a trusted key's signature does not verify, 13 bad key."
    })
final class RefsListCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "reference file(s)")
  List<Path> files = new ArrayList<>();

  @Option(
      names = "--trusted-key",
      paramLabel = "PUB",
      description = "SPKI PEM public key to check signatures with (repeatable)")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--json", description = "print the subjects as JSON")
  boolean json;

  /** Who signed one statement: a verified trusted key, or the key ids the envelope claims. */
  private record Signer(String keyId, boolean verified, String describe) {}

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    ObjectNode root = JsonOutput.object();
    ArrayNode subjects = root.putArray("subjects");
    for (Path file : files) {
      List<LoadedStatement> loaded =
          ReferenceFiles.load(file, trustedKeys, SignaturePolicy.ALLOW_UNSIGNED);
      List<JsonNode> documents;
      try {
        documents = ReferenceLoader.readDocuments(file);
      } catch (ReferenceException e) {
        throw ExitCodes.failure(e);
      }
      for (int i = 0; i < loaded.size(); i++) {
        LoadedStatement s = loaded.get(i);
        Signer signer = signer(s, documents.get(i), file);
        if (!json) {
          o.printf(
              "%s: %d subject(s), %s, %s%n",
              file, s.references().size(), s.statement().predicateType(), signer.describe());
        }
        for (Reference r : s.references()) {
          if (json) {
            subjects
                .addObject()
                .put("file", file.toString())
                .put("name", r.name())
                .put("sha256", r.sha256())
                .put("sections", r.sectionDigests().size())
                .put("signer", signer.keyId())
                .put("signatureVerified", signer.verified())
                .put("predicateType", s.statement().predicateType());
          } else {
            o.printf(
                "  %s  %3d sections  %s%n",
                r.sha256(), r.sectionDigests().size(), r.name().isEmpty() ? "(no name)" : r.name());
          }
        }
      }
    }
    if (json) {
      root.put("count", subjects.size());
      JsonOutput.print(o, root);
    }
    o.flush();
    return ExitCodes.OK;
  }

  private static Signer signer(LoadedStatement s, JsonNode document, Path file) {
    if (s.source().signed()) {
      String id = s.source().signedByKeyId();
      return new Signer(id, true, "signed by " + id + " (verified)");
    }
    if (!s.enveloped()) {
      return new Signer(null, false, "unsigned plain statement");
    }
    List<String> claimed = new ArrayList<>();
    try {
      for (DsseEnvelope.Signature sig :
          DsseEnvelope.fromJson(document, file.toString()).signatures()) {
        claimed.add(sig.keyId().isEmpty() ? "(no keyid)" : sig.keyId());
      }
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e); // the loader read the same document, so this cannot happen
    }
    if (claimed.isEmpty()) {
      return new Signer(null, false, "envelope without signatures");
    }
    return new Signer(
        claimed.get(0),
        false,
        "signature by " + String.join(", ", claimed) + " NOT verified (no trusted key for it)");
  }
}
