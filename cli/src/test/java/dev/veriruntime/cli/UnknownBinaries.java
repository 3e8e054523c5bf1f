package dev.veriruntime.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A steady load of executions the agent has never seen: every exec is a new binary (a copy of a
 * system binary with a unique tail, so a new digest), run to its end, one every {@code period}.
 * Each exec is kept with its path and times, to compare what ran with what was recorded.
 */
final class UnknownBinaries implements AutoCloseable {
  /** One exec: which binary, when it started and ended. */
  record Exec(String path, Instant start, Instant end) {}

  private final Path dir;
  private final long periodMillis;
  private final List<Exec> execs = new CopyOnWriteArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean();
  private Thread thread;

  UnknownBinaries(Path dir, long periodMillis) {
    this.dir = dir;
    this.periodMillis = periodMillis;
  }

  /** Starts exec'ing copies of /usr/bin/true. */
  void start() {
    running.set(true);
    thread = new Thread(this::run, "unknown-binaries");
    thread.setDaemon(true);
    thread.start();
  }

  /** Stops after the current exec. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(10_000);
    }
  }

  /** What ran so far. */
  List<Exec> execs() {
    return List.copyOf(execs);
  }

  /** A new unknown copy of {@code template} named {@code name}, started with {@code args}. */
  Process startOne(Path template, String name, String... args) throws IOException {
    Path bin = copy(template, name);
    List<String> cmd = new ArrayList<>(List.of(bin.toString()));
    cmd.addAll(List.of(args));
    return start(new ProcessBuilder(cmd));
  }

  /**
   * Starts {@code pb}, again while exec says ETXTBSY: a binary written by this JVM is briefly open
   * for writing in a child another thread forked meanwhile (it holds the descriptor until its own
   * exec), and exec refuses a file open for writing.
   */
  static Process start(ProcessBuilder pb) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return pb.start();
      } catch (IOException e) {
        if (attempt >= 100 || !String.valueOf(e.getMessage()).contains("error=26")) {
          throw e;
        }
        try {
          TimeUnit.MILLISECONDS.sleep(10);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private void run() {
    try {
      Path template = Path.of("/usr/bin/true");
      for (int n = 0; running.get(); n++) {
        long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(periodMillis);
        Path bin = copy(template, "gen-" + n);
        Instant start = Instant.now();
        start(new ProcessBuilder(bin.toString())).waitFor();
        execs.add(new Exec(bin.toString(), start, Instant.now()));
        long left = next - System.nanoTime();
        if (left > 0) {
          TimeUnit.NANOSECONDS.sleep(left);
        }
      }
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private Path copy(Path template, String name) throws IOException {
    Path bin = dir.resolve(name);
    Files.copy(template, bin);
    Files.write(
        bin,
        ("\0veriruntime-test-" + name + "-" + System.nanoTime()).getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    bin.toFile().setExecutable(true);
    return bin;
  }
}
