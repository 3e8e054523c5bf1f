package dev.veriruntime.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@code watch} agent in a child process for the flood harnesses: {@code command} (the launcher,
 * or a JVM with the CLI's class path) plus {@code watch --json --metrics-port P --state-dir D
 * --socket S} under a work directory; its stdout (the events) goes to {@code agent.jsonl}, its
 * stderr to {@code agent.err}. {@link #start} returns once it printed {@code veriruntime:
 * watching}; {@link #close} sends SIGTERM and waits.
 */
final class AgentProcess implements AutoCloseable {
  static final String WATCHING = "veriruntime: watching";

  final Process process;
  final int metricsPort;
  final Path socket;
  final Path stdout;
  final Path stderr;

  private AgentProcess(Process process, int metricsPort, Path socket, Path stdout, Path stderr) {
    this.process = process;
    this.metricsPort = metricsPort;
    this.socket = socket;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  static AgentProcess start(List<String> launcher, Path dir)
      throws IOException, InterruptedException {
    int port = 20_000 + (int) ((ProcessHandle.current().pid() * 7 + System.nanoTime()) % 20_000);
    Path state = Files.createDirectories(dir.resolve("state"));
    Path socket = dir.resolve("api.sock");
    List<String> command = new ArrayList<>(launcher);
    command.addAll(
        List.of(
            "watch",
            "--json",
            "--metrics-port",
            Integer.toString(port),
            "--state-dir",
            state.toString(),
            "--socket",
            socket.toString()));
    Path stdout = dir.resolve("agent.jsonl");
    Path stderr = dir.resolve("agent.err");
    System.err.println("agent: " + String.join(" ", command));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(stdout.toFile());
    // What bin/veriruntime sets for watch, for an agent started without the launcher.
    pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
    AgentProcess agent = new AgentProcess(pb.start(), port, socket, stdout, stderr);
    agent.awaitLine(WATCHING);
    return agent;
  }

  long pid() {
    return process.pid();
  }

  /**
   * Copies stderr to {@link #stderr} for as long as the agent runs (so its pipe never fills);
   * returns once a line contains {@code ready}.
   */
  private void awaitLine(String ready) throws InterruptedException, IOException {
    CountDownLatch seen = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
                  PrintWriter copy = new PrintWriter(Files.newBufferedWriter(stderr))) {
                String line;
                while ((line = in.readLine()) != null) {
                  copy.println(line);
                  copy.flush();
                  if (line.contains(ready)) {
                    seen.countDown();
                  }
                }
              } catch (IOException closed) {
                // the process exited
              }
            },
            "agent-stderr");
    reader.setDaemon(true);
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    while (!seen.await(200, TimeUnit.MILLISECONDS)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        process.destroyForcibly();
        reader.join(2000);
        throw new IllegalStateException(
            "the agent printed no '" + ready + "': " + Files.readString(stderr));
      }
    }
  }

  /** Waits (at most 30 s) until the agent uses at most 4 % of a core over half a second. */
  void awaitIdle() throws IOException, InterruptedException {
    long previous = ExecStorm.cpuTicks(pid());
    for (int i = 0; i < 60; i++) {
      Thread.sleep(500);
      long now = ExecStorm.cpuTicks(pid());
      if (now - previous <= 2) {
        return;
      }
      previous = now;
    }
  }

  long statusKiB(String field) throws IOException {
    return statusKiB(pid(), field);
  }

  static long statusKiB(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.substring(field.length()).strip().split("\\s+")[0]);
      }
    }
    throw new IOException("no " + field + " in /proc/" + pid + "/status");
  }

  /** Open file descriptors of the agent. */
  long fds() throws IOException {
    try (var s = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
      return s.count();
    }
  }

  /** SIGTERM (the agent detaches and flushes), then SIGKILL after 30 s. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
