package dev.veriruntime.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An exec counter independent of VeriRuntime: {@code bpftrace} on {@code
 * tracepoint:sched:sched_process_exec}, counting every exec on the host and the execs of the
 * storm's children (by the prefix of their command name, {@code childXXXX-N}, where {@code XXXX} is
 * drawn per run, so that another harness running at the same time on the host is not counted as
 * this one's storm). Started before a measurement window (it returns once bpftrace's {@code BEGIN}
 * probe has run, i.e. after its probes are attached), stopped after it with SIGTERM, on which
 * bpftrace prints its maps. Not thread-safe.
 *
 * <p>bpftrace finds tracepoints through tracefs, which a fresh host does not mount and which the
 * harness must not mount for the whole host: bpftrace runs in a private mount namespace of its own
 * ({@code unshare -m --propagation private}) with tracefs mounted there only; the mount goes away
 * with the namespace when bpftrace exits.
 */
final class ExecOracle implements AutoCloseable {
  /**
   * A prefix for the command names of one run's children ({@code childXXXX-}, 10 characters: with
   * the index, well within the kernel's 15).
   */
  static String childPrefix(java.util.Random random) {
    return String.format(java.util.Locale.ROOT, "child%04x-", random.nextInt(0x10000));
  }

  /** Counts every exec, and those whose command name starts with {@code childPrefix}. */
  static String program(String childPrefix) {
    return "BEGIN { printf(\"ready\\n\"); } tracepoint:sched:sched_process_exec { @all = count(); "
        + "if (strncmp(comm, \""
        + childPrefix
        + "\", "
        + childPrefix.length()
        + ") == 0) { @storm = count(); } }";
  }

  /**
   * The command that starts bpftrace in its own mount namespace: {@code sh} mounts tracefs there
   * unless it is already mounted, then execs bpftrace (same pid: SIGTERM reaches bpftrace).
   */
  static List<String> command(String childPrefix) {
    return List.of(
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing"
            + " || exit 3; exec bpftrace -f json -e \"$0\"",
        program(childPrefix));
  }

  /** How the report names the oracle. */
  static final String DESCRIPTION =
      "bpftrace, tracepoint:sched:sched_process_exec (in a private mount namespace with its own"
          + " tracefs; the host's mounts are not touched)";

  /** Execs counted in one window. */
  record Counts(long allExecs, long stormExecs) {}

  private final Process process;
  private final List<String> lines;
  private final Thread reader;

  private ExecOracle(Process process, List<String> lines, Thread reader) {
    this.process = process;
    this.lines = lines;
    this.reader = reader;
  }

  /**
   * Why the oracle cannot run here (no bpftrace on the PATH, or it fails to start), or empty when
   * it can. Checks by starting it once.
   */
  static Optional<String> unavailableReason(Path scratch, String childPrefix) {
    // close() kills it: nothing to count yet
    try (ExecOracle probe = start(scratch, childPrefix)) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }

  /**
   * Starts bpftrace and waits (at most 60 s) until its probes are attached; its stderr goes to
   * {@code stderrFile}.
   *
   * @throws IOException if bpftrace cannot be started or exits before it is ready (message: its
   *     stderr)
   */
  static ExecOracle start(Path stderrFile, String childPrefix)
      throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command(childPrefix)).redirectError(stderrFile.toFile()).start();
    } catch (IOException e) {
      throw new IOException("unshare not available: " + e.getMessage(), e);
    }
    CountDownLatch ready = new CountDownLatch(1);
    List<String> lines = new ArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  synchronized (lines) {
                    lines.add(line);
                  }
                  if (line.contains("\"ready")) {
                    ready.countDown();
                  }
                }
              } catch (IOException closed) {
                // the process has exited: its output ends here
              }
            },
            "bpftrace-stdout");
    reader.setDaemon(true);
    reader.start();
    ExecOracle oracle = new ExecOracle(p, lines, reader);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!ready.await(100, TimeUnit.MILLISECONDS)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        String err = Files.exists(stderrFile) ? Files.readString(stderrFile).strip() : "";
        throw new IOException(
            "bpftrace did not start (exit " + (p.isAlive() ? "none" : p.exitValue()) + "): " + err);
      }
    }
    return oracle;
  }

  /**
   * Stops bpftrace (SIGTERM) and returns its counts, or empty when it did not exit within 30 s (it
   * is then killed, and its maps are never printed): bpftrace has hung in its exit path here, and
   * one round without an oracle count must not cost the rest of a run.
   */
  Optional<Counts> stop() throws InterruptedException {
    // Not Process.destroy(): it also closes our end of bpftrace's stdout, and bpftrace then dies of
    // SIGPIPE while it prints its maps. The handle sends SIGTERM and leaves the pipes alone.
    process.toHandle().destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      return Optional.empty();
    }
    reader.join(5000);
    List<String> out;
    synchronized (lines) {
      out = List.copyOf(lines);
    }
    return Optional.of(parse(String.join("\n", out)));
  }

  /**
   * The {@code @all} and {@code @storm} counts of bpftrace's {@code -f json} output. A map that
   * never counted is not printed at all: it reads as 0.
   */
  static Counts parse(String output) {
    ObjectMapper mapper = new ObjectMapper();
    long all = 0;
    long storm = 0;
    for (String line : output.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n;
      try {
        n = mapper.readTree(line);
      } catch (IOException notJson) {
        continue;
      }
      if (!"map".equals(n.path("type").asText())) {
        continue;
      }
      JsonNode data = n.path("data");
      if (data.has("@all")) {
        all = data.get("@all").asLong();
      }
      if (data.has("@storm")) {
        storm = data.get("@storm").asLong();
      }
    }
    return new Counts(all, storm);
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
