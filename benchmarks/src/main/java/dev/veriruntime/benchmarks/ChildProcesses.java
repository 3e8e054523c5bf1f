package dev.veriruntime.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Stops what a harness started when the harness itself ends early. A harness stopped by hand (^C,
 * SIGTERM) or by an exception used to leave its children running: an agent still attached, a driver
 * still exec'ing, a bpftrace exec counter that then counted every exec on the host through the next
 * run's rounds, on both sides of every ratio. The JVM does not stop a process's children when it
 * exits; a shutdown hook does. SIGKILL of the harness still leaves them (nothing runs then).
 *
 * <p>Usage, first thing in a harness's {@code main}: {@code ChildProcesses.stopOnExit();}
 */
final class ChildProcesses {
  /** How long the children have after SIGTERM (an agent detaches its probe and flushes). */
  static final Duration GRACE = Duration.ofSeconds(10);

  private ChildProcesses() {}

  /** Installs the hook: at JVM exit, every descendant still alive is stopped ({@link #stop}). */
  static void stopOnExit() {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> stop(ProcessHandle.current(), GRACE), "stop-children"));
  }

  /**
   * Sends SIGTERM to every live descendant of {@code parent}, waits up to {@code grace} for them to
   * exit, then SIGKILLs those left. Returns how many were still alive when it began.
   */
  static int stop(ProcessHandle parent, Duration grace) {
    List<ProcessHandle> alive = parent.descendants().filter(ProcessHandle::isAlive).toList();
    alive.forEach(ProcessHandle::destroy);
    CompletableFuture<?>[] exits =
        alive.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(exits).get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Some ignored SIGTERM (bpftrace has hung in its exit path here): killed below.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    alive.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    return alive.size();
  }
}
