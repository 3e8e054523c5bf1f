package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real {@code veriruntime watch} in its own JVM (the test's class path), for tests that kill,
 * freeze or starve it. Its {@code --json} console events are collected as they come; its stderr is
 * echoed with an {@code [agent]} prefix. {@code prefix} runs before the JVM ({@code unshare -m sh
 * -c ...}); whatever it is, it must end by exec'ing the JVM so that {@link #pid()} is the agent's.
 */
final class WatchProcess implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final CompletableFuture<Void> watching = new CompletableFuture<>();
  private final List<JsonNode> events = new ArrayList<>();
  private final StringBuilder err = new StringBuilder();

  private WatchProcess(Process process) {
    this.process = process;
    reader("agent-out", process.getInputStream(), this::onOut);
    reader("agent-err", process.getErrorStream(), this::onErr);
  }

  /** The command that runs {@code veriruntime watch ARGS} in a new JVM. */
  static List<String> command(List<String> watchArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(VeriRuntimeCommand.class.getName());
    cmd.add("watch");
    cmd.addAll(watchArgs);
    return cmd;
  }

  /** Starts {@code command} (usually {@link #command} behind a prefix). */
  static WatchProcess start(List<String> command) throws IOException {
    return new WatchProcess(new ProcessBuilder(command).start());
  }

  long pid() {
    return process.pid();
  }

  Process process() {
    return process;
  }

  /** Waits for "veriruntime: watching"; fails with the agent's stderr if it does not come. */
  void awaitWatching(Duration timeout) throws Exception {
    try {
      watching.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("agent not watching after " + timeout + "; stderr:\n" + stderr(), e);
    }
  }

  /** The console events so far. */
  synchronized List<JsonNode> events() {
    return List.copyOf(events);
  }

  synchronized String stderr() {
    return err.toString();
  }

  /** The first console event that matches, waiting up to {@code timeout}. */
  Optional<JsonNode> awaitEvent(Predicate<JsonNode> match, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (true) {
        Optional<JsonNode> hit = events.stream().filter(match).findFirst();
        long left = deadline - System.nanoTime();
        if (hit.isPresent() || left <= 0) {
          return hit;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  /** SIGKILL: no shutdown hook, no flush, no clean close. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("agent survived SIGKILL");
    }
  }

  /** SIGTERM and wait; returns the exit code. */
  int stop(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("agent did not stop within " + timeout + "; stderr:\n" + stderr());
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Signals the agent ({@code STOP}, {@code CONT}); asserts kill(1) succeeded. */
  void signal(String name) throws Exception {
    int rc = new ProcessBuilder("kill", "-" + name, Long.toString(pid())).start().waitFor();
    if (rc != 0) {
      throw new AssertionError("kill -" + name + " " + pid() + " failed: " + rc);
    }
  }

  /** After SIGSTOP: waits until every thread is stopped, so no write is half done. */
  void awaitAllThreadsStopped(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Path tasks = Path.of("/proc", Long.toString(pid()), "task");
    while (true) {
      boolean all = true;
      try (var s = Files.list(tasks)) {
        for (Path t : s.toList()) {
          String stat = Files.readString(t.resolve("stat"));
          char state = stat.charAt(stat.lastIndexOf(')') + 2);
          all &= state == 'T' || state == 't';
        }
      }
      if (all) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("agent threads still running after SIGSTOP");
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }

  private void onOut(String line) {
    if (!line.startsWith("{")) {
      return;
    }
    JsonNode e;
    try {
      e = JSON.readTree(line);
    } catch (IOException notJson) {
      return;
    }
    synchronized (this) {
      events.add(e);
      notifyAll();
    }
  }

  private void onErr(String line) {
    System.err.println("[agent " + process.pid() + "] " + line);
    synchronized (this) {
      err.append(line).append('\n');
    }
    if (line.startsWith("veriruntime: watching")) {
      watching.complete(null);
    }
  }

  private void reader(String name, InputStream in, java.util.function.Consumer<String> each) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  each.accept(line);
                }
              } catch (IOException closed) {
                // the agent was killed or closed: its output ends here
              } finally {
                watching.completeExceptionally(new IllegalStateException("agent output ended"));
              }
            },
            name);
    t.setDaemon(true);
    t.start();
  }
}
