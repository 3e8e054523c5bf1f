package dev.veriruntime.verifier.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ReferenceLoaderTest {
  private static final String DIGEST_A = "a".repeat(64);
  private static final String DIGEST_B = "0123456789abcdef".repeat(4);

  @TempDir Path dir;

  private static InTotoStatement manifest() {
    ManifestPredicate predicate =
        new ManifestPredicate(
            Map.of(
                "/usr/bin/tool",
                new ManifestPredicate.FileFacts(
                    Map.of(".text", DIGEST_B), Map.of("machine", "62"))));
    return InTotoStatement.of(
        List.of(
            new InTotoStatement.Subject("/usr/bin/tool", Map.of("sha256", DIGEST_A)),
            new InTotoStatement.Subject("/usr/bin/other", Map.of("sha256", DIGEST_B))),
        ManifestPredicate.TYPE,
        predicate.toJson());
  }

  private Path write(String name, byte[] content) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, content);
    return p;
  }

  private Path writeEnvelope(DsseEnvelope env) throws IOException {
    return write("refs.dsse.json", env.toJsonBytes());
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void signedManifestRoundTripsForEachKeyType(KeyType type) throws Exception {
    SigningKey key = SigningKey.generate(type);
    key.writeNew(dir.resolve("k.key"), dir.resolve("k.pub"));
    SigningKey reloaded = SigningKey.load(dir.resolve("k.key"));
    TrustedKey pub = TrustedKey.load(dir.resolve("k.pub"));
    assertThat(reloaded.keyId()).isEqualTo(key.keyId()).isEqualTo(pub.keyId());
    assertThat(pub.type()).isEqualTo(type);

    Path file =
        writeEnvelope(
            DsseEnvelope.sign(
                DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), reloaded));
    List<LoadedStatement> loaded =
        new ReferenceLoader(TrustedKeys.of(List.of(pub)), SignaturePolicy.REQUIRE_TRUSTED)
            .load(file);

    assertThat(loaded).hasSize(1);
    LoadedStatement s = loaded.get(0);
    assertThat(s.enveloped()).isTrue();
    assertThat(s.source().signedBy()).contains(pub.keyId());
    assertThat(s.references())
        .extracting(Reference::name)
        .containsExactly("/usr/bin/tool", "/usr/bin/other");
    Reference tool = s.references().get(0);
    assertThat(tool.sha256()).isEqualTo(DIGEST_A);
    assertThat(tool.sectionDigests()).containsEntry(".text", DIGEST_B);
    assertThat(tool.elfFacts()).containsEntry("machine", "62");
    assertThat(tool.signed()).isTrue();
    assertThat(s.references().get(1).sectionDigests()).isEmpty();
  }

  @Test
  void privateKeyFileIsCreatedWithMode0600AndNeverOverwritten() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ED25519);
    Path priv = dir.resolve("k.key");
    key.writeNew(priv, dir.resolve("k.pub"));
    assertThat(Files.getPosixFilePermissions(priv))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    assertThat(Files.readString(priv)).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Files.readString(dir.resolve("k.pub"))).startsWith("-----BEGIN PUBLIC KEY-----");
    assertThatThrownBy(
            () -> SigningKey.generate(KeyType.ED25519).writeNew(priv, dir.resolve("other.pub")))
        .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    assertThat(SigningKey.load(priv).keyId()).isEqualTo(key.keyId());
  }

  @Test
  void paeMatchesTheDsseSpecificationExample() {
    byte[] pae =
        DsseEnvelope.pae(
            "http://example.com/HelloWorld", "hello world".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(pae, StandardCharsets.UTF_8))
        .isEqualTo("DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  }

  @Test
  void tamperedPayloadIsRefusedEvenWhenUnsignedWouldBeAllowed() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ED25519);
    DsseEnvelope good =
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), key);
    byte[] altered =
        new String(good.payload(), StandardCharsets.UTF_8)
            .replace(DIGEST_A, "b".repeat(64))
            .getBytes(StandardCharsets.UTF_8);
    Path file = writeEnvelope(new DsseEnvelope(good.payloadType(), altered, good.signatures()));

    for (SignaturePolicy policy : SignaturePolicy.values()) {
      assertThatThrownBy(
              () ->
                  new ReferenceLoader(TrustedKeys.of(List.of(key.publicKey())), policy).load(file))
          .isInstanceOf(ReferenceException.class)
          .hasMessageContaining("does not verify")
          .extracting(e -> ((ReferenceException) e).kind())
          .isEqualTo(ReferenceException.Kind.SIGNATURE_INVALID);
    }
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void tamperedSignatureIsRefused(KeyType type) throws Exception {
    SigningKey key = SigningKey.generate(type);
    DsseEnvelope good =
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), key);
    byte[] sig = good.signatures().get(0).sig();
    sig[sig.length / 2] ^= 0x01;
    Path file =
        writeEnvelope(
            new DsseEnvelope(
                good.payloadType(),
                good.payload(),
                List.of(new DsseEnvelope.Signature(key.keyId(), sig))));

    assertKind(
        () ->
            new ReferenceLoader(
                    TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.REQUIRE_TRUSTED)
                .load(file),
        ReferenceException.Kind.SIGNATURE_INVALID);
  }

  @Test
  void signatureWithoutKeyIdIsMatchedAgainstEveryTrustedKey() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ECDSA_P256);
    DsseEnvelope good =
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), key);
    Path file =
        writeEnvelope(
            new DsseEnvelope(
                good.payloadType(),
                good.payload(),
                List.of(new DsseEnvelope.Signature("", good.signatures().get(0).sig()))));
    TrustedKeys keys =
        TrustedKeys.of(List.of(SigningKey.generate(KeyType.ED25519).publicKey(), key.publicKey()));

    LoadedStatement s =
        new ReferenceLoader(keys, SignaturePolicy.REQUIRE_TRUSTED).load(file).get(0);
    assertThat(s.source().signedBy()).contains(key.keyId());
  }

  @Test
  void untrustedKeyIsRefusedWhenRequiredAndLoadedUnsignedOtherwise() throws Exception {
    SigningKey signer = SigningKey.generate(KeyType.ED25519);
    TrustedKeys others = TrustedKeys.of(List.of(SigningKey.generate(KeyType.ED25519).publicKey()));
    Path file =
        writeEnvelope(
            DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), signer));

    assertThatThrownBy(
            () -> new ReferenceLoader(others, SignaturePolicy.REQUIRE_TRUSTED).load(file))
        .isInstanceOf(ReferenceException.class)
        .hasMessageContaining("not signed by a trusted key")
        .hasMessageContaining(signer.keyId());
    LoadedStatement s =
        new ReferenceLoader(others, SignaturePolicy.ALLOW_UNSIGNED).load(file).get(0);
    assertThat(s.source().signed()).isFalse();
    assertThat(s.references()).allMatch(r -> !r.signed());
  }

  @Test
  void plainStatementIsUnsigned() throws Exception {
    Path file = write("plain.json", manifest().toJsonBytes());
    LoadedStatement s =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED).load(file).get(0);
    assertThat(s.enveloped()).isFalse();
    assertThat(s.source().signed()).isFalse();
    assertThat(s.references()).hasSize(2);
    assertKind(
        () -> new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.REQUIRE_TRUSTED).load(file),
        ReferenceException.Kind.SIGNATURE_INVALID);
  }

  /** SLSA v1 provenance as a CI system writes it: any predicate, subjects are artifact names. */
  @Test
  void slsaProvenanceSubjectsBecomeReferences() throws Exception {
    String provenance =
        """
        {
          "_type": "https://in-toto.io/Statement/v1",
          "subject": [
            {"name": "veriruntime-linux-amd64", "digest": {"sha256": "%s"}},
            {"name": "veriruntime.tar.gz", "digest": {"sha512": "%s"}}
          ],
          "predicateType": "https://slsa.dev/provenance/v1",
          "predicate": {
            "buildDefinition": {
              "buildType": "https://actions.github.io/buildtypes/workflow/v1",
              "externalParameters": {"workflow": {"ref": "refs/tags/v1.0.0", "repository": "https://example.org/veriruntime", "path": ".github/workflows/release.yml"}},
              "internalParameters": {},
              "resolvedDependencies": [{"uri": "git+https://example.org/veriruntime@refs/tags/v1.0.0", "digest": {"gitCommit": "%s"}}]
            },
            "runDetails": {
              "builder": {"id": "https://example.org/builders/ci@v1"},
              "metadata": {"invocationId": "run-42", "startedOn": "2026-11-20T10:00:00Z", "finishedOn": "2026-11-20T10:04:00Z"}
            }
          }
        }
        """
            .formatted(DIGEST_B.toUpperCase(), "c".repeat(128), "d".repeat(40));
    SigningKey key = SigningKey.generate(KeyType.ECDSA_P256);
    DsseEnvelope env =
        DsseEnvelope.sign(
            DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, provenance.getBytes(StandardCharsets.UTF_8), key);
    // SLSA generators publish JSON Lines (.intoto.jsonl): one compact envelope per line.
    String line = Json.MAPPER.writeValueAsString(env.toJson());
    Path file =
        write(
            "provenance.intoto.jsonl",
            (line + "\n" + line + "\n").getBytes(StandardCharsets.UTF_8));

    List<LoadedStatement> loaded =
        new ReferenceLoader(
                TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.REQUIRE_TRUSTED)
            .load(file);

    assertThat(loaded).hasSize(2);
    LoadedStatement s = loaded.get(0);
    assertThat(s.statement().predicateType()).isEqualTo("https://slsa.dev/provenance/v1");
    assertThat(s.statement().predicate().at("/runDetails/builder/id").asText())
        .isEqualTo("https://example.org/builders/ci@v1");
    assertThat(s.skippedSubjects()).isEqualTo(1);
    assertThat(s.references())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.name()).isEqualTo("veriruntime-linux-amd64");
              assertThat(r.sha256()).isEqualTo(DIGEST_B);
              assertThat(r.signed()).isTrue();
              assertThat(r.sectionDigests()).isEmpty();
            });
    ReferenceStore store =
        new ReferenceLoader(
                TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.REQUIRE_TRUSTED)
            .loadAll(List.of(file));
    assertThat(store.bySha256(DIGEST_B)).isPresent();
  }

  @Test
  void malformedInputsAreRefusedAsMalformed() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ED25519);
    ObjectNode env =
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes(), key)
            .toJson();
    ReferenceLoader loader =
        new ReferenceLoader(
            TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.ALLOW_UNSIGNED);

    Map<String, String> cases =
        Map.of(
            "not json", "{\"payloadType\": ",
            "empty", "  \n",
            "neither", "{\"hello\": 1}",
            "no payload", env.deepCopy().without("payload").toString(),
            "bad base64", env.deepCopy().put("payload", "%%%not-base64%%%").toString(),
            "bad sig base64",
                env.deepCopy()
                    .set(
                        "signatures",
                        Json.MAPPER
                            .createArrayNode()
                            .add(
                                Json.MAPPER.createObjectNode().put("keyid", "x").put("sig", "***")))
                    .toString(),
            "signatures not array", env.deepCopy().put("signatures", "none").toString(),
            "duplicate key", "{\"_type\": \"https://in-toto.io/Statement/v1\", \"_type\": \"x\"}",
            "wrong _type",
                new String(manifest().toJsonBytes(), StandardCharsets.UTF_8)
                    .replace("Statement/v1", "Statement/v9"),
            "bad digest",
                new String(manifest().toJsonBytes(), StandardCharsets.UTF_8)
                    .replace(DIGEST_A, "xyz"));
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Path f = write("case.json", c.getValue().getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> loader.load(f))
          .as(c.getKey())
          .isInstanceOf(ReferenceException.class)
          .satisfies(
              e ->
                  assertThat(((ReferenceException) e).kind())
                      .as(c.getKey())
                      .isEqualTo(ReferenceException.Kind.MALFORMED))
          .satisfies(
              e ->
                  assertThat(e.getMessage())
                      .as(c.getKey())
                      .contains(f.toString())
                      .doesNotContain("\n"));
    }
  }

  @Test
  void jsonErrorsNameThePositionWithoutParserNoise() throws Exception {
    Path f = write("truncated.json", "{\n".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () -> new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED).load(f))
        .hasMessageStartingWith(f + " is not valid JSON: Unexpected end-of-input")
        .hasMessageContaining("(start marker at line 1, column 1)")
        .hasMessageEndingWith("(line 2, column 1)")
        .hasMessageNotContaining("Source:");
  }

  @Test
  void signedEnvelopeWithForeignPayloadTypeIsMalformed() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ED25519);
    Path file = writeEnvelope(DsseEnvelope.sign("text/plain", manifest().toJsonBytes(), key));
    assertKind(
        () ->
            new ReferenceLoader(
                    TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.ALLOW_UNSIGNED)
                .load(file),
        ReferenceException.Kind.MALFORMED);
  }

  @Test
  void unreadableInputsAreRefusedAsUnreadable() throws Exception {
    ReferenceLoader loader =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED);
    assertKind(() -> loader.load(dir.resolve("missing.json")), ReferenceException.Kind.UNREADABLE);
    assertKind(() -> loader.load(dir), ReferenceException.Kind.UNREADABLE);
  }

  /** Root reads any file, so "permission denied" is exercised with a write-only sysfs attribute. */
  @Test
  void permissionDeniedIsUnreadable() throws Exception {
    Path writeOnly = writeOnlySysfsFile();
    assertThatThrownBy(
            () ->
                new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED)
                    .load(writeOnly))
        .isInstanceOf(ReferenceException.class)
        .hasMessageContaining("permission denied")
        .extracting(e -> ((ReferenceException) e).kind())
        .isEqualTo(ReferenceException.Kind.UNREADABLE);
  }

  static Path writeOnlySysfsFile() throws IOException {
    for (String candidate :
        List.of("/sys/kernel/slab", "/sys/bus/pci", "/sys/class", "/sys/devices")) {
      Path root = Path.of(candidate);
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> files = Files.find(root, 4, (p, a) -> a.isRegularFile() && writeOnly(p))) {
        var found =
            files
                .filter(
                    p -> {
                      try (var in = Files.newInputStream(p)) {
                        return false;
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

  private static boolean writeOnly(Path p) {
    try {
      var perms = Files.getPosixFilePermissions(p);
      return perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE)
          && !perms.contains(java.nio.file.attribute.PosixFilePermission.OWNER_READ);
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void keyProblemsAreKeyInvalid() throws Exception {
    assertKind(
        () -> TrustedKey.load(dir.resolve("absent.pub")), ReferenceException.Kind.KEY_INVALID);
    assertKind(() -> TrustedKey.load(dir), ReferenceException.Kind.KEY_INVALID);
    assertKind(
        () -> TrustedKey.load(write("garbage.pub", "hello".getBytes(StandardCharsets.UTF_8))),
        ReferenceException.Kind.KEY_INVALID);
    assertKind(
        () ->
            TrustedKey.load(
                write(
                    "bad-der.pub",
                    PemFiles.encode("PUBLIC KEY", new byte[] {1, 2, 3})
                        .getBytes(StandardCharsets.US_ASCII))),
        ReferenceException.Kind.KEY_INVALID);

    SigningKey ed = SigningKey.generate(KeyType.ED25519);
    ed.writeNew(dir.resolve("ed.key"), dir.resolve("ed.pub"));
    // A private key where a public one belongs, and the reverse.
    assertKind(() -> TrustedKey.load(dir.resolve("ed.key")), ReferenceException.Kind.KEY_INVALID);
    assertKind(() -> SigningKey.load(dir.resolve("ed.pub")), ReferenceException.Kind.KEY_INVALID);

    var rsa = java.security.KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    var pair = rsa.generateKeyPair();
    Path rsaPub =
        write(
            "rsa.pub",
            PemFiles.encode("PUBLIC KEY", pair.getPublic().getEncoded())
                .getBytes(StandardCharsets.US_ASCII));
    Path rsaKey =
        write(
            "rsa.key",
            PemFiles.encode("PRIVATE KEY", pair.getPrivate().getEncoded())
                .getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> TrustedKey.load(rsaPub)).hasMessageContaining("unsupported key type");
    assertKind(() -> SigningKey.load(rsaKey), ReferenceException.Kind.KEY_INVALID);

    var ec384 = java.security.KeyPairGenerator.getInstance("EC");
    ec384.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
    Path p384 =
        write(
            "p384.pub",
            PemFiles.encode("PUBLIC KEY", ec384.generateKeyPair().getPublic().getEncoded())
                .getBytes(StandardCharsets.US_ASCII));
    assertThatThrownBy(() -> TrustedKey.load(p384)).hasMessageContaining("only P-256");
  }

  /** Keys made by OpenSSL load, and their key ids are the SHA-256 of OpenSSL's own SPKI DER. */
  @ParameterizedTest
  @EnumSource(KeyType.class)
  void opensslKeysInteroperate(KeyType type) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
    Path key = dir.resolve("o.key");
    List<String> gen =
        type == KeyType.ED25519
            ? List.of("openssl", "genpkey", "-algorithm", "ed25519", "-out", key.toString())
            : List.of(
                "openssl",
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                key.toString());
    run(gen);
    Path der = dir.resolve("o.pub.der");
    run(
        List.of(
            "openssl",
            "pkey",
            "-in",
            key.toString(),
            "-pubout",
            "-outform",
            "DER",
            "-out",
            der.toString()));

    SigningKey loaded = SigningKey.load(key);
    assertThat(loaded.type()).isEqualTo(type);
    assertThat(loaded.keyId()).isEqualTo(Crypto.sha256Hex(Files.readAllBytes(der)));
    byte[] data = "payload".getBytes(StandardCharsets.UTF_8);
    assertThat(
            TrustedKey.fromSpki(Files.readAllBytes(der), "openssl").verify(data, loaded.sign(data)))
        .isTrue();
  }

  /**
   * OpenSSL reads our key files and accepts our signatures: an independent implementation agrees.
   */
  @ParameterizedTest
  @EnumSource(KeyType.class)
  void opensslReadsOurKeysAndVerifiesOurSignatures(KeyType type) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
    SigningKey key = SigningKey.generate(type);
    Path priv = dir.resolve("ours.key");
    Path pub = dir.resolve("ours.pub");
    key.writeNew(priv, pub);
    Path derived = dir.resolve("derived.pub");
    run(List.of("openssl", "pkey", "-in", priv.toString(), "-pubout", "-out", derived.toString()));
    assertThat(Files.readString(derived)).isEqualTo(Files.readString(pub));

    byte[] data = DsseEnvelope.pae(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, manifest().toJsonBytes());
    Path dataFile = write("data.bin", data);
    Path sigFile = write("data.sig", key.sign(data));
    List<String> verify =
        type == KeyType.ED25519
            ? List.of(
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                pub.toString(),
                "-rawin",
                "-in",
                dataFile.toString(),
                "-sigfile",
                sigFile.toString())
            : List.of(
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                pub.toString(),
                "-signature",
                sigFile.toString(),
                dataFile.toString());
    run(verify);
    // The same check must fail for other bytes, or it proves nothing.
    data[data.length - 1] ^= 1;
    Files.write(dataFile, data);
    Process p = new ProcessBuilder(verify).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor()).isNotZero();
  }

  /**
   * PKCS#8 version 2 (public key included), as BouncyCastle and some tools write it, still loads.
   */
  @Test
  void ed25519Pkcs8WithPublicKeyLoads() throws Exception {
    var seed =
        new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(
            new java.security.SecureRandom());
    byte[] v2 =
        org.bouncycastle.crypto.util.PrivateKeyInfoFactory.createPrivateKeyInfo(seed).getEncoded();
    Path file =
        write("v2.key", PemFiles.encode("PRIVATE KEY", v2).getBytes(StandardCharsets.US_ASCII));
    SigningKey key = SigningKey.load(file);
    assertThat(key.publicKey().spki())
        .isEqualTo(
            org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(
                    seed.generatePublicKey())
                .getEncoded());
  }

  @Test
  void ecdsaSignatureMustBeStrictDer() throws Exception {
    SigningKey key = SigningKey.generate(KeyType.ECDSA_P256);
    byte[] data = "payload".getBytes(StandardCharsets.UTF_8);
    byte[] sig = key.sign(data);
    assertThat(key.publicKey().verify(data, sig)).isTrue();
    byte[] trailing = java.util.Arrays.copyOf(sig, sig.length + 1);
    assertThat(key.publicKey().verify(data, trailing)).isFalse();
    assertThat(key.publicKey().verify(data, new byte[0])).isFalse();
    assertThat(key.publicKey().verify(data, new byte[64])).isFalse();
    // RFC 6979: deterministic signatures.
    assertThat(key.sign(data)).isEqualTo(sig);
  }

  private static void run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }

  @Test
  void base64AcceptsUrlSafeAndUnpadded() throws Exception {
    byte[] data = {(byte) 0xfb, (byte) 0xff, 0x01};
    assertThat(
            DsseEnvelope.base64(Base64.getUrlEncoder().withoutPadding().encodeToString(data), "t"))
        .isEqualTo(data);
    assertThat(DsseEnvelope.base64(Base64.getEncoder().encodeToString(data), "t")).isEqualTo(data);
  }

  interface Call {
    void run() throws Exception;
  }

  static void assertKind(Call call, ReferenceException.Kind kind) {
    assertThatThrownBy(call::run)
        .isInstanceOf(ReferenceException.class)
        .satisfies(
            e -> assertThat(((ReferenceException) e).kind()).as(e.getMessage()).isEqualTo(kind));
  }
}
