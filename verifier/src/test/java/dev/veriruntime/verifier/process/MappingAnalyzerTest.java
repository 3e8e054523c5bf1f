package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** MEMORY_MAP rules on synthetic maps (no /proc needed). */
class MappingAnalyzerTest {
  private static final String EXE_SHA = "a".repeat(64);
  private static final String LIB_SHA = "b".repeat(64);
  private static final long DEV = 0xfeL << 20;

  private static final MemoryMapping EXE_TEXT =
      map("5000-6000 r-xp 00001000 fe:00 10 /usr/bin/app");
  private static final MemoryMapping LIBC =
      map("7000-9000 r-xp 00026000 fe:00 20 /usr/lib/x86_64-linux-gnu/libc.so.6");
  private static final MemoryMapping LD =
      map("a000-b000 r-xp 00001000 fe:00 21 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  private static final MemoryMapping VDSO = map("c000-d000 r-xp 00000000 00:00 0 [vdso]");
  private static final MemoryMapping PLUGIN =
      map("e000-f000 r-xp 00001000 fe:00 30 /opt/app/plugin.so");
  private static final MemoryMapping PRELOAD =
      map("f000-10000 r-xp 00001000 fe:00 31 /tmp/libevil.so");

  private static final DependencyClosure CLOSURE =
      new DependencyClosure(
          List.of(
              new ResolvedLibrary(
                  "libc.so.6",
                  "/lib/x86_64-linux-gnu/libc.so.6",
                  DEV,
                  20,
                  "/usr/bin/app",
                  "ld.so.conf"),
              new ResolvedLibrary(
                  "/lib64/ld-linux-x86-64.so.2",
                  "/lib64/ld-linux-x86-64.so.2",
                  DEV,
                  21,
                  "/usr/bin/app",
                  "PT_INTERP")),
          List.of());

  private static MemoryMapping map(String line) {
    return ProcMaps.parseLine(line).orElseThrow();
  }

  private static MappingAnalyzer.ExecutableFacts exe(MappingAnalyzer.PathState state) {
    return new MappingAnalyzer.ExecutableFacts(
        "/usr/bin/app",
        DEV,
        10,
        EXE_SHA,
        state,
        state == MappingAnalyzer.PathState.REPLACED ? "inode 11" : "");
  }

  private static final MappingAnalyzer.FileChecker ALL_VERIFIED =
      m ->
          new MappingAnalyzer.FileCheck(
              m.inode() == 30 || m.inode() == 31 ? LIB_SHA : "c".repeat(64), Verdict.VERIFIED, "");

  private static MappingAnalyzer.Analysis analyze(
      ProcessPolicy policy,
      List<MemoryMapping> maps,
      MappingAnalyzer.PathState state,
      Map<String, DependencyClosure> preloads,
      MappingAnalyzer.FileChecker checker) {
    return new MappingAnalyzer(policy)
        .analyze(7, maps, exe(state), Optional.of(CLOSURE), "", preloads, checker);
  }

  private static List<FindingType> types(MappingAnalyzer.Analysis a) {
    return a.findings().stream().map(Finding::type).toList();
  }

  @Test
  void closureLibrariesAndVdsoAreVerified() {
    MappingAnalyzer.Analysis a =
        analyze(
            ProcessPolicy.defaults(),
            List.of(EXE_TEXT, LIBC, LD, VDSO),
            MappingAnalyzer.PathState.SAME,
            Map.of(),
            ALL_VERIFIED);
    assertThat(a.result().status()).as(a.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(a.findings()).isEmpty();
  }

  @Test
  void libraryOutsideTheClosureIsDlopenUnlessAPreloadListBroughtIt() {
    MappingAnalyzer.Analysis dlopen =
        analyze(
            ProcessPolicy.defaults(),
            List.of(EXE_TEXT, LIBC, PLUGIN),
            MappingAnalyzer.PathState.SAME,
            Map.of(),
            ALL_VERIFIED);
    assertThat(dlopen.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(dlopen.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.type()).isEqualTo(FindingType.UNEXPECTED_LIBRARY);
              assertThat(f.reason())
                  .contains("/opt/app/plugin.so")
                  .contains("loaded at run time (dlopen)");
              assertThat(f.detail())
                  .containsEntry("library", "/opt/app/plugin.so")
                  .containsEntry("sha256", LIB_SHA)
                  .containsEntry("address", "0xe000");
            });

    DependencyClosure preloaded =
        new DependencyClosure(
            List.of(
                new ResolvedLibrary(
                    "/tmp/libevil.so",
                    "/tmp/libevil.so",
                    DEV,
                    31,
                    "/usr/bin/app",
                    "/etc/ld.so.preload"),
                new ResolvedLibrary(
                    "libdep.so",
                    "/opt/app/plugin.so",
                    DEV,
                    30,
                    "/tmp/libevil.so",
                    "default directories")),
            List.of());
    MappingAnalyzer.Analysis injected =
        analyze(
            ProcessPolicy.defaults(),
            List.of(EXE_TEXT, LIBC, PRELOAD, PLUGIN),
            MappingAnalyzer.PathState.SAME,
            Map.of("/etc/ld.so.preload", preloaded),
            ALL_VERIFIED);
    assertThat(injected.findings())
        .extracting(Finding::type)
        .containsExactly(FindingType.PRELOADED_LIBRARY, FindingType.PRELOADED_LIBRARY);
    assertThat(injected.findings().get(0).reason()).contains("injected through /etc/ld.so.preload");
    assertThat(injected.findings().get(1).reason()).contains("needed by preloaded /tmp/libevil.so");
  }

  @Test
  void acceptingVerifiedDlopenAcceptsOnlyVerifiedLibrariesThatNoPreloadBrought() {
    ProcessPolicy lenient = ProcessPolicy.defaults().withVerifiedDlopenAccepted(true);
    List<MemoryMapping> maps = List.of(EXE_TEXT, LIBC, PLUGIN);

    MappingAnalyzer.Analysis verified =
        analyze(lenient, maps, MappingAnalyzer.PathState.SAME, Map.of(), ALL_VERIFIED);
    assertThat(verified.result().status())
        .as(verified.result().reason())
        .isEqualTo(ScopeStatus.VERIFIED);
    // Still said, as a note that does not fail the scope.
    assertThat(verified.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.type()).isEqualTo(FindingType.UNEXPECTED_LIBRARY);
              assertThat(f.reason())
                  .contains("loaded at run time (dlopen)")
                  .endsWith("accepted by policy: the library itself is verified");
            });

