package dev.veriruntime.verifier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageVouchedVerificationTest {
  @TempDir Path dir;

  private BinaryVerifier verifierFor(Path binary) throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    String md5 =
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(binary)));
    Files.writeString(
        info.resolve("tool.md5sums"), md5 + "  " + binary.toString().substring(1) + "\n");
    return new BinaryVerifier(
        ReferenceStore.empty(),
        PackageDatabase.load(info),
        Clock.systemUTC(),
        new BinaryVerifier.Options(
            EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER, Scope.SIGNATURE),
            ElfHeader.hostMachine()));
  }

  @Test
  void packageChecksumVouchesForDiskHashButNeverForSignature() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/true"), dir.resolve("true"), StandardCopyOption.COPY_ATTRIBUTES);
    BinaryVerification v = verifierFor(bin).verify(bin);

    assertThat(v.coverage().get(Scope.DISK_HASH).orElseThrow().status())
        .isEqualTo(ScopeStatus.VERIFIED);
    assertThat(v.coverage().get(Scope.DISK_HASH).orElseThrow().reason()).contains("package tool");
    assertThat(v.coverage().get(Scope.SIGNATURE).orElseThrow().status())
        .isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
    assertThat(v.known())
        .as("known without a Reference object: the package database vouched")
        .isTrue();
  }

  @Test
  void aProcessRunningAPackageVouchedBinaryIsNotUnknown() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/sleep"), dir.resolve("sleep"), StandardCopyOption.COPY_ATTRIBUTES);
    BinaryVerifier verifier = verifierFor(bin);
    Process p = new ProcessBuilder(bin.toString(), "30").start();
    try {
      var pv =
          new dev.veriruntime.verifier.process.ProcessVerifier(
              dev.veriruntime.verifier.process.ExecutableVerifier.of(verifier),
              dev.veriruntime.verifier.process.ProcessPolicy.defaults()
                  .withIntendedScopes(EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER)),
              Clock.systemUTC());
      var result = pv.verify((int) p.pid());
      assertThat(result.coverage().get(Scope.DISK_HASH).orElseThrow().status())
          .isEqualTo(ScopeStatus.VERIFIED);
      assertThat(result.verdict()).isEqualTo(Verdict.VERIFIED);
    } finally {
      p.destroyForcibly().waitFor();
    }
  }

  @Test
  void eachVerificationReadsTheCurrentSnapshotOfAReplaceablePackageDatabase() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/true"), dir.resolve("true"), StandardCopyOption.COPY_ATTRIBUTES);
    Path info = Files.createDirectories(dir.resolve("info"));
    Files.writeString(
        info.resolve("tool.md5sums"), "0".repeat(32) + "  " + bin.toString().substring(1) + "\n");
    AtomicReference<PackageDatabase> current = new AtomicReference<>(PackageDatabase.load(info));
    BinaryVerifier verifier =
        new BinaryVerifier(
            ReferenceStore.empty(),
            current::get,
            Clock.systemUTC(),
            new BinaryVerifier.Options(
                EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER), ElfHeader.hostMachine()));

    assertThat(verifier.verify(bin).verdict()).isEqualTo(Verdict.FAILED);

    String md5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(bin)));
    Files.writeString(
        info.resolve("tool.md5sums"), md5 + "  " + bin.toString().substring(1) + "\n");
    current.set(PackageDatabase.load(info));

    assertThat(verifier.verify(bin).verdict()).isEqualTo(Verdict.VERIFIED);
  }

  @Test
  void aProcessStillRunningThePreviousVersionOfAnUpgradedFileIsNotedNotFailed() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/sleep"), dir.resolve("svc"), StandardCopyOption.COPY_ATTRIBUTES);
    byte[] previous = Files.readAllBytes(bin);
    String previousSha256 =
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(previous));
    Process p = new ProcessBuilder(bin.toString(), "30").start();
    try {
      // The upgrade: the new version renamed into place, its record written.
      Path next =
          Files.write(
              dir.resolve("svc.dpkg-new"), java.util.Arrays.copyOf(previous, previous.length + 1));
      Files.move(next, bin, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      var intended = EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER, Scope.MEMORY_MAP);
      var processes =
          new dev.veriruntime.verifier.process.ProcessVerifier(
              dev.veriruntime.verifier.process.ExecutableVerifier.of(verifierFor(bin)),
              dev.veriruntime.verifier.process.ProcessPolicy.defaults()
                  .withIntendedScopes(intended),
              Clock.systemUTC());

      var unexplained = processes.verify((int) p.pid());
      assertThat(unexplained.scope(Scope.DISK_HASH).orElseThrow().status())
          .isEqualTo(ScopeStatus.FAILED);
      assertThat(unexplained.findings())
          .extracting(Finding::type)
          .contains(FindingType.BINARY_REPLACED);

      var explained =
          processes
              .withSupersededFiles(
                  (path, sha256) -> path.equals(bin.toString()) && sha256.equals(previousSha256))
              .verify((int) p.pid());
      assertThat(explained.scope(Scope.DISK_HASH).orElseThrow().status())
          .isEqualTo(ScopeStatus.VERIFIED);
      assertThat(explained.scope(Scope.DISK_HASH).orElseThrow().reason())
          .contains("previous version");
      assertThat(explained.findings())
          .extracting(Finding::type)
          .contains(FindingType.PREVIOUS_PACKAGE_VERSION)
          .doesNotContain(FindingType.BINARY_REPLACED, FindingType.DIGEST_MISMATCH);
    } finally {
      p.destroyForcibly().waitFor();
    }
  }

  @Test
  void aPackageCommandCopiedUnderAnotherNameIsUnknownAndSaysWhatItCopies() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/true"), Files.createDirectories(dir.resolve("bin")).resolve("true"));
    BinaryVerifier verifier = verifierFor(bin);
    Path masquerade = Files.copy(bin, Files.createDirectories(dir.resolve("tmp")).resolve("sshd"));

    BinaryVerification v = verifier.verify(masquerade);

    assertThat(v.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(v.findings())
        .filteredOn(f -> f.type() == FindingType.PACKAGE_FILE_COPY)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.reason())
                  .isEqualTo(
                      "same bytes as " + bin + " of package tool, at a path no package owns");
              assertThat(f.detail())
                  .containsEntry("packageFile", bin.toString())
                  .containsEntry("package", "tool");
            });

    Files.write(masquerade, new byte[] {0x7f, 'E', 'L', 'F'});
    assertThat(verifier.verify(masquerade).findings())
        .extracting(Finding::type)
        .doesNotContain(FindingType.PACKAGE_FILE_COPY);
  }

  @Test
  void aChangedByteInAPackageOwnedFileFailsAsCandidateTampering() throws Exception {
    Path bin =
        Files.copy(
            Path.of("/usr/bin/true"), dir.resolve("true"), StandardCopyOption.COPY_ATTRIBUTES);
    BinaryVerifier verifier = verifierFor(bin);
    byte[] bytes = Files.readAllBytes(bin);
    bytes[bytes.length / 2] ^= 1;
    Files.write(bin, bytes);

    BinaryVerification v = verifier.verify(bin);

    assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(v.coverage().get(Scope.DISK_HASH).orElseThrow().reason())
        .contains("candidate tampering");
    assertThat(v.findings()).extracting(Finding::type).contains(FindingType.DIGEST_MISMATCH);
  }
}
