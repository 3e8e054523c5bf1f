package dev.veriruntime.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The demo's scratch space: a private temporary directory (mode 0700) for the unknown files it
 * makes, and every process it starts. {@link #stopProcesses} kills the processes still running,
 * with their descendants, and waits for them; {@link #close} does that and deletes the directory.
 * Both are idempotent and may run from a shutdown hook while the demo thread is still using the
 * workspace; everything else is for one thread.
 */
final class DemoWorkspace implements AutoCloseable {
  private static final long EXIT_WAIT_SECONDS = 10;

  /**
   * A started process, the {@link System#nanoTime()} just before it was started, and where its
   * stderr goes.
   */
  record Started(Process process, long nanos, Path stderr) {
    long pid() {
      return process.pid();
    }
  }

  private final Path dir;
  private final List<Process> processes = new ArrayList<>();
  private int count;

  private DemoWorkspace(Path dir) {
    this.dir = dir;
  }

  /** A fresh directory under {@code java.io.tmpdir}. */
  static DemoWorkspace create() throws IOException {
    return new DemoWorkspace(
        Files.createTempDirectory(
            "veriruntime-demo",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
  }

  Path dir() {
    return dir;
  }

  /**
   * {@code source} copied to {@code name} with one byte appended: the same program, but bytes that
   * no package and no reference vouches for. Executable by its owner only.
   */
  Path unknownCopy(Path source, String name) throws IOException {
    Path copy = dir.resolve(name);
    Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
    Files.write(copy, new byte[] {0}, StandardOpenOption.APPEND);
    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwx------"));
    return copy;
  }

  /**
   * Starts {@code command} with {@code env} added; its output is discarded, its stderr kept for
   * {@link #run}.
   */
  synchronized Started start(Map<String, String> env, String... command) throws IOException {
    Path stderr = dir.resolve("stderr-" + ++count);
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(stderr.toFile());
    pb.environment().putAll(env);
    long nanos = System.nanoTime();
    Process p = pb.start();
    processes.add(p);
    return new Started(p, nanos, stderr);
  }

  /**
   * Starts {@code command} and waits for it to exit.
   *
   * @throws IOException if it cannot be started, does not exit in time, or exits with a non-zero
   *     status
   */
  Started run(Map<String, String> env, String... command) throws IOException, InterruptedException {
    Started s = start(env, command);
    if (!s.process().waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS)) {
      throw new IOException(command[0] + " did not exit within " + EXIT_WAIT_SECONDS + " s");
    }
    if (s.process().exitValue() != 0) {
      String err = Files.readString(s.stderr()).strip();
      throw new IOException(
          command[0]
              + " exited with status "
              + s.process().exitValue()
              + (err.isEmpty() ? "" : ": " + err));
    }
    return s;
  }

  /** Kills every process started here that still runs, descendants first, and waits for each. */
  synchronized void stopProcesses() {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    for (Process p : processes) {
      try {
        p.waitFor(EXIT_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    processes.clear();
  }

  @Override
  public synchronized void close() throws IOException {
    stopProcesses();
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