    MappingAnalyzer.FileChecker unknownPlugin =
        m ->
            m.inode() == 30
                ? new MappingAnalyzer.FileCheck(LIB_SHA, Verdict.UNKNOWN, "DISK_HASH NOT_VERIFIED")
                : new MappingAnalyzer.FileCheck("c".repeat(64), Verdict.VERIFIED, "");
    MappingAnalyzer.Analysis unknown =
        analyze(lenient, maps, MappingAnalyzer.PathState.SAME, Map.of(), unknownPlugin);
    assertThat(unknown.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(types(unknown)).containsExactly(FindingType.UNEXPECTED_LIBRARY);

    DependencyClosure preloaded =
        new DependencyClosure(
            List.of(
                new ResolvedLibrary(
                    "/opt/app/plugin.so",
                    "/opt/app/plugin.so",
                    DEV,
                    30,
                    "/usr/bin/app",
                    "LD_PRELOAD")),
            List.of());
    MappingAnalyzer.Analysis preload =
        analyze(
            lenient,
            maps,
            MappingAnalyzer.PathState.SAME,
            Map.of("LD_PRELOAD", preloaded),
            ALL_VERIFIED);
    assertThat(preload.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(types(preload)).containsExactly(FindingType.PRELOADED_LIBRARY);
  }

  @Test
  void policyAllowsExtraLibrariesAndAnonymousCodeOnlyByDigest() {
    MemoryMapping jit = map("20000-30000 rwxp 00000000 00:00 0");
    List<MemoryMapping> maps = List.of(EXE_TEXT, LIBC, PLUGIN, jit);

    MappingAnalyzer.Analysis strict =
        analyze(
            ProcessPolicy.defaults(), maps, MappingAnalyzer.PathState.SAME, Map.of(), ALL_VERIFIED);
    assertThat(types(strict))
        .containsExactlyInAnyOrder(
            FindingType.UNEXPECTED_LIBRARY, FindingType.ANONYMOUS_EXECUTABLE_MEMORY);

    ProcessPolicy allowed =
        ProcessPolicy.defaults().withAnonymousExecAllowedFor(EXE_SHA).withLibraryAllowed(LIB_SHA);
    MappingAnalyzer.Analysis ok =
        analyze(allowed, maps, MappingAnalyzer.PathState.SAME, Map.of(), ALL_VERIFIED);
    assertThat(ok.result().status()).as(ok.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(ok.result().reason()).contains("allowed by policy for sha256 " + EXE_SHA);
    // The allowed library is still reported, as a note that does not fail the scope.
    assertThat(types(ok)).containsExactly(FindingType.UNEXPECTED_LIBRARY);

    // Another executable at the same path gets no allowance: the digest is what counts.
    MappingAnalyzer.ExecutableFacts impostor =
        new MappingAnalyzer.ExecutableFacts(
            "/usr/bin/app", DEV, 10, "d".repeat(64), MappingAnalyzer.PathState.SAME, "");
    MappingAnalyzer.Analysis denied =
        new MappingAnalyzer(allowed)
            .analyze(7, maps, impostor, Optional.of(CLOSURE), "", Map.of(), ALL_VERIFIED);
    assertThat(types(denied)).contains(FindingType.ANONYMOUS_EXECUTABLE_MEMORY);
    assertThat(denied.result().status()).isEqualTo(ScopeStatus.FAILED);
  }

  @Test
  void specialExecutableMappingsAreFindingsButVdsoAndVsyscallAreNot() {
    List<MemoryMapping> maps =
        List.of(
            EXE_TEXT,
            LIBC,
            VDSO,
            map("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]"),
            map("40000-41000 r-xp 00000000 00:00 0 [uprobes]"),
            map("50000-51000 rwxp 00000000 00:00 0 [heap]"),
            map("60000-61000 r-xp 00000000 00:01 77 /memfd:loader (deleted)"),
            map("70000-71000 r-xp 00001000 fe:00 88 /usr/lib/libold.so (deleted)"));
    MappingAnalyzer.Analysis a =
        analyze(
            ProcessPolicy.defaults(), maps, MappingAnalyzer.PathState.SAME, Map.of(), ALL_VERIFIED);
    assertThat(types(a))
        .containsExactly(
            FindingType.ANONYMOUS_EXECUTABLE_MEMORY,
            FindingType.ANONYMOUS_EXECUTABLE_MEMORY,
            FindingType.MEMFD_MAPPING,
            FindingType.DELETED_MAPPING);
    assertThat(a.findings().get(0).reason())
        .contains("[uprobes]")
        .contains("uprobes instrument this process");
    assertThat(a.findings().get(1).reason()).startsWith("heap");
    assertThat(a.findings().get(2).reason()).contains("/memfd:loader");
    assertThat(a.findings().get(3).reason())
        .contains("/usr/lib/libold.so")
        .contains("deleted or replaced");
  }

  @Test
  void executablePathStateIsJudgedOnce() {
    List<MemoryMapping> maps =
        List.of(EXE_TEXT, map("6000-7000 r-xp 00002000 fe:00 10 /usr/bin/app"), LIBC);
    assertThat(
            types(
                analyze(
                    ProcessPolicy.defaults(),
                    maps,
                    MappingAnalyzer.PathState.DELETED,
                    Map.of(),
                    ALL_VERIFIED)))
        .containsExactly(FindingType.BINARY_DELETED);
    MappingAnalyzer.Analysis replaced =
        analyze(
            ProcessPolicy.defaults(),
            maps,
            MappingAnalyzer.PathState.REPLACED,
            Map.of(),
            ALL_VERIFIED);
    assertThat(types(replaced)).containsExactly(FindingType.BINARY_REPLACED);
    assertThat(replaced.findings().get(0).reason())
        .contains("now names inode 11")
        .contains("runs inode 10");
    assertThat(
            types(
                analyze(
                    ProcessPolicy.defaults(),
                    maps,
                    MappingAnalyzer.PathState.MEMFD,
                    Map.of(),
                    ALL_VERIFIED)))
        .containsExactly(FindingType.MEMFD_EXECUTION);
  }

  @Test
  void previousVersionsOfUpgradedPackageFilesAreNotedNotFailed() {
    MemoryMapping oldLib = map("70000-71000 r-xp 00001000 fe:00 88 /usr/lib/libold.so (deleted)");
    List<MemoryMapping> maps = List.of(EXE_TEXT, LIBC, LD, oldLib);
    SupersededFiles upgraded =
        (path, sha) ->
            (path.equals("/usr/bin/app") && sha.equals(EXE_SHA))
                || (path.equals("/usr/lib/libold.so") && sha.equals("c".repeat(64)));

    MappingAnalyzer.Analysis a = replacedExecutable(maps, upgraded);

    assertThat(a.result().status()).as(a.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(types(a))
        .containsExactly(
            FindingType.PREVIOUS_PACKAGE_VERSION, FindingType.PREVIOUS_PACKAGE_VERSION);
    assertThat(a.findings().get(0).reason()).contains("/usr/bin/app", "until restarted");
    assertThat(a.findings().get(1).reason()).contains("/usr/lib/libold.so");

    MappingAnalyzer.Analysis tampered = replacedExecutable(maps, (path, sha) -> false);
    assertThat(types(tampered))
        .containsExactly(FindingType.BINARY_REPLACED, FindingType.DELETED_MAPPING);
    assertThat(tampered.result().status()).isEqualTo(ScopeStatus.FAILED);
  }

  private static MappingAnalyzer.Analysis replacedExecutable(
      List<MemoryMapping> maps, SupersededFiles superseded) {
    return new MappingAnalyzer(ProcessPolicy.defaults(), superseded)
        .analyze(
            7,
            maps,
            exe(MappingAnalyzer.PathState.REPLACED),
            Optional.of(CLOSURE),
            "",
            Map.of(),
            ALL_VERIFIED);
  }

  @Test
  void failedLibraryFailsAndUnknownOrUnreadableLibraryLeavesTheScopeNotVerified() {
    MappingAnalyzer.FileChecker failing =
        m ->
            m.inode() == 20
                ? new MappingAnalyzer.FileCheck(
                    "e".repeat(64), Verdict.FAILED, "DISK_HASH FAILED: digest differs")
                : new MappingAnalyzer.FileCheck("c".repeat(64), Verdict.VERIFIED, "");
    MappingAnalyzer.Analysis failed =
        analyze(
            ProcessPolicy.defaults(),
            List.of(EXE_TEXT, LIBC, LD),
            MappingAnalyzer.PathState.SAME,
            Map.of(),
            failing);
    assertThat(failed.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(failed.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.type()).isEqualTo(FindingType.UNVERIFIED_MAPPING);
              assertThat(f.reason()).contains("libc.so.6 failed verification: DISK_HASH FAILED");
            });

    MappingAnalyzer.FileChecker unknown =
        m ->
            m.inode() == 21
                ? new MappingAnalyzer.FileCheck(null, null, "Permission denied")
                : new MappingAnalyzer.FileCheck("c".repeat(64), Verdict.UNKNOWN, "no reference");
    MappingAnalyzer.Analysis degraded =
        analyze(
            ProcessPolicy.defaults(),
            List.of(EXE_TEXT, LIBC, LD),
            MappingAnalyzer.PathState.SAME,
            Map.of(),
            unknown);
    assertThat(degraded.result().status()).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(degraded.findings())
        .extracting(Finding::reason)
        .containsExactly(
            "mapped file /usr/lib/x86_64-linux-gnu/libc.so.6 is UNKNOWN: no reference",
            "mapped file /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 could not be read:"
                + " Permission denied");
  }

  @Test
  void unknownClosureLeavesLibrariesUnjudgedAndTheScopeNotVerified() {
    MappingAnalyzer.Analysis a =
        new MappingAnalyzer(ProcessPolicy.defaults())
            .analyze(
                7,
                List.of(EXE_TEXT, LIBC, PLUGIN),
                exe(MappingAnalyzer.PathState.SAME),
                Optional.empty(),
                "the executable is not a well-formed ELF file",
                Map.of(),
                ALL_VERIFIED);
    assertThat(a.result().status()).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(a.result().reason())
        .contains("dependency closure unknown: the executable is not a well-formed ELF file");
    assertThat(a.findings()).isEmpty();
  }
}
