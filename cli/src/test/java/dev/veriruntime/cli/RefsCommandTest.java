package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RefsCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private String keygen(String type, String name) {
    CliRun run =
        CliRun.of(
            "refs", "keygen", "--type", type, "--out", dir.resolve(name).toString(), "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.json().get("keyId").asText();
  }

  private Path p(String name) {
    return dir.resolve(name);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ed25519", "ecdsa-p256"})
  void keygenSignVerifyRoundTrip(String type) throws Exception {
    String keyId = keygen(type, "ci");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p("ci.key"))))
        .isEqualTo("rw-------");
    Path bin = p("tool");
    Files.copy(Path.of("/usr/bin/true"), bin);

    CliRun sign =
        CliRun.of(
            "refs",
            "sign",
            "--key",
            p("ci.key").toString(),
            "--out",
            p("m.dsse.json").toString(),
            "--subject",
            bin.toString());
    assertThat(sign.exitCode()).as(sign.err()).isZero();
    assertThat(sign.out()).contains("signed 1 subject(s)").contains(keyId);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p("m.dsse.json"))))
        .isEqualTo("rw-r--r--");

    CliRun verify =
        CliRun.of(
            "refs",
            "verify",
            p("m.dsse.json").toString(),
            "--trusted-key",
            p("ci.pub").toString(),
            "--json");
    assertThat(verify.exitCode()).as(verify.err()).isZero();
    JsonNode st = verify.json().get("statements").get(0);
    assertThat(st.get("signedBy").asText()).isEqualTo(keyId);
    assertThat(st.get("predicateType").asText()).isEqualTo("https://veriruntime.dev/manifest/v1");
    JsonNode subject = st.get("subjects").get(0);
    assertThat(subject.get("name").asText()).isEqualTo(bin.toRealPath().toString());
    assertThat(subject.get("sha256").asText())
        .isEqualTo(dev.veriruntime.verifier.hash.Sha256.hex(bin));
    assertThat(subject.get("sections").has(".text")).isTrue();
    assertThat(subject.get("elf").get("class").asText()).isEqualTo("ELF64");

    CliRun text =
        CliRun.of(
            "refs", "verify", p("m.dsse.json").toString(), "--trusted-key", p("ci.pub").toString());
    assertThat(text.exitCode()).isZero();
    assertThat(text.out()).contains("signature OK").contains(bin.toRealPath().toString());
  }

  @Test
  void signsAHandWrittenSlsaStatementByteForByte() throws Exception {
    keygen("ecdsa-p256", "ci");
    String slsa =
        """
        {"_type": "https://in-toto.io/Statement/v1",
         "subject": [{"name": "app", "digest": {"sha256": "%s"}}],
         "predicateType": "https://slsa.dev/provenance/v1",
         "predicate": {"buildDefinition": {"buildType": "https://example.org/build/v1", "externalParameters": {}},
                       "runDetails": {"builder": {"id": "https://example.org/ci"}}}}
        """
            .formatted("ab".repeat(32));
    Files.writeString(p("slsa.json"), slsa);
    assertThat(
            CliRun.of(
                    "refs",
                    "sign",
                    "--key",
                    p("ci.key").toString(),
                    "--out",
                    p("slsa.dsse.json").toString(),
                    p("slsa.json").toString())
                .exitCode())
        .isZero();

    JsonNode env = JSON.readTree(p("slsa.dsse.json").toFile());
    assertThat(
            new String(
                Base64.getDecoder().decode(env.get("payload").asText()), StandardCharsets.UTF_8))
        .isEqualTo(slsa);
    CliRun verify =
        CliRun.of(
            "refs",
            "verify",
            p("slsa.dsse.json").toString(),
            "--trusted-key",
            p("ci.pub").toString());
    assertThat(verify.exitCode()).as(verify.err()).isZero();
    assertThat(verify.out())
        .contains("ab".repeat(32) + "  app")
        .contains("https://slsa.dev/provenance/v1");
  }

  private Path signedManifest() throws Exception {
    keygen("ed25519", "ci");
    Files.copy(Path.of("/usr/bin/true"), p("tool"));
    assertThat(
            CliRun.of(
                    "refs",
                    "sign",
                    "--key",
                    p("ci.key").toString(),
                    "--out",
                    p("m.dsse.json").toString(),
                    "--subject",
                    p("tool").toString())
                .exitCode())
        .isZero();
    return p("m.dsse.json");
  }

  private CliRun verifyWith(Path file, Path key) {
    return CliRun.of("refs", "verify", file.toString(), "--trusted-key", key.toString());
  }

  @Test
  void wrongKeyTamperedPayloadAndTamperedSignatureAreRefused() throws Exception {
    Path m = signedManifest();
    keygen("ed25519", "other");
    verifyWith(m, p("other.pub")).refused(ExitCodes.SIGNATURE_INVALID);

    ObjectNode env = (ObjectNode) JSON.readTree(m.toFile());
    String payload =
        new String(Base64.getDecoder().decode(env.get("payload").asText()), StandardCharsets.UTF_8);
    ObjectNode tampered = env.deepCopy();
    tampered.put(
        "payload",
        Base64.getEncoder()
            .encodeToString(
                payload
                    .replace("\"sha256\":\"", "\"sha256\":\"0")
                    .replaceFirst("(\"sha256\":\"0[0-9a-f]{63})[0-9a-f]", "$1")
                    .getBytes(StandardCharsets.UTF_8)));
    assertThat(tampered.get("payload").asText()).isNotEqualTo(env.get("payload").asText());
    Files.writeString(p("tampered-payload.json"), tampered.toString());
    verifyWith(p("tampered-payload.json"), p("ci.pub")).refused(ExitCodes.SIGNATURE_INVALID);

    ObjectNode badSig = env.deepCopy();
    byte[] sig = Base64.getDecoder().decode(env.get("signatures").get(0).get("sig").asText());
    sig[0] ^= 0x40;
    ((ObjectNode) badSig.get("signatures").get(0))
        .put("sig", Base64.getEncoder().encodeToString(sig));
    Files.writeString(p("tampered-sig.json"), badSig.toString());
    verifyWith(p("tampered-sig.json"), p("ci.pub")).refused(ExitCodes.SIGNATURE_INVALID);

    // An unsigned statement is not a signed reference.
    Files.write(p("plain.json"), Base64.getDecoder().decode(env.get("payload").asText()));
    verifyWith(p("plain.json"), p("ci.pub")).refused(ExitCodes.SIGNATURE_INVALID);
  }

  @Test
  void unreadableInputsExitWithInputUnreadable() throws Exception {
    keygen("ed25519", "ci");
    verifyWith(p("missing.json"), p("ci.pub")).refused(ExitCodes.INPUT_UNREADABLE);
    verifyWith(dir, p("ci.pub")).refused(ExitCodes.INPUT_UNREADABLE);
    Path writeOnly = writeOnlySysfsFile();
    verifyWith(writeOnly, p("ci.pub")).refused(ExitCodes.INPUT_UNREADABLE);
    CliRun.of(
            "refs",
            "sign",
            "--key",
            p("ci.key").toString(),
            "--out",
            p("x.json").toString(),
            "--subject",
            p("nope").toString())
        .refused(ExitCodes.INPUT_UNREADABLE);
    CliRun.of(
            "refs",
            "sign",
            "--key",
            p("ci.key").toString(),
            "--out",
            p("x.json").toString(),
            "--subject",
            "/dev/zero")
        .refused(ExitCodes.INPUT_UNREADABLE);
  }

  @Test
  void malformedInputsExitWithInputMalformed() throws Exception {
    Path m = signedManifest();
    ObjectNode env = (ObjectNode) JSON.readTree(m.toFile());
    List<String> bad =
        List.of(
            "{ not json",
            "[1, 2, 3]",
            env.deepCopy().without("signatures").toString(),
            env.deepCopy().put("payload", "!!!!").toString());
    for (int i = 0; i < bad.size(); i++) {
      Path f = p("bad" + i + ".json");
      Files.writeString(f, bad.get(i));
      verifyWith(f, p("ci.pub")).refused(ExitCodes.INPUT_MALFORMED);
    }
    Files.writeString(p("not-statement.json"), "{\"_type\": \"something else\", \"subject\": []}");
    CliRun.of(
            "refs",
            "sign",
            "--key",
            p("ci.key").toString(),
            "--out",
            p("x.json").toString(),
            p("not-statement.json").toString())
        .refused(ExitCodes.INPUT_MALFORMED);
  }

  @Test
  void keyProblemsExitWithKeyInvalid() throws Exception {
    Path m = signedManifest();
    verifyWith(m, p("no-such.pub")).refused(ExitCodes.KEY_INVALID);
    assertThat(verifyWith(m, Path.of("/dev/zero")).refused(ExitCodes.KEY_INVALID).err())
        .contains("not a key");
    Files.writeString(
        p("junk.pub"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    verifyWith(m, p("junk.pub")).refused(ExitCodes.KEY_INVALID);
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
    Process gen =
        new ProcessBuilder(
                "sh",
                "-c",
                "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "
                    + p("rsa.key")
                    + " && openssl pkey -in "
                    + p("rsa.key")
                    + " -pubout -out "
                    + p("rsa.pub"))
            .redirectErrorStream(true)
            .start();
    gen.getInputStream().readAllBytes();
    assertThat(gen.waitFor()).isZero();
    assertThat(verifyWith(m, p("rsa.pub")).refused(ExitCodes.KEY_INVALID).err())
        .contains("unsupported key type");
    CliRun.of(
            "refs",
            "sign",
            "--key",
            p("rsa.key").toString(),
            "--out",
            p("x.json").toString(),
            "--subject",
            p("tool").toString())
        .refused(ExitCodes.KEY_INVALID);
    CliRun.of("refs", "keygen", "--type", "rsa", "--out", p("r").toString())
        .refused(ExitCodes.KEY_INVALID);
  }

  @Test
  void keygenNeverOverwritesAKey() throws Exception {
    keygen("ed25519", "ci");
    String before = Files.readString(p("ci.key"));
    CliRun.of("refs", "keygen", "--type", "ed25519", "--out", p("ci").toString())
        .refused(ExitCodes.OUTPUT_UNWRITABLE);
    assertThat(Files.readString(p("ci.key"))).isEqualTo(before);
  }

  @Test
  void signNeedsExactlyOneKindOfInput() throws Exception {
    keygen("ed25519", "ci");
    CliRun.of("refs", "sign", "--key", p("ci.key").toString(), "--out", p("x.json").toString())
        .refused(ExitCodes.USAGE);
  }

  static Path writeOnlySysfsFile() throws IOException {
    for (String candidate : List.of("/sys/bus/pci", "/sys/class", "/sys/devices", "/sys/kernel")) {
      Path root = Path.of(candidate);
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> files = Files.find(root, 4, (f, a) -> a.isRegularFile())) {
        var found =
            files
                .filter(
                    f -> {
                      try {
                        String perms =
                            PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
                        if (perms.charAt(0) == 'r' || perms.charAt(1) != 'w') {
                          return false;
                        }
                        try (var in = Files.newInputStream(f)) {
                          return false;
                        }
                      } catch (IOException e) {
                        return e instanceof java.nio.file.AccessDeniedException;
                      }
                    })
                .findFirst();
        if (found.isPresent()) {
          return found.get();
        }
      }
    }
    assumeTrue(false, "no write-only sysfs attribute found to provoke EACCES as root");
    return null;
  }
}
