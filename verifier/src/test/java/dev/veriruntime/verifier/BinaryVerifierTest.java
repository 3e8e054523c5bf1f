package dev.veriruntime.verifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.Section;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.KeyType;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.SigningKey;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BinaryVerifierTest {
  private static final Instant NOW = Instant.parse("2026-11-23T08:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @TempDir Path dir;
  private Path binary;
  private SigningKey key;

  @BeforeEach
  void copyBinary() throws IOException {
    binary = dir.resolve("ls");
    Files.copy(Path.of("/usr/bin/ls"), binary);
    key = SigningKey.generate(KeyType.ED25519);
  }

  private ReferenceStore signedStore(Path... subjects) throws Exception {
    ManifestBuilder b = new ManifestBuilder(ManifestPredicate.TYPE);
    for (Path s : subjects) {
      b.add(s);
    }
    Path refs = dir.resolve("signed.dsse.json");
    Files.write(
        refs,
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, b.build().toJsonBytes(), key)
            .toJsonBytes());
    return new ReferenceLoader(
            TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.REQUIRE_TRUSTED)
        .loadAll(List.of(refs));
  }

  private ReferenceStore unsignedStore(Path... subjects) throws Exception {
    ManifestBuilder b = new ManifestBuilder(ManifestPredicate.TYPE);
    for (Path s : subjects) {
      b.add(s);
    }
    Path refs = dir.resolve("plain-manifest.json");
    Files.write(refs, b.build().toJsonBytes());
    return new ReferenceLoader(
            TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.ALLOW_UNSIGNED)
        .loadAll(List.of(refs));
  }

  private static BinaryVerifier verifier(ReferenceStore store) {
    return new BinaryVerifier(store, CLOCK, BinaryVerifier.Options.defaults());
  }

  private static ScopeStatus status(BinaryVerification v, Scope s) {
    return v.scope(s).orElseThrow().status();
  }

  @Test
  void signedReferenceVerifiesEveryScope() throws Exception {
    BinaryVerification v = verifier(signedStore(binary)).verify(binary);

    assertThat(v.verdict()).as(v.coverage().toString()).isEqualTo(Verdict.VERIFIED);
    assertThat(v.coverage().results().keySet())
        .containsExactly(Scope.DISK_HASH, Scope.ELF_HEADER, Scope.ELF_SECTIONS, Scope.SIGNATURE);
    assertThat(v.coverage().results().values()).allMatch(r -> r.status() == ScopeStatus.VERIFIED);
    assertThat(v.sha256()).isEqualTo(dev.veriruntime.verifier.hash.Sha256.hex(binary));
    assertThat(v.scope(Scope.SIGNATURE).orElseThrow().reason()).contains(key.keyId());
    assertThat(v.identity()).isEqualTo(BinaryVerifier.identity(binary));
    assertThat(v.checkedAt()).isEqualTo(NOW);
    assertThat(v.matchedReference()).hasValueSatisfying(r -> assertThat(r.signed()).isTrue());
  }

  @Test
  void unsignedReferenceIsDegradedAndSaysWhy() throws Exception {
    BinaryVerification v = verifier(unsignedStore(binary)).verify(binary);

    assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
    assertThat(status(v, Scope.DISK_HASH)).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(v.scope(Scope.SIGNATURE).orElseThrow())
        .satisfies(r -> assertThat(r.status()).isEqualTo(ScopeStatus.NOT_VERIFIED))
        .satisfies(
            r ->
                assertThat(r.reason())
                    .contains("from unsigned manifest")
                    .contains("plain-manifest.json"));
    assertThat(v.findings()).extracting(Finding::type).contains(FindingType.UNSIGNED_REFERENCE);
  }

  @Test
  void unsignedReferenceIsEnoughWhenPolicyDoesNotIntendSignatures() throws Exception {
    BinaryVerifier lenient =
        new BinaryVerifier(
            unsignedStore(binary),
            CLOCK,
            new BinaryVerifier.Options(
                EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER, Scope.ELF_SECTIONS),
                ElfHeader.hostMachine()));
    BinaryVerification v = lenient.verify(binary);
    assertThat(v.verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(v.coverage().get(Scope.SIGNATURE)).isEmpty();
  }

  @Test
  void signedReferenceForThePathOutweighsAnUnsignedDigestMatch() throws Exception {
    ReferenceStore signed = signedStore(binary);
    try (RandomAccessFile f = new RandomAccessFile(binary.toFile(), "rw")) {
      f.seek(f.length() - 1);
      int b = f.read();
      f.seek(f.length() - 1);
      f.write(b ^ 0x01);
    }
    ReferenceStore both =
        ReferenceStore.builder().addAll(signed).addAll(unsignedStore(binary)).build();

    BinaryVerification v = verifier(both).verify(binary);

    assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(v.scope(Scope.DISK_HASH).orElseThrow().reason()).contains("signed by");
    assertThat(v.matchedReference()).hasValueSatisfying(r -> assertThat(r.signed()).isTrue());
  }

  @Test
  void oneFlippedByteInTextFailsAndNamesTheSection() throws Exception {
    ReferenceStore store = signedStore(binary);
    Section text = ElfReader.create().read(binary).section(".text").orElseThrow();
    try (RandomAccessFile f = new RandomAccessFile(binary.toFile(), "rw")) {
      long at = text.offset() + text.size() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x01);
    }

    BinaryVerification v = verifier(store).verify(binary);

    assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(status(v, Scope.DISK_HASH)).isEqualTo(ScopeStatus.FAILED);
    assertThat(v.scope(Scope.ELF_SECTIONS).orElseThrow())
        .satisfies(r -> assertThat(r.status()).isEqualTo(ScopeStatus.FAILED))
        .satisfies(r -> assertThat(r.reason()).endsWith(": .text"));
    assertThat(v.findings())
        .filteredOn(f -> f.type() == FindingType.SECTION_MISMATCH)
        .singleElement()
        .satisfies(f -> assertThat(f.detail()).containsEntry("section", ".text"));
    assertThat(v.findings()).extracting(Finding::type).contains(FindingType.DIGEST_MISMATCH);
    assertThat(status(v, Scope.ELF_HEADER)).isEqualTo(ScopeStatus.VERIFIED);
  }

  @Test
  void noReferenceIsUnknown() throws Exception {
    BinaryVerification v = verifier(signedStore(Path.of("/usr/bin/true"))).verify(binary);

    assertThat(v.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(status(v, Scope.DISK_HASH)).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(status(v, Scope.ELF_HEADER)).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(status(v, Scope.ELF_SECTIONS)).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(v.findings()).extracting(Finding::type).contains(FindingType.UNKNOWN_BINARY);
    assertThat(v.matchedReference()).isEmpty();
  }

  @Test
  void shellScriptIsHashedAndItsElfScopesDoNotApply() throws Exception {
    Path script = dir.resolve("hello.sh");
    Files.writeString(script, "#!/bin/sh -e\necho hello\n");

    BinaryVerification unknown = verifier(ReferenceStore.empty()).verify(script);
    assertThat(unknown.verdict()).isEqualTo(Verdict.UNKNOWN);
    for (Scope s : List.of(Scope.ELF_HEADER, Scope.ELF_SECTIONS)) {
      assertThat(unknown.scope(s).orElseThrow())
          .satisfies(r -> assertThat(r.status()).isEqualTo(ScopeStatus.NOT_APPLICABLE))
          .satisfies(r -> assertThat(r.reason()).contains("/bin/sh"));
    }
    assertThat(unknown.findings())
        .filteredOn(f -> f.type() == FindingType.SCRIPT_INTERPRETER)
        .singleElement()
        .satisfies(f -> assertThat(f.detail()).containsEntry("interpreter", "/bin/sh"));

    BinaryVerification known = verifier(signedStore(script)).verify(script);
    assertThat(known.verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(status(known, Scope.DISK_HASH)).isEqualTo(ScopeStatus.VERIFIED);
  }

  @Test
  void fileChangedSinceExecIsNotVerified() throws Exception {
    ReferenceStore store = signedStore(binary);
    FileIdentity actual = BinaryVerifier.identity(binary);
    FileIdentity atExec =
        new FileIdentity(
            actual.dev(), actual.inode(), actual.ctimeNanos() - 1_000_000_000L, actual.size());

    BinaryVerification v = verifier(store).verify(binary, atExec);

    assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
    assertThat(v.scope(Scope.DISK_HASH).orElseThrow())
        .satisfies(r -> assertThat(r.status()).isEqualTo(ScopeStatus.NOT_VERIFIED))
        .satisfies(r -> assertThat(r.reason()).startsWith("file changed since exec"));
    assertThat(v.findings()).extracting(Finding::type).containsExactly(FindingType.BINARY_REPLACED);

    assertThat(verifier(store).verify(binary, actual).verdict()).isEqualTo(Verdict.VERIFIED);
  }

  @Test
  void openChannelIsVerifiedWithIdentityFromStatPathAndLookupByDisplayPath() throws Exception {
    ReferenceStore store = signedStore(binary);
    // A path reference with another digest: lookup must use the display path, not the stat path.
    Path other = dir.resolve("other");
    Files.copy(Path.of("/usr/bin/true"), other);
    FileIdentity id = BinaryVerifier.identity(other);
    try (FileChannel ch = FileChannel.open(other, StandardOpenOption.READ)) {
      BinaryVerification v = verifier(store).verify(ch, other, binary.toRealPath().toString(), id);
      assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
      assertThat(v.path()).isEqualTo(binary.toRealPath().toString());
      assertThat(v.identity()).isEqualTo(id);
      // The channel is left open and its position untouched.
      assertThat(ch.isOpen()).isTrue();
      assertThat(ch.position()).isZero();
    }
    try (FileChannel ch = FileChannel.open(binary, StandardOpenOption.READ)) {
      assertThat(
              verifier(store)
                  .verify(ch, binary.toString(), BinaryVerifier.identity(binary))
                  .verdict())
          .isEqualTo(Verdict.VERIFIED);
    }
  }

  /** What the pipeline does for a live process: read and stat through /proc/PID/exe. */
  @Test
  void procExeIsReadAndStatedThroughTheMagicLink() throws Exception {
    Path exe = Path.of("/proc/self/exe");
    Path real = exe.toRealPath();
    FileIdentity atExec = BinaryVerifier.identity(real);
    assertThat(BinaryVerifier.identity(exe)).isEqualTo(atExec);
    ReferenceStore store = signedStore(real);
    try (FileChannel ch = FileChannel.open(exe, StandardOpenOption.READ)) {
      BinaryVerification v = verifier(store).verify(ch, exe, real.toString(), atExec);
      assertThat(v.verdict()).as(v.coverage().toString()).isEqualTo(Verdict.VERIFIED);
      assertThat(v.path()).isEqualTo(real.toString());
    }
  }

  @Test
  void wrongMachineFailsTheHeaderScope() throws Exception {
    int foreign =
        ElfHeader.hostMachine() == ElfHeader.EM_AARCH64
            ? ElfHeader.EM_X86_64
            : ElfHeader.EM_AARCH64;
    BinaryVerifier v =
        new BinaryVerifier(
            signedStore(binary),
            CLOCK,
            new BinaryVerifier.Options(BinaryVerifier.BINARY_SCOPES, foreign));
    BinaryVerification r = v.verify(binary);
    assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(status(r, Scope.ELF_HEADER)).isEqualTo(ScopeStatus.FAILED);
    assertThat(r.findings()).extracting(Finding::type).contains(FindingType.WRONG_MACHINE);
  }

  @Test
  void truncatedElfFailsTheHeaderScope() throws Exception {
    Path broken = dir.resolve("broken");
    Files.write(broken, java.util.Arrays.copyOf(Files.readAllBytes(binary), 100));
    BinaryVerification v = verifier(ReferenceStore.empty()).verify(broken);
    assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(status(v, Scope.ELF_HEADER)).isEqualTo(ScopeStatus.FAILED);
    assertThat(v.findings()).extracting(Finding::type).contains(FindingType.MALFORMED_ELF);
  }

  @Test
  void dataFileIsNeitherElfNorScript() throws Exception {
    Path data = dir.resolve("data.bin");
    Files.write(data, "PK\u0003\u0004 not a program".getBytes(StandardCharsets.ISO_8859_1));
    BinaryVerification v = verifier(ReferenceStore.empty()).verify(data);
    assertThat(status(v, Scope.ELF_HEADER)).isEqualTo(ScopeStatus.NOT_APPLICABLE);
    assertThat(v.verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void unreadableInputsThrow() {
    BinaryVerifier v = verifier(ReferenceStore.empty());
    assertThatThrownBy(() -> v.verify(dir.resolve("missing")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> v.verify(dir))
        .isInstanceOf(java.nio.file.FileSystemException.class)
        .hasMessageContaining("is a directory");
  }

  @Test
  void optionsRefuseScopesThisVerifierCannotCheck() {
    assertThatThrownBy(
            () -> new BinaryVerifier.Options(Set.of(Scope.MEMORY_MAP), ElfHeader.EM_X86_64))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
