package dev.veriruntime.cli;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One harmless scenario of {@code veriruntime demo}: what it does in one line, the alert it should
 * raise (or that it should raise none), and how to start it. {@link #standard} builds the four the
 * demo runs, in order; each finds the tools it needs when built and says why it cannot run when one
 * is missing.
 *
 * @param name stable identifier, for {@code --json}
 * @param unavailable why it cannot run on this host; null when it can
 */
record DemoScenario(
    String name,
    String title,
    String action,
    String expected,
    String unavailable,
    Launcher launcher) {

  /** Starts the scenario's processes in the workspace and says what to wait for. */
  @FunctionalInterface
  interface Launcher {
    Launch launch() throws IOException, InterruptedException;
  }

  /**
   * A started scenario.
   *
   * @param pids the scenario's own processes: every alert about them is shown
   * @param startedNanos when the first of them was started, for latencies
   * @param awaited the expected alert; for a {@code silent} scenario, the alert of a marker process
   *     started after the others, once which theirs would have arrived too
   * @param silent whether any alert about {@code pids} is a failure
   */
  record Launch(
      Set<Long> pids, long startedNanos, Predicate<SecurityEvent> awaited, boolean silent) {}

  static final Path TRUE = Path.of("/usr/bin/true");
  static final Path SLEEP = Path.of("/usr/bin/sleep");
  static final Path PACKAGE_DATABASE = Path.of("/var/lib/dpkg/info");
  private static final String MEMFD_NAME = "veriruntime-demo";
  private static final Pattern LIBC = Pattern.compile("libc(\\.so\\.6|-[0-9.]+\\.so)");

  /** Copies argv[1] into a memfd and runs it from there with argv[1..]. */
  private static final String PYTHON_MEMFD =
      String.join(
          "\n",
          "import os, sys",
          "fd = os.memfd_create('" + MEMFD_NAME + "')",
          "with open(sys.argv[1], 'rb') as src, open(fd, 'wb', closefd=False) as dst:",
          "    dst.write(src.read())",
          "os.execve(fd, sys.argv[1:], dict(os.environ))");

  /** The demo's scenarios, in the order they run. */
  static List<DemoScenario> standard(DemoWorkspace ws) {
    return List.of(
        trustedBinary(ws), unknownBinary(ws), filelessExecution(ws), preloadedLibrary(ws));
  }

  static DemoScenario trustedBinary(DemoWorkspace ws) {
    String unavailable =
        Files.isDirectory(PACKAGE_DATABASE)
            ? null
            : "no Debian package database ("
                + PACKAGE_DATABASE
                + "): under the embedded default nothing vouches for "
                + TRUE;
    return new DemoScenario(
        "trusted-binary",
        "trusted system binary",
        "runs "
            + TRUE
            + ", whose bytes the Debian package database vouches for, then an unknown marker binary",
        "no alert",
        unavailable,
        () -> {
          DemoWorkspace.Started trusted = ws.run(Map.of(), TRUE.toString());
          // Verification is parallel, not ordered: once the marker's alert is out, one about
          // /usr/bin/true would have had the same time to come out.
          Path marker = ws.unknownCopy(TRUE, "marker");
          DemoWorkspace.Started m = ws.run(Map.of(), marker.toString());
          return new Launch(
              Set.of(trusted.pid()),
              trusted.nanos(),
              alert(EventType.UNKNOWN_EXECUTION, m.pid(), marker),
              true);
        });
  }

  static DemoScenario unknownBinary(DemoWorkspace ws) {
    Path copy = ws.dir().resolve("unknown-true");
    return new DemoScenario(
        "unknown-binary",
        "unknown binary",
        "copies " + TRUE + " to " + copy + " with one byte appended, and runs it",
        "UNKNOWN_EXECUTION",
        null,
        () -> {
          ws.unknownCopy(TRUE, copy.getFileName().toString());
          DemoWorkspace.Started s = ws.run(Map.of(), copy.toString());
          return new Launch(
              Set.of(s.pid()), s.nanos(), alert(EventType.UNKNOWN_EXECUTION, s.pid(), copy), false);
        });
  }

  /** With python3 if there is one (nothing to compile), else with a helper compiled by gcc. */
  static DemoScenario filelessExecution(DemoWorkspace ws) {
    // The distribution's interpreter first: package-owned, it raises no alert of its own, which a
    // python3 earlier on PATH (a pyenv shim, a private build) would.
    Optional<Path> python =
        Optional.of(Path.of("/usr/bin/python3"))
            .filter(Files::isExecutable)
            .or(() -> onPath("python3"));
    Optional<Path> gcc = onPath("gcc");
    String how = python.map(p -> "python3 (" + p + ")").orElse("a helper compiled with gcc");
    String unavailable =
        python.isEmpty() && gcc.isEmpty()
            ? "needs python3 or gcc to call memfd_create, and neither is on PATH"
            : null;
    return new DemoScenario(
        "fileless-memfd",
        "fileless execution",
        "with " + how + ", copies " + SLEEP + " into an anonymous memfd and executes it from there",
        "RUNTIME_DRIFT MEMFD_EXECUTION",
        unavailable,
        () -> {
          String[] command =
              python.isPresent()
                  ? new String[] {
                    python.get().toString(), "-c", PYTHON_MEMFD, SLEEP.toString(), "5"
                  }
                  : new String[] {
                    compileMemfdHelper(ws, gcc.orElseThrow()).toString(),
                    MEMFD_NAME,
                    SLEEP.toString(),
                    "5"
                  };
          DemoWorkspace.Started s = ws.start(Map.of(), command);
          return new Launch(
              Set.of(s.pid()),
              s.nanos(),
              e ->
                  e.type() == EventType.RUNTIME_DRIFT
                      && pid(e) == s.pid()
                      && "MEMFD_EXECUTION".equals(e.details().get("finding")),
              false);
        });
  }

  /** A copy of this host's C library (one byte appended) stands in for an injected library. */
  static DemoScenario preloadedLibrary(DemoWorkspace ws) {
    Optional<Path> libc = libcOfThisProcess();
    Path lib = ws.dir().resolve("libdemo-preload.so");
    String unavailable = libc.isEmpty() ? "no C library found in /proc/self/maps to copy" : null;
    return new DemoScenario(
        "ld-preload",
        "LD_PRELOAD library",
        "runs "
            + TRUE
            + " with LD_PRELOAD="
            + lib
            + ", a copy of the C library with one byte appended",
        "UNKNOWN_EXECUTION (mapping)",
        unavailable,
        () -> {
          ws.unknownCopy(libc.orElseThrow(), lib.getFileName().toString());
          DemoWorkspace.Started s = ws.run(Map.of("LD_PRELOAD", lib.toString()), TRUE.toString());
          return new Launch(
              Set.of(s.pid()), s.nanos(), alert(EventType.UNKNOWN_EXECUTION, s.pid(), lib), false);
        });
  }

  private static Predicate<SecurityEvent> alert(EventType type, long pid, Path path) {
    return e ->
        e.type() == type
            && pid(e) == pid
            && e.exe() != null
            && path.toString().equals(e.exe().path());
  }

  static long pid(SecurityEvent e) {
    return e.pid() == null ? -1 : e.pid();
  }

  private static Path compileMemfdHelper(DemoWorkspace ws, Path gcc)
      throws IOException, InterruptedException {
    Path source = ws.dir().resolve("memfd_exec.c");
    try (InputStream in = DemoScenario.class.getResourceAsStream("/demo/memfd_exec.c")) {
      Files.copy(Objects.requireNonNull(in, "resource /demo/memfd_exec.c"), source);
    }
    Path helper = ws.dir().resolve("memfd-exec");
    ws.run(Map.of(), gcc.toString(), "-O1", "-o", helper.toString(), source.toString());
    return helper;
  }

  private static Optional<Path> onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    return Stream.of(path.split(File.pathSeparator))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, program))
        .filter(Files::isExecutable)
        .findFirst();
  }

  /** The C library this JVM runs on: every process on the host can load it. */
  private static Optional<Path> libcOfThisProcess() {
    try (Stream<String> maps = Files.lines(Path.of("/proc/self/maps"))) {
      return maps.filter(l -> l.indexOf('/') >= 0)
          .map(l -> Path.of(l.substring(l.indexOf('/'))))
          .filter(p -> LIBC.matcher(p.getFileName().toString()).matches() && Files.isReadable(p))
          .findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }
}
