package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
 * scenario's own freshly compiled files and process ids; nothing here has a trusted reference.
 */
class DetectionScenariosTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

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
  private static EventLines events;
  private static Daemon daemon;
  private static Thread runner;
  private static long startedNanos;

  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    startedNanos = System.nanoTime();
    // Explicit directories: the scenarios are about /tmp and /dev/shm themselves, not java.io.tmpdir.
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

    Policy policy = Policy.defaults();
    // Other work on this machine also raises events; the console budget must not drop ours.
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    policy.jitAllowance.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(allowedJit))));
    events = new EventLines();
    Path state = Files.createDirectories(work.resolve("state"));
    daemon = Daemon.start(new Daemon.Settings(policy, ReferenceStore.empty(), true, state, state, false, false),
        ProbeSettings.forCurrentProcess(), new PrintStream(events, true, StandardCharsets.UTF_8), System.err);
    runner = new Thread(() -> daemon.run(null), "scenarios-agent");
    runner.start();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    try {
      if (daemon != null) {
        daemon.stop();
        runner.join(Duration.ofSeconds(30).toMillis());
        daemon.close();
      }
    } finally {
      deleteTree(tmpDir);
      deleteTree(shmDir);
    }
    System.out.printf("detection scenarios: %d ms with one agent, %d events seen%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos), events == null ? 0 : events.all().size());
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

    JsonNode e = await("UNKNOWN_EXECUTION of " + copy, ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(copy.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("exec of " + copy + ": no trusted reference for sha256 ");
  }

  @Test
  void unknownBinaryRunFromDevShmIsUnknownExecution() throws Exception {
    Path copy = copyOf(sleeper, shmDir.resolve("unknown-in-shm"));
    Process p = exited(start(Map.of(), copy.toString(), "once"));

    JsonNode e = await("UNKNOWN_EXECUTION of " + copy, ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(copy.toString()));

    assertThat(exe(e)).startsWith("/dev/shm/");
    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("exec of " + copy + ": no trusted reference");
  }

  @Test
  void filelessExecutionFromMemfdIsRuntimeDriftAndItsContentUnknown() throws Exception {
    Path launcher = copyOf(memfdExec, tmpDir.resolve("memfd-launcher"));
    Path payload = copyOf(sleeper, tmpDir.resolve("memfd-payload"));
    Process p = start(Map.of(), launcher.toString(), payload.toString());
    awaitReady(p);
    long pid = p.pid();

    JsonNode drift = await("RUNTIME_DRIFT fileless execution in pid " + pid,
        ev -> is(ev, "RUNTIME_DRIFT") && ev.path("pid").asLong() == pid && reason(ev).contains("fileless execution"));
    JsonNode unknown = await("UNKNOWN_EXECUTION of the memfd in pid " + pid,
        ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == pid && exe(ev).contains("memfd:veriruntime-scenario"));

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

    JsonNode drift = await("RUNTIME_DRIFT deleted file in pid " + pid,
        ev -> is(ev, "RUNTIME_DRIFT") && ev.path("pid").asLong() == pid && reason(ev).contains("deleted file"));
    JsonNode unknown = await("UNKNOWN_EXECUTION of the deleted payload in pid " + pid,
        ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == pid && exe(ev).equals(payload.toString()));

    assertThat(reason(drift)).isEqualTo("executed a deleted file " + payload + " (unlinked while in use)");
    assertThat(drift.path("details").path("finding").asText()).isEqualTo("BINARY_DELETED");
    assertThat(reason(unknown)).startsWith("exec of " + payload + ": no trusted reference");
  }

  @Test
  void binaryStartedThroughTheDynamicLoaderIsAnUnknownExecutableMapping() throws Exception {
    Path copy = copyOf(sleeper, tmpDir.resolve("through-ld-so"));
    Process p = exited(start(Map.of(), "/lib64/ld-linux-x86-64.so.2", copy.toString(), "once"));

    JsonNode e = await("UNKNOWN_EXECUTION mapping of " + copy,
        ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(copy.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("executable mapping of " + copy + ": no trusted reference");
  }

  @Test
  void libraryInjectedWithLdPreloadIsAnUnknownExecutableMapping() throws Exception {
    Path lib = copyOf(preload, tmpDir.resolve("libinjected.so"));
    Process p = exited(start(Map.of("LD_PRELOAD", lib.toString()), "/usr/bin/true"));

    JsonNode e = await("UNKNOWN_EXECUTION mapping of " + lib, ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(lib.toString()));

    assertThat(e.path("pid").asLong()).isEqualTo(p.pid());
    assertThat(reason(e)).startsWith("executable mapping of " + lib + ": no trusted reference");
  }

  @Test
  void anonymousWritableExecutableCodeIsRuntimeDrift() throws Exception {
    Path copy = copyOf(rwx, tmpDir.resolve("rwx-loader"));
    Process p = start(Map.of(), copy.toString());
    awaitReady(p);
    long pid = p.pid();

    JsonNode e = await("RUNTIME_DRIFT anonymous memory in pid " + pid,
        ev -> is(ev, "RUNTIME_DRIFT") && ev.path("pid").asLong() == pid && reason(ev).contains("anonymous writable+executable memory"));

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
    await("UNKNOWN_EXECUTION of " + copy, ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(copy.toString()));
    Thread.sleep(500); // the mmap event travels apart from the exec's verification: give it time to show

    assertThat(events.all()).as("events about the allowed JIT, pid " + pid)
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

    JsonNode e = await("RUNTIME_DRIFT ptrace aimed at pid " + victim.pid(),
        ev -> is(ev, "RUNTIME_DRIFT") && ev.path("pid").asLong() == victim.pid() && reason(ev).contains("ptrace"));

    assertThat(reason(e)).startsWith("ptrace attach by " + attacher + " aimed at " + target);
    assertThat(e.path("details").path("technique").asText()).isEqualTo("PTRACE_ATTACH");
    assertThat(e.path("details").path("actorPid").asLong()).isEqualTo(actor.pid());
    assertThat(victim.isAlive()).as("detection never blocks: the target keeps running").isTrue();
  }

  @Test
  void symlinkToUnknownBinaryIsReportedUnderTheRealFile() throws Exception {
    Path real = copyOf(sleeper, tmpDir.resolve("symlink-target"));
    Path link = Files.createSymbolicLink(tmpDir.resolve("innocent-looking-link"), real);
    Process p = exited(start(Map.of(), link.toString(), "once"));

    JsonNode e = await("UNKNOWN_EXECUTION of " + real, ev -> is(ev, "UNKNOWN_EXECUTION") && ev.path("pid").asLong() == p.pid());

    assertThat(exe(e)).isEqualTo(real.toString());
    assertThat(reason(e)).startsWith("exec of " + real + ": no trusted reference");
    assertThat(events.all()).noneMatch(ev -> exe(ev).equals(link.toString()));
  }

  @Test
  void packageOwnedCommandsRaiseNothing() throws Exception {
    Set<String> benign = Set.of("/usr/bin/ls", "/usr/bin/sha256sum", "/bin/sh", "/usr/bin/dash", "/usr/bin/true");
    List<Long> pids = new ArrayList<>();
    pids.add(exited(start(Map.of(), "/usr/bin/ls", "-l", tmpDir.toString())).pid());
    pids.add(exited(start(Map.of(), "/usr/bin/sha256sum", sleeper.toString())).pid());
    pids.add(exited(start(Map.of(), "/bin/sh", "-c", "true")).pid());
    // A sentinel started after them: once its event is out, theirs would have been too.
    Path sentinel = copyOf(sleeper, tmpDir.resolve("benign-sentinel"));
    exited(start(Map.of(), sentinel.toString(), "once"));
    await("UNKNOWN_EXECUTION of the sentinel", ev -> is(ev, "UNKNOWN_EXECUTION") && exe(ev).equals(sentinel.toString()));
    Thread.sleep(500); // verification runs on two lanes: give a slower neighbour the same chance

    assertThat(events.all()).as("events about ls, sha256sum or sh")
        .noneMatch(ev -> benign.contains(exe(ev)))
        .noneMatch(ev -> pids.contains(ev.path("pid").asLong()));
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

  /** Waits for the program's "ready PID" line, so its exec and set-up have happened. */
  private static void awaitReady(Process p) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line).as("ready line of pid " + p.pid()).isEqualTo("ready " + p.pid());
  }

  /** The first event {@code wanted} accepts, waiting at most {@link #WAIT}; fails listing what was seen. */
  private static JsonNode await(String what, Predicate<JsonNode> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode e : events.all()) {
        if (wanted.test(e)) {
          return e;
        }
      }
      Thread.sleep(50); // waiting on real processes and the real kernel, not on a Reactor timer
    }
    List<JsonNode> seen = events.all();
    return fail("no " + what + " within " + WAIT.toSeconds() + " s; " + seen.size() + " events seen:\n"
        + seen.stream().map(DetectionScenariosTest::describe).collect(Collectors.joining("\n")));
  }

  private static String describe(JsonNode e) {
    return e.path("type").asText() + " pid=" + e.path("pid").asText() + " exe=" + exe(e) + " reason=" + reason(e);
  }

  private static boolean is(JsonNode e, String type) {
    return type.equals(e.path("type").asText());
  }

  private static String exe(JsonNode e) {
    return e.path("exe").path("path").asText();
  }

  private static String reason(JsonNode e) {
    return e.path("reason").asText();
  }

  /** A distinct file per scenario, so each has its own path and inode in the agent's view. */
  private static Path copyOf(Path source, Path target) throws IOException {
    return Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
  }

  private static Path compile(Path dir, String source, String output, String... flags) throws Exception {
    Path src = dir.resolve(source + ".c");
    try (InputStream in = DetectionScenariosTest.class.getResourceAsStream("/scenarios/" + source + ".c")) {
      assertThat(in).as("test resource /scenarios/" + source + ".c").isNotNull();
      Files.copy(in, src, StandardCopyOption.REPLACE_EXISTING);
    }
    Path out = dir.resolve(output);
    List<String> cmd = new ArrayList<>(List.of("gcc", "-O1", "-o", out.toString()));
    cmd.addAll(List.of(flags));
    cmd.add(src.toString());
    Process gcc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(gcc.waitFor()).as("gcc " + source + ".c: " + log).isZero();
    return out;
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
