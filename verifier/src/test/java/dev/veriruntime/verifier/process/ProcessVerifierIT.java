package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.hash.Sha256;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.KeyType;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.SigningKey;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VerifyProcess end to end against live test programs (root). */
class ProcessVerifierIT {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-11-23T08:00:00Z"), ZoneOffset.UTC);

  @TempDir Path dir;

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
  }

  /**
   * A signed store vouching for every executable file the process maps (its executable and
   * libraries).
   */
  private ReferenceStore signedStoreFor(int pid, Path... extra) throws Exception {
    Set<Path> files = new LinkedHashSet<>();
    for (MemoryMapping m : ProcFs.host().maps(pid)) {
      if (m.executable() && m.kind() == MemoryMapping.Kind.FILE) {
        files.add(Path.of(m.filePath()));
      }
    }
    files.addAll(List.of(extra));
    ManifestBuilder b = new ManifestBuilder(ManifestPredicate.TYPE);
    for (Path f : files) {
      b.add(f);
    }
    SigningKey key = SigningKey.generate(KeyType.ED25519);
    Path refs = dir.resolve("refs.dsse.json");
    Files.write(
        refs,
        DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, b.build().toJsonBytes(), key)
            .toJsonBytes());
    return new ReferenceLoader(
            TrustedKeys.of(List.of(key.publicKey())), SignaturePolicy.REQUIRE_TRUSTED)
        .loadAll(List.of(refs));
  }

  private static ProcessVerifier verifier(ReferenceStore store, ProcessPolicy policy) {
    return new ProcessVerifier(
        ExecutableVerifier.of(new BinaryVerifier(store, CLOCK, BinaryVerifier.Options.defaults())),
        policy,
        CLOCK);
  }

  private static ProcessVerifier verifier(ReferenceStore store) {
    return verifier(store, ProcessPolicy.defaults());
  }

  private static List<Finding> findings(ProcessVerification v, FindingType type) {
    return v.findings().stream().filter(f -> f.type() == type).toList();
  }

  private static ScopeStatus status(ProcessVerification v, Scope s) {
    return v.scope(s).orElseThrow().status();
  }

  @Test
  void untouchedProcessWithTrustedFilesIsVerifiedInEveryScope() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      ProcessVerification v = verifier(signedStoreFor(p.pid())).verify(p.pid());

      assertThat(v.coverage().results()).hasSize(6);
      assertThat(v.verdict()).as(v.coverage() + " " + v.findings()).isEqualTo(Verdict.VERIFIED);
      assertThat(v.executable().path()).isEqualTo(spin.toString());
      assertThat(v.executable().sha256()).isEqualTo(Sha256.hex(spin));
      assertThat(v.findings()).isEmpty();
      assertThat(v.codeBytesCompared()).isPositive();
      assertThat(v.checkedAt()).isEqualTo(CLOCK.instant());
      assertThat(v.startTicks()).isEqualTo(ProcFs.host().startTicks(p.pid()));
    }
  }

  @Test
  void unknownLibrariesLeaveMemoryMapNotVerified() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());

      assertThat(v.verdict()).isEqualTo(Verdict.UNKNOWN);
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.NOT_VERIFIED);
      assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.VERIFIED);
      assertThat(findings(v, FindingType.UNVERIFIED_MAPPING))
          .extracting(f -> f.detail().get("library"))
          .anySatisfy(lib -> assertThat(lib).contains("libc.so"));
      assertThat(findings(v, FindingType.UNEXPECTED_LIBRARY)).isEmpty();
    }
  }

  @Test
  void codePatchedInMemoryFailsMemoryCodeNamingSectionAndSymbol() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      ReferenceStore store = signedStoreFor(p.pid());
      long address = CodeScanIT.symbolAddress(p.pid(), spin, "patch_target") + 1;
      CodeScanIT.ProcessPatcher.write(p.pid(), address, new byte[] {(byte) 0xcc, (byte) 0xcc});

      ProcessVerification v = verifier(store).verify(p.pid());

      assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
      assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.FAILED);
      assertThat(status(v, Scope.DISK_HASH)).isEqualTo(ScopeStatus.VERIFIED);
      assertThat(findings(v, FindingType.CODE_MODIFIED))
          .singleElement()
          .satisfies(
              f ->
                  assertThat(f.detail())
                      .containsEntry("address", String.format("0x%x", address))
                      .containsEntry("section", ".text")
                      .containsEntry("symbol", "patch_target+0x1"));
    }
  }

  @Test
  void deletedExecutableIsFoundAndStillHashedThroughProcExe() throws Exception {
    Path copy = dir.resolve("spin-deleted");
    Files.copy(TestPrograms.executable("spin"), copy);
    String sha = Sha256.hex(copy);
    try (TestPrograms.Running p = TestPrograms.start(copy.toString())) {
      Files.delete(copy);
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());

      assertThat(v.executable().sha256()).isEqualTo(sha);
      assertThat(v.executable().path()).isEqualTo(copy.toString());
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.FAILED);
      assertThat(findings(v, FindingType.BINARY_DELETED))
          .singleElement()
          .satisfies(f -> assertThat(f.reason()).contains(copy.toString()).contains("was deleted"));
      assertThat(findings(v, FindingType.BINARY_REPLACED)).isEmpty();
      assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.VERIFIED);
    }
  }

  @Test
  void executableReplacedByRenameIsFound() throws Exception {
    Path copy = dir.resolve("spin-replaced");
    Files.copy(TestPrograms.executable("spin"), copy);
    String sha = Sha256.hex(copy);
    try (TestPrograms.Running p = TestPrograms.start(copy.toString())) {
      Path other = dir.resolve("other");
      Files.copy(TestPrograms.executable("rwx"), other);
      Files.move(other, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());

      assertThat(v.executable().sha256()).isEqualTo(sha).isNotEqualTo(Sha256.hex(copy));
      assertThat(findings(v, FindingType.BINARY_REPLACED))
          .singleElement()
          .satisfies(f -> assertThat(f.reason()).contains(copy.toString()).contains("replaced"));
      assertThat(findings(v, FindingType.BINARY_DELETED)).isEmpty();
    }
  }

  @Test
  void memfdExecutionIsFoundAndItsContentHashed() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p =
        TestPrograms.start(
            TestPrograms.executable("memfd_exec").toString(),
            "veriruntime-test",
            spin.toString())) {
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());

      assertThat(v.executable().path()).startsWith("/memfd:veriruntime-test");
      assertThat(v.executable().sha256()).isEqualTo(Sha256.hex(spin));
      assertThat(findings(v, FindingType.MEMFD_EXECUTION))
          .singleElement()
          .satisfies(f -> assertThat(f.reason()).contains("memfd").contains(Sha256.hex(spin)));
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.FAILED);
      assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.VERIFIED);
    }
  }

  @Test
  void ldPreloadLibraryIsNamedWithHowItGotThere() throws Exception {
    Path lib = TestPrograms.library("preload");
    try (TestPrograms.Running p =
        TestPrograms.start(
            Map.of("LD_PRELOAD", lib.toString()), TestPrograms.executable("spin").toString())) {
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());

      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.FAILED);
      assertThat(findings(v, FindingType.PRELOADED_LIBRARY))
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.detail())
                    .containsEntry("library", lib.toString())
                    .containsKey("sha256");
                assertThat(f.reason()).contains(lib.toString()).contains("LD_PRELOAD");
              });
      assertThat(findings(v, FindingType.UNEXPECTED_LIBRARY)).isEmpty();
    }
  }

  @Test
  void dlopenedLibraryIsUnexpectedUnlessPolicyAllowsItsDigest() throws Exception {
    Path lib = TestPrograms.library("preload");
    try (TestPrograms.Running p =
        TestPrograms.start(TestPrograms.executable("spin").toString(), lib.toString())) {
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());
      assertThat(findings(v, FindingType.UNEXPECTED_LIBRARY))
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.detail()).containsEntry("library", lib.toString());
                assertThat(f.reason()).contains("loaded at run time (dlopen)");
              });
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.FAILED);

      ProcessVerification allowed =
          verifier(
                  signedStoreFor(p.pid()),
                  ProcessPolicy.defaults().withLibraryAllowed(Sha256.hex(lib)))
              .verify(p.pid());
      assertThat(status(allowed, Scope.MEMORY_MAP))
          .as(allowed.coverage().toString())
          .isEqualTo(ScopeStatus.VERIFIED);
      assertThat(allowed.verdict()).isEqualTo(Verdict.VERIFIED);
    }
  }

  @Test
  void anonymousExecutableMemoryIsFoundUnlessAllowedForTheExecutablesDigest() throws Exception {
    Path rwx = TestPrograms.executable("rwx");
    try (TestPrograms.Running p = TestPrograms.start(rwx.toString())) {
      long address = Long.parseUnsignedLong(p.readyLine()[2].substring(2), 16);
      ProcessVerification v = verifier(ReferenceStore.empty()).verify(p.pid());
      assertThat(findings(v, FindingType.ANONYMOUS_EXECUTABLE_MEMORY))
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.detail())
                    .containsEntry("address", "0x" + Long.toHexString(address))
                    .containsEntry("permissions", "rwxp");
                assertThat(f.reason()).contains("anonymous memory").contains("rwxp");
              });
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.FAILED);

      // Allowed by digest, not by name: a copy elsewhere keeps the allowance.
      ProcessPolicy jit = ProcessPolicy.defaults().withAnonymousExecAllowedFor(Sha256.hex(rwx));
      ProcessVerification allowed = verifier(signedStoreFor(p.pid()), jit).verify(p.pid());
      assertThat(findings(allowed, FindingType.ANONYMOUS_EXECUTABLE_MEMORY)).isEmpty();
      assertThat(allowed.verdict()).as(allowed.coverage().toString()).isEqualTo(Verdict.VERIFIED);
      assertThat(allowed.scope(Scope.MEMORY_MAP).orElseThrow().reason())
          .contains("allowed by policy");
    }
  }

  @Test
  void attachedTracerFailsMemoryCode() throws Exception {
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      Process strace =
          new ProcessBuilder("strace", "-p", Integer.toString(p.pid()), "-o", "/dev/null")
              .redirectErrorStream(true)
              .start();
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ProcFs.host().status(p.pid()).tracerPid() == 0 && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }
        ProcessVerification v = verifier(signedStoreFor(p.pid())).verify(p.pid());
        assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.FAILED);
        assertThat(findings(v, FindingType.TRACER_ATTACHED))
            .singleElement()
            .satisfies(
                f ->
                    assertThat(f.detail())
                        .containsEntry("tracerPid", Long.toString(strace.pid()))
                        .containsEntry("tracer", "strace"));
        assertThat(v.verdict()).isEqualTo(Verdict.FAILED);
      } finally {
        strace.destroy();
        strace.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void processThatExitsDuringVerificationIsDegraded() throws Exception {
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      ReferenceStore store = signedStoreFor(p.pid());
      ProcessMemory.Opener killFirst =
          pid -> {
            try {
              p.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return ProcMemReader.open(pid);
          };
      ProcessVerifier verifier =
          new ProcessVerifier(
              ExecutableVerifier.of(
                  new BinaryVerifier(store, CLOCK, BinaryVerifier.Options.defaults())),
              ProcessPolicy.defaults(),
              CLOCK,
              ProcFs.host(),
              killFirst,
              new MemoryCodeComparator());

      ProcessVerification v = verifier.verify(p.pid());

      assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
      assertThat(status(v, Scope.MEMORY_CODE)).isEqualTo(ScopeStatus.NOT_VERIFIED);
      assertThat(v.scope(Scope.MEMORY_CODE).orElseThrow().reason()).contains("exited");
      assertThat(findings(v, FindingType.PROCESS_GONE)).hasSize(1);
    }
  }

  @Test
  void processThatExitsWhileItsMapIsCheckedIsDegradedNotBlamedForItsLibraries() throws Exception {
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      ReferenceStore store = signedStoreFor(p.pid());
      BinaryVerifier binaries = new BinaryVerifier(store, CLOCK, BinaryVerifier.Options.defaults());
      Path exe = Path.of(ProcFs.host().exeLink(p.pid()).orElseThrow());
      ExecutableVerifier killAtFirstLibrary =
          (file, statPath, displayPath) -> {
            if (!displayPath.equals(exe.toString())) {
              try {
                p.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return binaries.verify(file, statPath, displayPath, null);
          };
      ProcessVerifier verifier =
          new ProcessVerifier(killAtFirstLibrary, ProcessPolicy.defaults(), CLOCK);

      ProcessVerification v = verifier.verify(p.pid());

      assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
      assertThat(status(v, Scope.MEMORY_MAP)).isEqualTo(ScopeStatus.NOT_VERIFIED);
      assertThat(v.scope(Scope.MEMORY_MAP).orElseThrow().reason())
          .contains("exited while its memory map was checked");
      assertThat(findings(v, FindingType.PROCESS_GONE)).hasSize(1);
      assertThat(v.findings())
          .as("no library blamed for what the process's end made unreadable")
          .noneMatch(f -> f.scope() == Scope.MEMORY_MAP && f.type() != FindingType.PROCESS_GONE);
    }
  }

  @Test
  void refusedMemoryReadIsDegradedWithTheReason() throws Exception {
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      ProcessMemory.Opener refuse =
          pid -> {
            throw new AccessDeniedException("/proc/" + pid + "/mem", null, "Permission denied");
          };
      ProcessVerifier verifier =
          new ProcessVerifier(
              ExecutableVerifier.of(
                  new BinaryVerifier(
                      signedStoreFor(p.pid()), CLOCK, BinaryVerifier.Options.defaults())),
              ProcessPolicy.defaults(),
              CLOCK,
              ProcFs.host(),
              refuse,
              new MemoryCodeComparator());

      ProcessVerification v = verifier.verify(p.pid());

      assertThat(v.verdict()).isEqualTo(Verdict.DEGRADED);
      assertThat(v.scope(Scope.MEMORY_CODE).orElseThrow().reason())
          .contains("refused")
          .contains("/mem");
      assertThat(findings(v, FindingType.READ_REFUSED)).hasSize(1);
    }
  }

  @Test
  void zombieIsAnExitedProcessNotAKernelThread() throws Exception {
    // sh forks a child and becomes sleep, which never reaps it. The child exits only after the
    // exec: a child that exits at once may be reaped by sh itself, and then there is no zombie.
    Process parent =
        new ProcessBuilder("/bin/sh", "-c", "sh -c 'sleep 1; exit 0' & echo $!; exec sleep 30")
            .start();
    try {
      int child =
          Integer.parseInt(
              new java.io.BufferedReader(new java.io.InputStreamReader(parent.getInputStream()))
                  .readLine()
                  .strip());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!ProcFs.host().status(child).fields().get("State").startsWith("Z")) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.onSpinWait();
      }
      assertThatThrownBy(() -> verifier(ReferenceStore.empty()).verify(child))
          .isInstanceOf(ProcessGoneException.class)
          .hasMessageContaining("zombie");
    } finally {
      parent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void missingPidAndKernelThreadsAreClearErrors() {
    assertThatThrownBy(() -> verifier(ReferenceStore.empty()).verify(Integer.MAX_VALUE - 1))
        .isInstanceOf(ProcessGoneException.class)
        .hasMessageContaining("no such process");
    assertThatThrownBy(() -> verifier(ReferenceStore.empty()).verify(2))
        .isInstanceOf(NotAUserProcessException.class)
        .hasMessageContaining("kernel thread");
  }
}
