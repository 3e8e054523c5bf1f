package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.Section;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code refs import}, {@code refs add}, {@code refs list} and {@code refs diff}. */
class RefsImportListDiffCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private String ciKeyId;

  @BeforeEach
  void keys() {
    CliRun ci =
        CliRun.of("refs", "keygen", "--type", "ecdsa-p256", "--out", p("ci").toString(), "--json");
    assertThat(ci.exitCode()).as(ci.err()).isZero();
    ciKeyId = ci.json().get("keyId").asText();
    assertThat(
            CliRun.of("refs", "keygen", "--type", "ed25519", "--out", p("other").toString())
                .exitCode())
        .isZero();
  }

  private Path p(String name) {
    return dir.resolve(name);
  }

  /** SLSA provenance for two artifacts, signed by the CI key as a build server would. */
  private Path signedProvenance(String name, String digestA, String digestB) throws Exception {
    String slsa =
        """
        {"_type": "https://in-toto.io/Statement/v1",
         "subject": [{"name": "app", "digest": {"sha256": "%s"}},
                     {"name": "libapp.so", "digest": {"sha256": "%s"}}],
         "predicateType": "https://slsa.dev/provenance/v1",
         "predicate": {"buildDefinition": {"buildType": "https://example.org/build/v1"},
                       "runDetails": {"builder": {"id": "https://example.org/ci"}}}}
        """
            .formatted(digestA, digestB);
    Files.writeString(p(name + ".json"), slsa);
    Path signed = p(name + ".dsse.json");
    CliRun sign =
        CliRun.of(
            "refs",
            "sign",
            "--key",
            p("ci.key").toString(),
            "--out",
            signed.toString(),
            p(name + ".json").toString());
    assertThat(sign.exitCode()).as(sign.err()).isZero();
    return signed;
  }

  private List<LoadedStatement> loadSigned(Path file) throws Exception {
    return new ReferenceLoader(
            TrustedKeys.load(List.of(p("ci.pub"))), SignaturePolicy.REQUIRE_TRUSTED)
        .load(file);
  }

  /** {@code refs import FILE --trusted-key KEY.pub --out STORE --json}. */
  private CliRun importInto(Path store, Path file, String key) {
    return CliRun.of(
        "refs",
        "import",
        file.toString(),
        "--trusted-key",
        p(key + ".pub").toString(),
        "--out",
        store.toString(),
        "--json");
  }

  @Test
  void importAddsVerifiedProvenanceToAReferenceFileOnce() throws Exception {
    Path provenance = signedProvenance("slsa", "ab".repeat(32), "cd".repeat(32));
    Path store = p("store.jsonl");

    CliRun dry =
        CliRun.of("refs", "import", provenance.toString(), "--trusted-key", p("ci.pub").toString());
    assertThat(dry.exitCode()).as(dry.err()).isZero();
    assertThat(dry.out()).contains("signature OK").contains("nothing written");
    assertThat(Files.exists(store)).isFalse();

    CliRun first = importInto(store, provenance, "ci");
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.json().get("subjects").asInt()).isEqualTo(2);
    assertThat(first.json().get("added").asInt()).isEqualTo(1);
    List<LoadedStatement> loaded = loadSigned(store);
    assertThat(loaded).hasSize(1);
    assertThat(loaded.get(0).source().signedByKeyId()).isEqualTo(ciKeyId);
    assertThat(loaded.get(0).references())
        .extracting(Reference::name)
        .containsExactly("app", "libapp.so");

    assertThat(importInto(store, provenance, "ci").json().get("added").asInt()).isZero();
    assertThat(loadSigned(store)).hasSize(1);

    Path second = signedProvenance("slsa2", "ef".repeat(32), "cd".repeat(32));
    assertThat(importInto(store, second, "ci").exitCode()).isZero();
    assertThat(loadSigned(store)).hasSize(2);
    assertThat(Files.readAllLines(store)).as("JSON Lines, one envelope a line").hasSize(2);
    CliRun verify =
        CliRun.of("refs", "verify", store.toString(), "--trusted-key", p("ci.pub").toString());
    assertThat(verify.exitCode()).as(verify.err()).isZero();
  }

  @Test
  void importRefusesWrongKeysTamperingUnsignedAndMissingInput() throws Exception {
    Path provenance = signedProvenance("slsa", "ab".repeat(32), "cd".repeat(32));
    Path store = p("store.jsonl");

    assertThat(importInto(store, provenance, "other").refused(ExitCodes.SIGNATURE_INVALID).err())
        .contains("not signed by a trusted key");

    ObjectNode env = (ObjectNode) JSON.readTree(provenance.toFile());
    String payload =
        new String(Base64.getDecoder().decode(env.get("payload").asText()), StandardCharsets.UTF_8);
    byte[] altered =
        payload.replace("ab".repeat(32), "ba".repeat(32)).getBytes(StandardCharsets.UTF_8);
    Files.writeString(
        p("tampered.json"),
        env.deepCopy().put("payload", Base64.getEncoder().encodeToString(altered)).toString());
    assertThat(
            importInto(store, p("tampered.json"), "ci").refused(ExitCodes.SIGNATURE_INVALID).err())
        .contains("does not verify");

    importInto(store, p("slsa.json"), "ci").refused(ExitCodes.SIGNATURE_INVALID);
    importInto(store, p("missing.json"), "ci").refused(ExitCodes.INPUT_UNREADABLE);
    importInto(store, provenance, "missing").refused(ExitCodes.KEY_INVALID);
    assertThat(Files.exists(store)).as("nothing refused was written").isFalse();
  }

  /** A build-output directory: a copy of /usr/bin/true and an executable script. */
  private Path buildOutputs() throws Exception {
    Path out = Files.createDirectories(p("build"));
    Files.copy(Path.of("/usr/bin/true"), out.resolve("tool"));
    script(out.resolve("gone.sh"));
    return out.toRealPath();
  }

  private static void script(Path file) throws Exception {
    Files.writeString(file, "#!/bin/sh\necho " + file.getFileName() + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private CliRun add(Path outputs, String out, String... extra) {
    String[] args = {
      "refs",
      "add",
      "--dir",
      outputs.toString(),
      "--key",
      p("ci.key").toString(),
      "--out",
      p(out).toString()
    };
    String[] all = new String[args.length + extra.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(extra, 0, all, args.length, extra.length);
    return CliRun.of(all);
  }

  @Test
  void addSignsBuildOutputsAndAppendsWhenAsked() throws Exception {
    Path outputs = buildOutputs();
    CliRun first = add(outputs, "build.jsonl", "--json");
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.json().get("included").asInt()).isEqualTo(2);
    assertThat(first.json().get("packageDatabase").isNull()).isTrue();

    script(outputs.resolve("new.sh"));
    CliRun second = add(outputs, "build.jsonl", "--append");
    assertThat(second.exitCode()).as(second.err()).isZero();
    List<LoadedStatement> loaded = loadSigned(p("build.jsonl"));
    assertThat(loaded).hasSize(2);
    assertThat(loaded.get(1).references())
        .extracting(Reference::name)
        .contains(outputs.resolve("new.sh").toString());

    add(p("absent"), "x").refused(ExitCodes.INPUT_UNREADABLE);
    Files.writeString(p("junk.jsonl"), "{ not json");
    add(outputs, "junk.jsonl", "--append").refused(ExitCodes.INPUT_MALFORMED);
  }

  @Test
  void diffNamesAddedRemovedAndChangedSubjectsWithTheirSections() throws Exception {
    Path outputs = buildOutputs();
    assertThat(add(outputs, "a.json").exitCode()).isZero();

    Path tool = outputs.resolve("tool");
    Section text =
        ElfReader.create().read(tool).sections().stream()
            .filter(s -> s.name().equals(".text"))
            .findFirst()
            .orElseThrow();
    byte[] bytes = Files.readAllBytes(tool);
    bytes[(int) (text.offset() + text.size() / 2)] ^= 0x01;
    Files.write(tool, bytes);
    Files.delete(outputs.resolve("gone.sh"));
    script(outputs.resolve("new.sh"));
    assertThat(add(outputs, "b.json").exitCode()).isZero();

    CliRun diff =
        CliRun.of("refs", "diff", p("a.json").toString(), p("b.json").toString(), "--json");
    assertThat(diff.exitCode()).as(diff.err()).isZero();
    JsonNode d = diff.json();
    assertThat(d.get("added")).hasSize(1);
    assertThat(d.at("/added/0/name").asText()).isEqualTo(outputs.resolve("new.sh").toString());
    assertThat(d.get("removed")).hasSize(1);
    assertThat(d.at("/removed/0/name").asText()).isEqualTo(outputs.resolve("gone.sh").toString());
    assertThat(d.get("changed")).hasSize(1);
    assertThat(d.at("/changed/0/name").asText()).isEqualTo(tool.toString());
    assertThat(JSON.convertValue(d.at("/changed/0/sections"), List.class)).containsExactly(".text");
    assertThat(d.get("unchanged").asInt()).isZero();

    CliRun text1 = CliRun.of("refs", "diff", p("a.json").toString(), p("b.json").toString());
    assertThat(text1.out())
        .contains("+ " + outputs.resolve("new.sh"))
        .contains("sections: .text")
        .contains("1 added, 1 removed, 1 changed, 0 unchanged");
    CliRun same =
        CliRun.of("refs", "diff", p("a.json").toString(), p("a.json").toString(), "--json");
    assertThat(same.json().get("changed")).isEmpty();
    assertThat(same.json().get("unchanged").asInt()).isEqualTo(2);
  }

  /** {@code refs list FILE --trusted-key KEY.pub --json}. */
  private CliRun listWith(Path file, String key) {
    return CliRun.of(
        "refs", "list", file.toString(), "--trusted-key", p(key + ".pub").toString(), "--json");
  }

  @Test
  void listShowsSubjectsSectionCountsAndWhetherTheSignerWasVerified() throws Exception {
    Path outputs = buildOutputs();
    assertThat(add(outputs, "m.json").exitCode()).isZero();

    CliRun unchecked = CliRun.of("refs", "list", p("m.json").toString(), "--json");
    assertThat(unchecked.exitCode()).as(unchecked.err()).isZero();
    JsonNode subjects = unchecked.json().get("subjects");
    assertThat(unchecked.json().get("count").asInt()).isEqualTo(2);
    JsonNode tool =
        subjects.get(1).get("name").asText().endsWith("/tool") ? subjects.get(1) : subjects.get(0);
    assertThat(tool.get("sections").asInt()).isGreaterThan(5);
    assertThat(tool.get("signer").asText()).isEqualTo(ciKeyId);
    assertThat(tool.get("signatureVerified").asBoolean()).isFalse();

    CliRun checked = listWith(p("m.json"), "ci");
    assertThat(checked.json().at("/subjects/0/signatureVerified").asBoolean()).isTrue();
    assertThat(CliRun.of("refs", "list", p("m.json").toString()).out()).contains("NOT verified");

    CliRun otherKey = listWith(p("m.json"), "other");
    assertThat(otherKey.exitCode()).as(otherKey.err()).isZero();
    assertThat(otherKey.json().at("/subjects/0/signatureVerified").asBoolean()).isFalse();

    ObjectNode env = (ObjectNode) JSON.readTree(p("m.json").toFile());
    byte[] sig = Base64.getDecoder().decode(env.at("/signatures/0/sig").asText());
    sig[sig.length / 2] ^= 0x10;
    ((ObjectNode) env.get("signatures").get(0)).put("sig", Base64.getEncoder().encodeToString(sig));
    Files.writeString(p("bad-sig.json"), env.toString());
    listWith(p("bad-sig.json"), "ci").refused(ExitCodes.SIGNATURE_INVALID);
    CliRun.of("refs", "list", p("nope.json").toString()).refused(ExitCodes.INPUT_UNREADABLE);
  }
}
