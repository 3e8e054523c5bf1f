package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.pipeline.ClassifyStage;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import dev.veriruntime.verifier.testing.ScenarioPrograms;
import dev.veriruntime.verifier.testing.TempDirs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root, against one real agent for the whole class: each scenario runs a real attack
 * technique (or a benign control) and asserts the exact event type and reason the agent prints on
 * its JSON console. The machine runs other things meanwhile, so every assertion is tied to this
 * scenario's own freshly compiled files and process ids. The table of scenarios, with what each one
 * promises, is docs/scenarios.md.
 *
 * <p>Trust: the package database (as in the default policy) and one unsigned manifest written at
 * start for the files named "trusted" below; every other compiled file is unknown. Re-attestation
 * runs a round every second (the default is a minute) so that drift found only by re-verifying a
 * running process shows within the wait; the agent's control API tells when a process has been
 * re-verified, so silence is asserted only after the check that could have broken it.
 */
class DetectionScenariosIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** Re-attestation shares one worker with every process the machine started meanwhile. */
  private static final Duration REATTEST_WAIT = Duration.ofSeconds(60);

  @TempDir static Path work;

  private static Path tmpDir;
  private static Path shmDir;
  private static Path sleeper;
  private static Path memfdExec;
  private static Path rwx;
  private static Path allowedJit;
  private static Path ptraceAttach;
  private static Path deletedExec;
  private static Path preload;
  private static Path patchable;

  /** The same program with debug information (another digest, also trusted): its own fold key. */
  private static Path incidentPatchable;

  private static Path writablePatchable;

  private static Path patcher;
  private static Path dlopener;

  /** Trusted by the manifest (by digest): sleeper built with debug information, another digest. */
  private static Path trustedSleeper;

  /** Trusted by the manifest under this very path; a rename puts unknown bytes there. */
  private static Path renameTarget;

  /**
   * Trusted library (by path and digest) that {@link #libraryUser} needs; rewritten by one test.
   */
  private static Path sharedLibrary;

  private static Path libraryUser;

  /** Trusted library mapped by {@link #watchedLibraryUser}, opened for writing by one test. */
  private static Path watchedLibrary;

  private static Path watchedLibraryUser;

  /** Trusted library that no program needs: loaded at run time only. */
  private static Path trustedPlugin;

  private static ExecDriver flood;
  private static ApiClient api;
  private static EventLines events;
  private static Daemon daemon;
  private static Thread runner;
  private static long startedNanos;

  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    startedNanos = System.nanoTime();
    // Explicit directories: the scenarios are about /tmp and /dev/shm themselves, not
    // java.io.tmpdir.
    tmpDir = Files.createTempDirectory(Path.of("/tmp"), "veriruntime-scenario");
    shmDir = Files.createTempDirectory(Path.of("/dev/shm"), "veriruntime-scenario");
    Path build = Files.createDirectories(work.resolve("build"));
    sleeper = compile(build, "sleeper", "sleeper");
    memfdExec = compile(build, "memfd_exec", "memfd_exec");
    rwx = compile(build, "rwx", "rwx");
    // The same code with debug information: another digest, the one the JIT allowance names.
    allowedJit = compile(build, "rwx", "allowed-jit", "-g");
    ptraceAttach = compile(build, "ptrace_attach", "ptrace_attach");
    deletedExec = compile(build, "deleted_exec", "deleted_exec");
    preload = compile(build, "preload", "libpreload.so", "-shared", "-fPIC");
    patchable = compile(build, "patchable", "patchable");
    incidentPatchable = compile(build, "patchable", "incident-patchable", "-g");
    writablePatchable = compile(build, "patchable", "writable-patchable", "-DWRITABLE_CODE");
    patcher = compile(build, "patcher", "patcher");
    dlopener = compile(build, "dlopener", "dlopener");
    trustedSleeper = compile(build, "sleeper", "trusted-sleeper", "-g");
    renameTarget = copyOf(trustedSleeper, tmpDir.resolve("replaced-by-rename"));
    Path libDir = Files.createDirectories(tmpDir.resolve("lib"));
    sharedLibrary = compile(libDir, "shared", "libshared.so", "-shared", "-fPIC");
    libraryUser =
        compile(build, "libuser", "libuser", "-L" + libDir, "-Wl,-rpath," + libDir, "-lshared");
    trustedPlugin = compile(build, "preload", "libtrusted-plugin.so", "-shared", "-fPIC", "-g");
    Path watchedDir = Files.createDirectories(tmpDir.resolve("watched"));
    watchedLibrary = compile(watchedDir, "shared", "libshared.so", "-shared", "-fPIC");
    watchedLibraryUser =
        compile(
            build,
            "libuser",
            "watched-libuser",
            "-L" + watchedDir,
            "-Wl,-rpath," + watchedDir,
            "-lshared");
    flood = ExecDriver.build(Files.createDirectories(work.resolve("flood")));

    Path manifest = work.resolve("trusted.intoto.json");
    ManifestBuilder trusted = new ManifestBuilder(ManifestPredicate.TYPE);
    for (Path p :
        List.of(
            trustedSleeper,
            renameTarget,
            patchable,
            incidentPatchable,
            writablePatchable,
            sharedLibrary,
            libraryUser,
            watchedLibrary,
            watchedLibraryUser,
            trustedPlugin,
            flood.child)) {
      trusted.add(p);
    }
    Files.write(manifest, trusted.build().toJsonBytes());
    ReferenceStore references =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED)
            .loadAll(List.of(manifest));

    Policy policy = Policy.defaults();
    // Other work on this machine also raises events; the console budget must not drop ours.
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    policy.reattestation.intervalSeconds = 1;
    // Every process the shared machine starts meanwhile is re-attested too: a larger budget keeps a
    // busy machine from starving the scenarios' own processes (the default is 32 MiB/s).
    policy.reattestation.bytesPerSecond = 128L << 20;
    policy.jitAllowance.add(sha256(allowedJit));
    // As docs/operations.md tells operators: the JDK's launcher may JIT (the benign JVM control).
    policy.jitAllowance.add(sha256(javaLauncher()));
    events = new EventLines();
    Path state = Files.createDirectories(work.resolve("state"));
    Path socket = work.resolve("api.sock");
    daemon =
        Daemon.start(
            new Daemon.Settings(policy, references, true, state, state, false, false, socket),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            System.err);
    api = ApiClient.connect(socket);
    runner = new Thread(() -> daemon.run(null), "scenarios-agent");
    runner.start();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    try {
      if (api != null) {
        api.close();
      }
      if (daemon != null) {
        daemon.stop();
        runner.join(Duration.ofSeconds(30).toMillis());
        daemon.close();
      }
    } finally {
      TempDirs.deleteTree(tmpDir);
      TempDirs.deleteTree(shmDir);
    }
    System.out.printf(
        "detection scenarios: %d ms with one agent, %d events seen%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos),
        events == null ? 0 : events.all().size());
  }

  @AfterEach
  void killStarted() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void unknownBinaryRunFromTmpIsUnknownExecution() throws Exception {
    Path copy = copyOf(sleeper, tmpDir.resolve("unknown-in-tmp"));
    Process p = exited(start(Map.of(), copy.toString(), "once"));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + copy,
            ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, copy.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("exec of " + copy + ": no trusted reference for sha256 ");
  }

  @Test
  void unknownBinaryRunFromDevShmIsUnknownExecution() throws Exception {
    Path copy = copyOf(sleeper, shmDir.resolve("unknown-in-shm"));
    Process p = exited(start(Map.of(), copy.toString(), "once"));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + copy,
            ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, copy.toString()));

    assertThat(exe(e)).startsWith("/dev/shm/");
    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("exec of " + copy + ": no trusted reference");
  }

  @Test
  void filelessExecutionFromMemfdIsRuntimeDriftAndItsContentUnknown() throws Exception {
    Path launcher = copyOf(memfdExec, tmpDir.resolve("memfd-launcher"));
    Path payload = copyOf(sleeper, tmpDir.resolve("memfd-payload"));
    Process p = start(Map.of(), launcher.toString(), "veriruntime-scenario", payload.toString());
    awaitReady(p);
    long pid = p.pid();

    JsonNode drift =
        await(
            "RUNTIME_DRIFT fileless execution in pid " + pid,
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == pid
                    && reason(ev).contains("fileless execution"));
    JsonNode unknown =
        await(
            "UNKNOWN_EXECUTION of the memfd in pid " + pid,
            ev ->
                is(ev, "UNKNOWN_EXECUTION")
                    && ev.path("pid").asLong() == pid
                    && covers(ev, path -> path.contains("memfd:veriruntime-scenario")));

    assertThat(reason(drift)).contains("executed a memfd (").contains("memfd:veriruntime-scenario");
    assertThat(drift.path("details").path("finding").asText()).isEqualTo("MEMFD_EXECUTION");
    assertThat(reason(unknown)).startsWith("exec of ").contains("no trusted reference");
  }

  @Test
  void binaryUnlinkedBeforeItIsExecutedIsRuntimeDriftAndItsContentUnknown() throws Exception {
    Path dropper = copyOf(deletedExec, tmpDir.resolve("dropper"));
    Path payload = copyOf(sleeper, tmpDir.resolve("dropped-payload"));
    Process p = start(Map.of(), dropper.toString(), payload.toString());
    awaitReady(p);
    long pid = p.pid();
    assertThat(payload).as("the dropper removed its payload").doesNotExist();

    JsonNode drift =
        await(
            "RUNTIME_DRIFT deleted file in pid " + pid,
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == pid
                    && reason(ev).contains("deleted file"));
    JsonNode unknown =
        await(
            "UNKNOWN_EXECUTION of the deleted payload in pid " + pid,
            ev ->
                is(ev, "UNKNOWN_EXECUTION")
                    && ev.path("pid").asLong() == pid
                    && covers(ev, payload.toString()));

    assertThat(reason(about(drift, payload.toString())))
        .isEqualTo("executed a deleted file " + payload + " (unlinked while in use)");
    assertThat(drift.path("details").path("finding").asText()).isEqualTo("BINARY_DELETED");
    assertThat(reason(about(unknown, payload.toString())))
        .startsWith("exec of " + payload + ": no trusted reference");
  }

  @Test
  void binaryStartedThroughTheDynamicLoaderIsAnUnknownExecutableMapping() throws Exception {
    Path copy = copyOf(sleeper, tmpDir.resolve("through-ld-so"));
    Process p = exited(start(Map.of(), "/lib64/ld-linux-x86-64.so.2", copy.toString(), "once"));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION mapping of " + copy,
            ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, copy.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("executable mapping of " + copy + ": no trusted reference");
  }

  @Test
  void libraryInjectedWithLdPreloadIsAnUnknownExecutableMapping() throws Exception {
    Path lib = copyOf(preload, tmpDir.resolve("libinjected.so"));
    Process p = exited(start(Map.of("LD_PRELOAD", lib.toString()), "/usr/bin/true"));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION mapping of " + lib,
            ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, lib.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("executable mapping of " + lib + ": no trusted reference");
  }

  @Test
  void anonymousWritableExecutableCodeIsRuntimeDrift() throws Exception {
    Path copy = copyOf(rwx, tmpDir.resolve("rwx-loader"));
    Process p = start(Map.of(), copy.toString());
    awaitReady(p);
    long pid = p.pid();

    JsonNode e =
        await(
            "RUNTIME_DRIFT anonymous memory in pid " + pid,
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == pid
                    && reason(ev).contains("anonymous writable+executable memory"));

    assertThat(reason(e)).contains("created by mmap in " + copy);
    assertThat(e.path("details").path("finding").asText()).isEqualTo("ANONYMOUS_EXECUTABLE_MEMORY");
    assertThat(e.path("details").path("writable").asBoolean()).isTrue();
  }

  @Test
  void anonymousCodeOfAnExecutableInTheJitAllowanceRaisesNoDrift() throws Exception {
    Path copy = copyOf(allowedJit, tmpDir.resolve("allowed-jit"));
    Process p = start(Map.of(), copy.toString());
    awaitReady(p);
    long pid = p.pid();

    // The allowance tolerates its anonymous memory, not the binary itself: still unknown.
    await(
        "UNKNOWN_EXECUTION of " + copy,
        ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, copy.toString()));
    Thread.sleep(
        500); // the mmap event travels apart from the exec's verification: give it time to show

    assertThat(events.all())
        .as("events about the allowed JIT, pid " + pid)
        .noneMatch(ev -> is(ev, "RUNTIME_DRIFT") && ev.path("pid").asLong() == pid);
  }

  @Test
  void ptraceAttachToAnotherProcessIsRuntimeDrift() throws Exception {
    Path target = copyOf(sleeper, tmpDir.resolve("ptrace-target"));
    Path attacher = copyOf(ptraceAttach, tmpDir.resolve("ptrace-attacher"));
    Process victim = start(Map.of(), target.toString());
    awaitReady(victim);
    Process actor = start(Map.of(), attacher.toString(), Long.toString(victim.pid()));
    assertThat(actor.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(actor.exitValue()).as("PTRACE_ATTACH succeeded").isZero();

    JsonNode e =
        await(
            "RUNTIME_DRIFT ptrace aimed at pid " + victim.pid(),
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == victim.pid()
                    && reason(ev).contains("ptrace"));

    assertThat(reason(e)).startsWith("ptrace attach by " + attacher + " aimed at " + target);
    assertThat(e.path("details").path("technique").asText()).isEqualTo("PTRACE_ATTACH");
    assertThat(e.path("details").path("actorPid").asLong()).isEqualTo(actor.pid());
    assertThat(victim.isAlive()).as("detection never blocks: the target keeps running").isTrue();
  }

  @Test
  void aParentThatForkedWithoutAnExecIsNamedInTheParentChain() throws Exception {
    Path copy = copyOf(sleeper, tmpDir.resolve("unknown-under-a-subshell"));
    String sh = Path.of("/bin/sh").toRealPath().toString();
    // The shell forks a subshell that runs the program and waits for it: the subshell runs the
    // shell's executable without an exec of its own, so the probe reports neither its start nor
    // its exit (as with a web server's worker or an SSH daemon's session process).
    Process p = start(Map.of(), "/bin/sh", "-c", "(" + copy + "; true)");
    try {
      JsonNode e =
          await(
              "UNKNOWN_EXECUTION of " + copy,
              ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, copy.toString()));

      JsonNode details = e.path("details");
      assertThat(details.path("parents").size()).isGreaterThanOrEqualTo(2);
      assertThat(details.path("parents").get(0).asText()).as("the subshell").isEqualTo(sh);
      assertThat(details.path("parents").get(1).asText()).as("the shell").isEqualTo(sh);
      assertThat(details.has(ClassifyStage.PARENTS_END)).isFalse();
    } finally {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void symlinkToUnknownBinaryIsReportedUnderTheRealFile() throws Exception {
    Path real = copyOf(sleeper, tmpDir.resolve("symlink-target"));
    Path link = Files.createSymbolicLink(tmpDir.resolve("innocent-looking-link"), real);
    Process p = exited(start(Map.of(), link.toString(), "once"));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + real,
            ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == p.pid());

    assertThat(exe(e)).isEqualTo(real.toString());
    assertThat(reason(e)).startsWith("exec of " + real + ": no trusted reference");
    assertThat(events.all()).noneMatch(ev -> covers(ev, link.toString()));
  }

  @Test
  void packageOwnedCommandsRaiseNothing() throws Exception {
    Set<String> benign =
        Set.of("/usr/bin/ls", "/usr/bin/sha256sum", "/bin/sh", "/usr/bin/dash", "/usr/bin/true");
    List<Long> pids = new ArrayList<>();
    pids.add(exited(start(Map.of(), "/usr/bin/ls", "-l", tmpDir.toString())).pid());
    pids.add(exited(start(Map.of(), "/usr/bin/sha256sum", sleeper.toString())).pid());
    pids.add(exited(start(Map.of(), "/bin/sh", "-c", "true")).pid());
    // A sentinel started after them: once its event is out, theirs would have been too.
    Path sentinel = copyOf(sleeper, tmpDir.resolve("benign-sentinel"));
    exited(start(Map.of(), sentinel.toString(), "once"));
    await(
        "UNKNOWN_EXECUTION of the sentinel",
        ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, sentinel.toString()));
    Thread.sleep(500); // verification runs on two lanes: give a slower neighbour the same chance

    assertThat(events.all())
        .as("events about ls, sha256sum or sh")
        .noneMatch(ev -> benign.contains(exe(ev)))
        .noneMatch(ev -> pids.contains(ev.path("pid").asLong()));
  }

  @Test
  void runningBinaryDeletedIsRuntimeDriftWhenReattested() throws Exception {
    Path copy = copyOf(trustedSleeper, tmpDir.resolve("deleted-while-running"));
    Process p = start(Map.of(), copy.toString());
    awaitReady(p);
    int pid = (int) p.pid();
    JsonNode before = awaitAttested(pid, v -> true);
    assertThat(before.path("verdict").asText())
        .as("trusted and intact before the deletion")
        .isEqualTo("VERIFIED");

    Files.delete(copy);

    JsonNode e =
        awaitReattested(
            "RUNTIME_DRIFT executable deleted",
            pid,
            ev -> is(ev, "RUNTIME_DRIFT") && finding(ev).equals("BINARY_DELETED"));
    assertThat(reason(e))
        .isEqualTo(
            "running process "
                + copy
                + ": MEMORY_MAP failed: 1 finding(s); first: executable "
                + copy
                + " was deleted while process "
                + pid
                + " runs it (inode "
                + e.path("exe").path("ino").asLong()
                + "); its content was read through /proc/"
                + pid
                + "/exe");
    assertThat(e.path("details").path("check").asText()).isEqualTo("re-attestation");
    assertThat(e.path("exe").path("sha256").asText())
        .as("the content that runs is still the trusted one")
        .isEqualTo(sha256(trustedSleeper));
    assertThat(e.path("findings"))
        .extracting(f -> f.path("type").asText())
        .containsExactly("BINARY_DELETED");
    assertThat(events.all())
        .as("the exec itself was verified")
        .noneMatch(ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == pid);
  }

  @Test
  void runningBinaryReplacedByRenameKeepsItsIdentityAndTheNewContentFailsVerification()
      throws Exception {
    long trustedInode = inode(renameTarget);
    Process old = start(Map.of(), renameTarget.toString());
    awaitReady(old);
    int oldPid = (int) old.pid();
    assertThat(awaitAttested(oldPid, v -> true).path("verdict").asText()).isEqualTo("VERIFIED");

    Path staged = copyOf(sleeper, tmpDir.resolve(".replaced-by-rename.new"));
    Files.move(
        staged, renameTarget, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Process fresh = exited(start(Map.of(), renameTarget.toString(), "once"));

    JsonNode failed =
        await(
            "VERIFY_FAILED of the new " + renameTarget,
            ev -> is(ev, "VERIFY_FAILED") && ev.path("pid").asLong() == fresh.pid());
    assertThat(reason(failed))
        .startsWith(
            "exec of "
                + renameTarget
                + " failed verification: DISK_HASH FAILED (sha256 "
                + sha256(sleeper)
                + " differs from reference "
                + sha256(trustedSleeper)
                + " for "
                + renameTarget);
    assertThat(failed.path("exe").path("ino").asLong()).isNotEqualTo(trustedInode);

    JsonNode drift =
        awaitReattested(
            "RUNTIME_DRIFT binary replaced",
            oldPid,
            ev -> is(ev, "RUNTIME_DRIFT") && finding(ev).equals("BINARY_REPLACED"));
    assertThat(reason(drift))
        .startsWith(
            "running process "
                + renameTarget
                + ": MEMORY_MAP failed: 1 finding(s); first: executable "
                + renameTarget
                + " was replaced while process "
                + oldPid
                + " runs it: the path now names inode "
                + inode(renameTarget))
        .contains("the process runs inode " + trustedInode);
    assertThat(drift.path("exe").path("ino").asLong())
        .as("the old process keeps its identity")
        .isEqualTo(trustedInode);
    assertThat(drift.path("exe").path("sha256").asText()).isEqualTo(sha256(trustedSleeper));
    assertThat(events.all())
        .as("the old process's own exec was verified")
        .noneMatch(
            ev ->
                ev.path("pid").asLong() == oldPid
                    && (is(ev, "VERIFY_FAILED") || is(ev, "UNKNOWN_EXECUTION")));
  }

  @Test
  void sharedLibraryRewrittenInPlaceFailsTheNextVerificationOfEveryProcessThatMapsIt()
      throws Exception {
    Process first = start(Map.of(), libraryUser.toString());
    awaitReady(first);
    int firstPid = (int) first.pid();
    assertThat(awaitAttested(firstPid, v -> true).path("verdict").asText()).isEqualTo("VERIFIED");

    long inode = inode(sharedLibrary);
    rewriteMarker(
        sharedLibrary, "VERIRUNTIME-SCENARIO-CODE-MARKER", "REWRITTEN-ON-DISK-WHILE-MAPPED!!");
    assertThat(inode(sharedLibrary)).as("rewritten in place, not replaced").isEqualTo(inode);
    String patchedSha = sha256(sharedLibrary);

    // A process that maps it now: the mapping is verified afresh (its change time moved).
    Process second = start(Map.of(), libraryUser.toString());
    awaitReady(second);
    JsonNode mapped =
        await(
            "VERIFY_FAILED mapping of " + sharedLibrary,
            ev ->
                is(ev, "VERIFY_FAILED")
                    && ev.path("pid").asLong() == second.pid()
                    && covers(ev, sharedLibrary.toString()));
    assertThat(reason(about(mapped, sharedLibrary.toString())))
        .startsWith(
            "executable mapping of "
                + sharedLibrary
                + " failed verification: DISK_HASH FAILED (sha256 "
                + patchedSha
                + " differs from reference ");

    // The process that mapped it before: its next re-attestation finds the file no longer verifies;
    // both read the same page cache, so memory equals the rewritten file and MEMORY_CODE cannot
    // tell.
    JsonNode after =
        awaitAttested(
            firstPid,
            v -> v.path("coverage").path("MEMORY_MAP").path("status").asText().equals("FAILED"));
    assertThat(after.path("findings"))
        .anySatisfy(
            f -> {
              assertThat(f.path("type").asText()).isEqualTo("UNVERIFIED_MAPPING");
              assertThat(f.path("reason").asText())
                  .startsWith(
                      "mapped file "
                          + sharedLibrary
                          + " failed verification: DISK_HASH FAILED: sha256 "
                          + patchedSha
                          + " differs from reference");
            });
    assertThat(after.path("coverage").path("MEMORY_CODE").path("status").asText())
        .isEqualTo("VERIFIED");
    // As drift: both processes run the same binary and get the same reason (reasons carry no pid),
    // so
    // the aggregator may fold the two into one event, under either pid.
    JsonNode drift =
        await(
            "RUNTIME_DRIFT mapped file failed in " + libraryUser,
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && (ev.path("pid").asLong() == firstPid
                        || ev.path("pid").asLong() == second.pid())
                    && finding(ev).equals("UNVERIFIED_MAPPING"));
    assertThat(reason(drift))
        .startsWith(
            "running process "
                + libraryUser
                + ": MEMORY_MAP failed: 1 finding(s); first: mapped file "
                + sharedLibrary
                + " failed verification: DISK_HASH FAILED: sha256 "
                + patchedSha
                + " differs from reference");
  }

  @Test
  void codePatchedThroughPtracePokeTextIsRuntimeDriftTwice() throws Exception {
    Patched p = patch("ptrace", "poked-victim", "ptrace-poker");

    // The syscall, as it happens.
    Predicate<JsonNode> poke =
        f -> f.path("details").path("technique").asText().equals("PTRACE_POKETEXT");
    JsonNode event =
        await(
            "RUNTIME_DRIFT ptrace poketext aimed at pid " + p.pid(),
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == p.pid()
                    && part(ev, poke) != null);
    // The attach and the pokes of one moment are one event: the poke is the event or one of its
    // items.
    JsonNode syscall = part(event, poke);
    assertThat(reason(syscall))
        .startsWith("ptrace poketext by " + p.actor() + " aimed at " + p.victim());
    assertThat(syscall.path("details").path("address").asText()).isEqualTo("0x" + p.address());
    assertThat(syscall.path("details").path("actorPid").asLong()).isEqualTo(p.actorPid());
    // Its effect: the poke makes the agent verify the target at once, and the changed code joins
    // the poke's incident (in its first event, or as an UPDATED report of it).
    JsonNode code = awaitCodeModifiedInTheWritesIncident(p, event);
    System.out.printf(
        "latency from starting the ptrace patcher -> syscall event reported %d ms, -> CODE_MODIFIED"
            + " reported %d ms (found %d ms, verified after %s)%n",
        latencyMillis(p.started(), event),
        latencyMillis(p.started(), code),
        foundMillis(p.started(), code),
        part(code, Checks.CODE_MODIFIED).path("details").path("verifiedAfter").asText());
    assertThat(p.target().isAlive())
        .as("detection never blocks: the target keeps running")
        .isTrue();
  }

  @Test
  void mappedLibraryOpenedForWritingIsRuntimeDriftAtOnce() throws Exception {
    Process user = start(Map.of(), watchedLibraryUser.toString());
    awaitReady(user);
    int userPid = (int) user.pid();
    // Verified: the probe now counts its mappings and watches its writes.
    assertThat(awaitAttested(userPid, v -> true).path("verdict").asText()).isEqualTo("VERIFIED");

    // Opened for appending, nothing written: the open is the signal.
    Instant opened = Instant.now();
    Process writer = start(Map.of(), "/bin/sh", "-c", "exec 3>> " + watchedLibrary);
    assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
    JsonNode e =
        await(
            "RUNTIME_DRIFT " + watchedLibrary + " opened for writing",
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == writer.pid()
                    && finding(ev).equals("MAPPED_FILE_WRITTEN"));
    String shell = Path.of("/bin/sh").toRealPath().toString();
    assertThat(reason(e))
        .isEqualTo(
            watchedLibrary + " opened for writing by " + shell + " while 1 process(es) map it");
    assertThat(e.path("details").path("file").asText()).isEqualTo(watchedLibrary.toString());
    assertThat(e.path("details").path("writerExe").asText()).isEqualTo(shell);
    assertThat(e.path("details").path("mappedBy").get(0).asLong()).isEqualTo(userPid);
    System.out.printf(
        "latency from starting the writer of a mapped library -> event %d ms%n",
        latencyMillis(opened, e));
  }

  /**
   * From {@code since} to the moment the event reached the agent's console (stamped by {@link
   * EventLines}), in milliseconds.
   */
  private static long latencyMillis(Instant since, JsonNode event) {
    return Duration.between(since, Instant.parse(event.path(EventLines.RECEIVED).asText()))
        .toMillis();
  }

  /**
   * From {@code since} to the last finding in {@code event} ({@code lastSeen}: when the agent made
   * it, before the incident's group window held it back), in milliseconds.
   */
  private static long foundMillis(Instant since, JsonNode event) {
    return Duration.between(since, Instant.parse(event.path("lastSeen").asText())).toMillis();
  }

  @Test
  void codePatchedThroughProcPidMemIsRuntimeDriftAtOnceAndReverifiedAtOnce() throws Exception {
    Patched p = patch("procmem", "proc-mem-victim", "proc-mem-writer");

    // The write itself, as the probe saw it complete: who, into whom, where (the open of
    // /proc/PID/mem and the write are one moment of one process: one event, or items of it).
    Predicate<JsonNode> write =
        f -> f.path("details").path("technique").asText().equals("PROC_PID_MEM_WRITE");
    JsonNode event =
        await(
            "RUNTIME_DRIFT proc pid mem write aimed at pid " + p.pid(),
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == p.pid()
                    && part(ev, write) != null);
    JsonNode written = part(event, write);
    // It leads its event, or is an item of it (the open leads); the changed code may be named
    // after it.
    assertThat(reason(written))
        .startsWith("proc pid mem write by " + p.actor() + " aimed at " + p.victim());
    assertThat(written.path("details").path("address").asText()).isEqualTo("0x" + p.address());
    assertThat(written.path("details").path("actorPid").asLong()).isEqualTo(p.actorPid());
    // Then the target, verified at once: the patched bytes with address, section and symbol, in
    // the write's incident.
    JsonNode code = awaitCodeModifiedInTheWritesIncident(p, event);
    System.out.printf(
        "latency from starting the /proc/PID/mem patcher -> write event reported %d ms, ->"
            + " CODE_MODIFIED reported %d ms (found %d ms, verified after %s)%n",
        latencyMillis(p.started(), event),
        latencyMillis(p.started(), code),
        foundMillis(p.started(), code),
        part(code, Checks.CODE_MODIFIED).path("details").path("verifiedAfter").asText());
  }

  @Test
  void codePatchedThroughProcessVmWritevIsRuntimeDriftAtOnceAndReverifiedAtOnce() throws Exception {
    // process_vm_writev cannot write into read-only pages: the target made its code writable
    // first, as self-patching code does (against read-only code the call fails with EFAULT, and
    // the attempt is still reported: the probe sees it at syscall entry).
    Patched p = patch(writablePatchable, "vmwritev", "vm-writev-victim", "vm-writev-writer");

    Predicate<JsonNode> write =
        f -> f.path("details").path("technique").asText().equals("PROCESS_VM_WRITEV");
    JsonNode event =
        await(
            "RUNTIME_DRIFT process_vm_writev aimed at pid " + p.pid(),
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == p.pid()
                    && part(ev, write) != null);
    JsonNode written = part(event, write);
    // The write leads its event; the changed code, when found in time, is named after it.
    assertThat(reason(written))
        .startsWith("process vm writev by " + p.actor() + " aimed at " + p.victim());
    assertThat(written.path("details").path("actorPid").asLong()).isEqualTo(p.actorPid());
    assertThat(written.path("details").path("address").isMissingNode())
        .as("the syscall's pointer is the writer's iovec array, not an address in the target")
        .isTrue();
    // Then the target, verified at once: the patched bytes with address, section and symbol.
    JsonNode code = awaitCodeModifiedInTheWritesIncident(p, event);
    System.out.printf(
        "latency from starting the process_vm_writev patcher -> write event reported %d ms, ->"
            + " CODE_MODIFIED reported %d ms (found %d ms, verified after %s)%n",
        latencyMillis(p.started(), event),
        latencyMillis(p.started(), code),
        foundMillis(p.started(), code),
        part(code, Checks.CODE_MODIFIED).path("details").path("verifiedAfter").asText());
  }

  /** Predicates on an event or one of its items. */
  private static final class Checks {
    static final Predicate<JsonNode> CODE_MODIFIED = f -> finding(f).equals("CODE_MODIFIED");
  }

  /**
   * The report of the patch {@code p} made, found by the verification that the write ({@code
   * writeEvent}, a live injection event) triggered: in the same incident, either an item of its
   * first event or an UPDATED report. Not from re-attestation.
   */
  private static JsonNode awaitCodeModifiedInTheWritesIncident(Patched p, JsonNode writeEvent)
      throws Exception {
    String incident = writeEvent.path("incident").path("id").asText();
    assertThat(incident).as("the write's incident").isNotEmpty();
    JsonNode e =
        await(
            "CODE_MODIFIED in incident " + incident + " of pid " + p.pid(),
            // In the write's incident: the first re-attestation of the new process can race the
            // write's own verification and report the patch in an incident of its own (seen once
            // in a full run; left to the incident book, see the closing note of issue 15).
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == p.pid()
                    && ev.path("incident").path("id").asText().equals(incident)
                    && part(ev, Checks.CODE_MODIFIED) != null);
    assertThat(e.path("incident").path("state").asText()).isIn("OPENED", "UPDATED");
    JsonNode item = part(e, Checks.CODE_MODIFIED);
    assertThat(item.path("details").path("check").isMissingNode())
        .as("found by the verification the write triggered, not by re-attestation")
        .isTrue();
    assertThat(item.path("details").path("verifiedAfter").asText())
        .isIn("PROC_PID_MEM_WRITE", "PTRACE_POKETEXT", "PTRACE_POKEDATA", "PROCESS_VM_WRITEV");
    assertCodeModified(e, p);
    return e;
  }

  /**
   * A running copy of the patchable program, and the patcher's copy that wrote int3s into its code,
   * started at {@code started}.
   */
  private record Patched(
      Process target, Path victim, Path actor, long actorPid, String address, Instant started) {
    int pid() {
      return (int) target.pid();
    }
  }

  private Patched patch(String mode, String victimName, String actorName) throws Exception {
    return patch(patchable, mode, victimName, actorName);
  }

  private Patched patch(Path program, String mode, String victimName, String actorName)
      throws Exception {
    Path victim = copyOf(program, tmpDir.resolve(victimName));
    Path actor = copyOf(patcher, tmpDir.resolve(actorName));
    Process target = start(Map.of(), victim.toString());
    String address = readyFields(target)[2];
    Instant started = Instant.now();
    Process patching =
        start(Map.of(), actor.toString(), mode, Long.toString(target.pid()), address);
    assertThat(patching.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(patching.exitValue()).as(mode + " patch succeeded").isZero();
    return new Patched(target, victim, actor, patching.pid(), address, started);
  }

  /**
   * {@code e} reports the patch {@code p} made: as the event itself or as one of its items, with
   * the first differing address, section and symbol, and the file itself intact.
   */
  private static void assertCodeModified(JsonNode e, Patched p) throws Exception {
    JsonNode item = part(e, Checks.CODE_MODIFIED);
    assertThat(item).as("CODE_MODIFIED in " + describe(e)).isNotNull();
    // The verification the write triggers may run before the patcher detached: it then names the
    // tracer as well, with its command name when it can be read (seen in CI on 2026-12-04 and
    // 2026-12-06).
    assertThat(reason(item))
        .matches(
            Pattern.quote("running process " + p.victim() + ": MEMORY_CODE failed: ")
                + "(tracer \\d+( \\([^)]*\\))? is attached \\(TracerPid\\)[^;]*; )?"
                + Pattern.quote(
                    "1 mapping(s) modified in memory; first: code at 0x"
                        + p.address()
                        + " (.text patch_target) in "
                        + p.victim()
                        + " differs from file offset 0x")
                + ".*");
    JsonNode f = null;
    for (JsonNode candidate : e.path("findings")) {
      if (candidate.path("type").asText().equals("CODE_MODIFIED")) {
        f = candidate;
        break;
      }
    }
    assertThat(f).as("the CODE_MODIFIED finding of " + describe(e)).isNotNull();
    assertThat(f.path("detail").path("symbol").asText()).isEqualTo("patch_target");
    assertThat(f.path("detail").path("memoryByte").asText()).isEqualTo("0xcc");
    String sha = item == e ? e.path("exe").path("sha256").asText() : item.path("sha256").asText();
    assertThat(sha).as("the file itself is intact and trusted").isEqualTo(sha256(p.victim()));
  }

  @Test
  void patchedProcessIsOneIncidentListedByStateAndResolvedWhenKilled() throws Exception {
    Patched p = patch(incidentPatchable, "procmem", "incident-victim", "incident-writer");
    // The open of /proc/PID/mem and the write open the incident (one event; on a loaded host the
    // write may follow as an UPDATED report of it); the code it changed, found by the
    // verification the write triggered, is part of it (in that event or an UPDATED report).
    Predicate<JsonNode> write =
        f -> f.path("details").path("technique").asText().equals("PROC_PID_MEM_WRITE");
    JsonNode written =
        await(
            "the incident of the /proc/PID/mem write into pid " + p.pid(),
            ev ->
                is(ev, "RUNTIME_DRIFT")
                    && ev.path("pid").asLong() == p.pid()
                    && part(ev, write) != null);
    assertThat(written.path("incident").path("state").asText()).isIn("OPENED", "UPDATED");
    String id = written.path("incident").path("id").asText();
    JsonNode opened =
        await(
            "the opening of incident " + id,
            ev ->
                ev.path("id").asText().equals(id)
                    && ev.path("incident").path("state").asText().equals("OPENED"));
    assertThat(opened.path("pid").asLong()).isEqualTo(p.pid());
    awaitCodeModifiedInTheWritesIncident(p, written);

    // Re-attestation runs every second here: it finds the patch again and again, and counts it in
    // the incident silently. (A report gathers the passes of a few seconds; wait for passes after
    // this one, then for their group window.)
    awaitAttestedAgain(p.pid(), Instant.now().plusSeconds(2));
    settle();
    assertThat(events.all())
        .as("events about the patched pid " + p.pid() + " that report the changed code")
        .filteredOn(ev -> ev.path("pid").asLong() == p.pid())
        .filteredOn(ev -> part(ev, Checks.CODE_MODIFIED) != null)
        .hasSize(1);
    assertThat(events.all())
        .as("events about the patched pid " + p.pid() + " from re-attestation")
        .filteredOn(ev -> ev.path("pid").asLong() == p.pid())
        .filteredOn(ev -> ev.path("details").path("check").asText().equals("re-attestation"))
        .isEmpty();
    JsonNode listed = null;
    for (JsonNode v : api.listRuntimeState().path("processes")) {
      if (v.path("pid").asInt() == p.pid()) {
        listed = v;
      }
    }
    assertThat(listed).as("pid " + p.pid() + " in the state").isNotNull();
    assertThat(listed.path("incidents"))
        .extracting(i -> i.path("id").asText())
        .as("open incidents of pid " + p.pid())
        .contains(id);

    p.target().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    JsonNode resolved =
        await(
            "the resolution of incident " + id,
            ev ->
                ev.path("incident").path("id").asText().equals(id)
                    && ev.path("incident").path("state").asText().equals("RESOLVED"));
    assertThat(resolved.path("incident").path("resolution").asText()).isEqualTo("process exited");
    assertThat(reason(resolved)).startsWith("resolved (process exited): ");
    assertThat(resolved.path("incident").path("occurrences").asLong())
        .as("found more than once (the write, then re-attestation), reported once: " + resolved)
        .isGreaterThan(1);
    assertThat(events.all())
        .as("events about the patched pid " + p.pid() + " in other incidents, kill included")
        .filteredOn(ev -> ev.path("pid").asLong() == p.pid())
        .filteredOn(ev -> !ev.path("incident").path("id").asText().equals(id))
        .isEmpty();
  }

  @Test
  void interpreterNotInTheReferencesImportingExtensionModulesIsOneEvent() throws Exception {
    Path system = Path.of("/usr/lib/python3.11");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/python3.11")) && Files.isDirectory(system),
        "Debian's python3.11 is not installed");
    // A Python outside the package database: a copy of the interpreter with its own copies of the
    // extension modules (as a pyenv or a vendored Python has), the pure-Python library shared.
    Path home = Files.createDirectories(tmpDir.resolve("python-home"));
    Path lib = Files.createDirectories(home.resolve("lib/python3.11"));
    try (Stream<Path> entries = Files.list(system)) {
      for (Path entry : entries.toList()) {
        if (!entry.getFileName().toString().equals("lib-dynload")) {
          Files.createSymbolicLink(lib.resolve(entry.getFileName().toString()), entry);
        }
      }
    }
    List<String> modules =
        List.of(
            "_json",
            "_decimal",
            "_bz2",
            "_lzma",
            "_queue",
            "_uuid",
            "mmap",
            "_contextvars",
            "_ctypes",
            "_hashlib",
            "_zoneinfo",
            "_multibytecodec");
    Path dynload = Files.createDirectories(lib.resolve("lib-dynload"));
    for (String m : modules) {
      String so = m + ".cpython-311-x86_64-linux-gnu.so";
      copyOf(system.resolve("lib-dynload").resolve(so), dynload.resolve(so));
    }
    Path python =
        copyOf(
            Path.of("/usr/bin/python3.11"),
            Files.createDirectories(home.resolve("bin")).resolve("python3"));

    Process p =
        exited(
            start(
                Map.of("PYTHONHOME", home.toString()),
                python.toString(),
                "-S",
                "-c",
                "import " + String.join(", ", modules)));
    long pid = p.pid();
    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + python,
            ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == pid);
    settle();

    assertThat(events.all())
        .as("events about the interpreter's start, pid " + pid)
        .filteredOn(ev -> ev.path("pid").asLong() == pid)
        .hasSize(1);
    assertThat(exe(e)).isEqualTo(python.toString());
    assertThat(e.path("details").path("itemCount").asInt())
        .as("the interpreter and its %d extension modules", modules.size())
        .isEqualTo(1 + modules.size());
    assertThat(reason(e))
        .startsWith("exec of " + python + ": no trusted reference for sha256 ")
        .contains(
            "; and " + modules.size() + " more in this process (first 5 by path): " + dynload);
    assertThat(e.path("incident").path("resolution").asText())
        .as("it had ended by its first report")
        .isEqualTo("process exited");
  }

  @Test
  void unknownLibraryLoadedAtRunTimeIsUnknownExecutionAndThenDrift() throws Exception {
    Path program = copyOf(dlopener, tmpDir.resolve("dlopener-unknown"));
    Path lib = copyOf(preload, tmpDir.resolve("libdlopened.so"));
    Process p = start(Map.of(), program.toString(), lib.toString());
    awaitReady(p);
    int pid = (int) p.pid();

    JsonNode mapped =
        await(
            "UNKNOWN_EXECUTION mapping of " + lib,
            ev ->
                is(ev, "UNKNOWN_EXECUTION")
                    && ev.path("pid").asLong() == pid
                    && covers(ev, lib.toString()));
    assertThat(reason(about(mapped, lib.toString())))
        .startsWith(
            "executable mapping of " + lib + ": no trusted reference for sha256 " + sha256(lib));
    JsonNode drift =
        awaitReattested(
            "RUNTIME_DRIFT unexpected library",
            pid,
            ev -> is(ev, "RUNTIME_DRIFT") && finding(ev).equals("UNEXPECTED_LIBRARY"));
    assertThat(reason(drift))
        .isEqualTo(
            "running process "
                + program
                + ": MEMORY_MAP failed: 1 finding(s); first: library "
                + lib
                + " is outside the dependency closure of "
                + program
                + ": loaded at run time (dlopen)");
  }

  @Test
  void verifiedLibraryLoadedAtRunTimeRaisesNothing() throws Exception {
    Path program = copyOf(dlopener, tmpDir.resolve("dlopener-trusted"));
    Process p = start(Map.of(), program.toString(), trustedPlugin.toString());
    awaitReady(p);
    int pid = (int) p.pid();

    JsonNode state = awaitAttested(pid, v -> true);
    assertThat(state.path("coverage").path("MEMORY_MAP").path("status").asText())
        .isEqualTo("VERIFIED");
    assertThat(state.path("findings"))
        .as("the plug-in is noted, not failed")
        .anySatisfy(
            f ->
                assertThat(f.path("reason").asText())
                    .startsWith("library " + trustedPlugin)
                    .endsWith(
                        "loaded at run time (dlopen); accepted by policy: the library itself is verified"));
    settle();
    assertThat(events.all())
        .as("events about pid " + pid + " or " + trustedPlugin)
        .noneMatch(ev -> ev.path("pid").asLong() == pid && !is(ev, "UNKNOWN_EXECUTION"))
        .noneMatch(ev -> covers(ev, trustedPlugin.toString()));
  }

  @Test
  void packageBinaryCopiedUnderAnotherNameIsUnknownExecution() throws Exception {
    Path masquerade = copyOf(Path.of("/usr/bin/true"), tmpDir.resolve("sshd"));
    Process p = exited(start(Map.of(), masquerade.toString()));

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + masquerade,
            ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == p.pid());
    // The package database vouches for /usr/bin/true at its own path, never for its bytes
    // elsewhere;
    // the event says what the unknown file is a copy of.
    assertThat(reason(e))
        .startsWith(
            "exec of "
                + masquerade
                + ": no trusted reference for sha256 "
                + sha256(Path.of("/usr/bin/true")))
        .matches(".*; a copy of package file (/usr)?/bin/true \\(coreutils\\)");
    assertThat(e.path("findings"))
        .extracting(f -> f.path("type").asText())
        .contains("PACKAGE_FILE_COPY");
  }

  @Test
  void referencedBinaryCopiedUnderAnotherNameIsVerifiedByItsContent() throws Exception {
    Path masquerade = copyOf(trustedSleeper, shmDir.resolve("sshd"));
    Process p = exited(start(Map.of(), masquerade.toString(), "once"));
    sentinel("masquerade");

    assertThat(events.all())
        .as("events about " + masquerade + ", pid " + p.pid())
        .noneMatch(ev -> ev.path("pid").asLong() == p.pid())
        .noneMatch(ev -> covers(ev, masquerade.toString()));
  }

  @Test
  void execFloodOfATrustedBinaryDoesNotHideOneUnknownExecution() throws Exception {
    Path unknown = copyOf(sleeper, tmpDir.resolve("unknown-during-flood"));
    Instant from = Instant.now();
    CompletableFuture<ExecDriver.Run> storm =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return flood.storm(3, 2);
              } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(1_000); // into the flood: real processes, real time
    Process p = exited(start(Map.of(), unknown.toString(), "once"));
    ExecDriver.Run run = storm.get(120, TimeUnit.SECONDS);
    // How many depends on the machine (thousands when it is quiet): a number for the log, not a
    // test.
    assertThat(run.succeeded()).as("execs in the flood").isPositive();

    JsonNode e =
        await(
            "UNKNOWN_EXECUTION of " + unknown + ", or a loss report covering it",
            ev ->
                (is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == p.pid())
                    || (is(ev, "VERIFICATION_DEGRADED")
                        && ev.path("details").has("lost")
                        && !Instant.parse(ev.path("details").path("window").path("to").asText())
                            .isBefore(from)));
    System.out.printf(
        "exec flood: %d execs of the trusted child; the unknown one was %s%n",
        run.succeeded(),
        is(e, "UNKNOWN_EXECUTION") ? "reported" : "covered by a loss report: " + reason(e));
    if (is(e, "UNKNOWN_EXECUTION")) {
      assertThat(reason(e)).startsWith("exec of " + unknown + ": no trusted reference");
    } else {
      assertThat(reason(e)).contains("events not fully handled");
      assertThat(e.path("details").path("lost").size()).isPositive();
    }
    assertThat(events.all())
        .as("the trusted flood itself")
        .noneMatch(ev -> covers(ev, flood.child.toString()));
  }

  @Test
  void ordinaryShellActivityRaisesNothing() throws Exception {
    Set<String> tools =
        Set.of(
            "/usr/bin/ls",
            "/usr/bin/cat",
            "/usr/bin/grep",
            "/usr/bin/sort",
            "/usr/bin/date",
            "/usr/bin/dash",
            "/bin/sh",
            "/usr/bin/sh");
    Path stop = tmpDir.resolve("stop-the-shell-loop");
    // Runs until told to stop (at most a minute), so that it is still running when re-attested.
    Process shell =
        start(
            Map.of(),
            "/bin/sh",
            "-c",
            "end=$(($(date +%s) + 60)); while [ ! -e "
                + stop
                + " ] && [ $(date +%s) -lt $end ]; do"
                + " ls -l /usr/bin | grep -c x | sort > /dev/null; cat /etc/hostname | sort > /dev/null; done");
    int pid = (int) shell.pid();
    JsonNode state = awaitAttested(pid, v -> true);
    assertThat(state.path("verdict").asText())
        .as("the shell, re-attested while it ran")
        .isEqualTo("VERIFIED");
    Thread.sleep(1_000); // a little more ordinary activity after the re-attestation
    Files.createFile(stop);
    exited(shell);
    settle();

    assertThat(events.all())
        .as("events about the shell loop")
        .noneMatch(ev -> ev.path("pid").asLong() == pid)
        .noneMatch(ev -> tools.contains(exe(ev)));
  }

  @Test
  void jvmWithABusyJitRaisesNothingWhenItsLauncherIsInTheJitAllowance() throws Exception {
    Path classes =
        Path.of(JitWorkload.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Process jvm =
        start(
            Map.of(),
            javaLauncher().toString(),
            "-cp",
            classes.toString(),
            JitWorkload.class.getName());
    awaitReady(jvm);
    int pid = (int) jvm.pid();

    JsonNode state = awaitAttested(pid, v -> true);
    assertThat(state.path("verdict").asText())
        .as(state.path("coverage").toString())
        .isEqualTo("VERIFIED");
    assertThat(state.path("coverage").path("MEMORY_MAP").path("reason").asText())
        .contains(
            "anonymous executable region(s) allowed by policy for sha256 "
                + sha256(javaLauncher()));
    settle();

    assertThat(events.all())
        .as("events about the JVM, pid " + pid)
        .noneMatch(ev -> ev.path("pid").asLong() == pid);
  }

  private Process start(Map<String, String> env, String... command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private static Process exited(Process p) throws InterruptedException {
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("scenario process finished").isTrue();
    assertThat(p.exitValue()).as("scenario process exit status").isZero();
    return p;
  }

  /** Waits for the program's "ready PID [...]" line, so its exec and set-up have happened. */
  private static void awaitReady(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    // "ready PID", or "ready PID ADDRESS" from the programs that also say where their code is
    assertThat(line).as("ready line of pid " + p.pid()).matches("ready " + p.pid() + "( .*)?");
  }

  /**
   * The first event {@code wanted} accepts, waiting at most {@link #WAIT}; fails listing what was
   * seen.
   */
  private static JsonNode await(String what, Predicate<JsonNode> wanted)
      throws InterruptedException {
    return await(what, WAIT, wanted);
  }

  /**
   * Like {@link #await}, for drift of {@code pid} found by re-attestation; on failure shows its
   * state.
   */
  private static JsonNode awaitReattested(String what, int pid, Predicate<JsonNode> wanted)
      throws Exception {
    try {
      return await(
          what + " in pid " + pid,
          REATTEST_WAIT,
          ev -> ev.path("pid").asLong() == pid && wanted.test(ev));
    } catch (AssertionError e) {
      JsonNode state = api.listRuntimeState().path("processes");
      String mine = "none";
      for (JsonNode v : state) {
        if (v.path("pid").asInt() == pid) {
          mine = v.path("checkedAt").asText() + " " + v.path("coverage");
        }
      }
      throw new AssertionError(
          "listed processes: "
              + state.size()
              + "; pid "
              + pid
              + " last checked: "
              + mine
              + "\n"
              + e.getMessage(),
          e);
    }
  }

  private static JsonNode await(String what, Duration wait, Predicate<JsonNode> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode e : events.all()) {
        if (wanted.test(e)) {
          return e;
        }
      }
      Thread.sleep(50); // waiting on real processes and the real kernel, not on a Reactor timer
    }
    List<JsonNode> seen = events.all();
    return fail(
        "no "
            + what
            + " within "
            + wait.toSeconds()
            + " s; "
            + seen.size()
            + " events seen:\n"
            + seen.stream().map(DetectionScenariosIT::describe).collect(Collectors.joining("\n")));
  }

  /** The fields of the program's "ready PID ..." line, after checking the pid. */
  private static String[] readyFields(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line).as("ready line of pid " + p.pid()).startsWith("ready " + p.pid() + " ");
    return line.split(" ");
  }

  /**
   * The agent's runtime state (ListRuntimeState over its control API) for {@code pid} once it holds
   * a verification with MEMORY_MAP that {@code wanted} accepts: the process has been re-attested.
   */
  private static JsonNode awaitAttested(int pid, Predicate<JsonNode> wanted) throws Exception {
    long deadline = System.nanoTime() + REATTEST_WAIT.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      for (JsonNode v : api.listRuntimeState().path("processes")) {
        if (v.path("pid").asInt() == pid && v.path("reattested").asBoolean()) {
          last = v;
          if (wanted.test(v)) {
            return v;
          }
        }
      }
      Thread.sleep(100); // the agent's re-attestation runs on real time
    }
    return fail(
        "pid "
            + pid
            + " not re-attested as wanted within "
            + REATTEST_WAIT.toSeconds()
            + " s; last state: "
            + last);
  }

  /** Waits until {@code pid} has been re-attested after {@code after}. */
  private static void awaitAttestedAgain(int pid, Instant after) throws Exception {
    awaitAttested(pid, v -> Instant.parse(v.path("checkedAt").asText()).isAfter(after));
  }

  /**
   * Gives events already decided time to reach the console: verification runs on two lanes and
   * re-attestation on its own worker, so a neighbour's event may trail the one a test waited for.
   */
  private static void settle() throws InterruptedException {
    Thread.sleep(1_500);
  }

  /**
   * Runs an unknown program once and waits for its event: everything exec'd before it has been
   * verified.
   */
  private void sentinel(String name) throws Exception {
    Path sentinel = copyOf(sleeper, tmpDir.resolve(name + "-sentinel"));
    exited(start(Map.of(), sentinel.toString(), "once"));
    await(
        "UNKNOWN_EXECUTION of the sentinel",
        ev -> is(ev, "UNKNOWN_EXECUTION") && covers(ev, sentinel.toString()));
    settle();
  }

  /**
   * Overwrites {@code marker} in {@code file} with {@code replacement} (same length) without
   * truncating.
   */
  private static void rewriteMarker(Path file, String marker, String replacement)
      throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    byte[] want = marker.getBytes(StandardCharsets.US_ASCII);
    byte[] with = replacement.getBytes(StandardCharsets.US_ASCII);
    assertThat(with).hasSameSizeAs(want);
    int at = indexOf(bytes, want);
    assertThat(at).as("marker in " + file).isNotNegative();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(with), at);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static long inode(Path p) throws IOException {
    return (Long) Files.getAttribute(p, "unix:ino");
  }

  private static String sha256(Path p) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  private static Path javaLauncher() throws IOException {
    return Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
  }

  private static String finding(JsonNode e) {
    return e.path("details").path("finding").asText();
  }

  private static String describe(JsonNode e) {
    return e.path("type").asText()
        + " pid="
        + e.path("pid").asText()
        + " exe="
        + exe(e)
        + " incident="
        + e.path("incident").path("state").asText("-")
        + "/"
        + e.path("incident").path("id").asText("-")
        + " id="
        + e.path("id").asText()
        + " check="
        + e.path("details").path("check").asText("live")
        + " reason="
        + reason(e);
  }

  private static boolean is(JsonNode e, String type) {
    return type.equals(e.path("type").asText());
  }

  private static String exe(JsonNode e) {
    return e.path("exe").path("path").asText();
  }

  /**
   * Whether {@code e} is about {@code path}: its executable, or one of the findings it groups
   * ({@code details.items}: findings about one process found together are one event).
   */
  private static boolean covers(JsonNode e, String path) {
    return covers(e, path::equals);
  }

  private static boolean covers(JsonNode e, Predicate<String> path) {
    if (path.test(exe(e))) {
      return true;
    }
    for (JsonNode item : e.path("details").path("items")) {
      if (path.test(item.path("path").asText())) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code e} if {@code wanted} accepts it, else the first of its grouped items that it accepts.
   */
  private static JsonNode part(JsonNode e, Predicate<JsonNode> wanted) {
    if (wanted.test(e)) {
      return e;
    }
    for (JsonNode item : e.path("details").path("items")) {
      if (wanted.test(item)) {
        return item;
      }
    }
    return null;
  }

  /** The finding of {@code e} about {@code path}: its grouped item (path, reason), else itself. */
  private static JsonNode about(JsonNode e, String path) {
    for (JsonNode item : e.path("details").path("items")) {
      if (item.path("path").asText().equals(path)) {
        return item;
      }
    }
    return e;
  }

  private static String reason(JsonNode e) {
    return e.path("reason").asText();
  }

  /** A distinct file per scenario, so each has its own path and inode in the agent's view. */
  private static Path copyOf(Path source, Path target) throws IOException {
    return Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
  }

  private static Path compile(Path dir, String source, String output, String... flags)
      throws Exception {
    return ScenarioPrograms.compile(dir, source, output, flags);
  }
}
