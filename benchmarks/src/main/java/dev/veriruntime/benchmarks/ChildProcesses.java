package dev.veriruntime.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;

/**
 * Stops what a harness started when the harness itself ends early. A harness stopped by hand (^C,
 * SIGTERM) or by an exception used to leave its children running: an agent still attached, a driver
 * still exec'ing, a bpftrace exec counter that then counted every exec on the host through the next
 * run's rounds, on both sides of every ratio. The JVM does not stop a process's children when it
 * exits; a shutdown hook does. SIGKILL of the harness still leaves them (nothing runs then).
 *
 * <p>Usage, a harness's {@code main}: {@code System.exit(ChildProcesses.execute("exec-storm", new
 * ExecStorm(), args));}
 */
final class ChildProcesses {
  /** How long the children have after SIGTERM (an agent detaches its probe and flushes). */
  static final Duration GRACE = Duration.ofSeconds(10);

  /** Exit status of a harness stopped by a signal while it ran (as a shell reports SIGTERM). */
  static final int STOPPED = 143;

  private static final AtomicBoolean STOPPING = new AtomicBoolean();

  private ChildProcesses() {}

  /**
   * Runs the picocli {@code command} with {@code args} and returns its exit status. A shutdown hook
   * stops every descendant still alive at JVM exit ({@link #stop}); what then fails under the
   * harness (a driver it stopped, a lost agent) is said in one line, not as a stack trace.
   */
  static int execute(String name, Object command, String[] args) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  STOPPING.set(true);
                  stop(ProcessHandle.current(), GRACE);
                },
                "stop-children"));
    return new CommandLine(command)
        .setExecutionExceptionHandler(
            (e, cmd, parsed) -> {
              if (!STOPPING.get()) {
                throw e;
              }
              cmd.getErr().println(name + ": stopped while it ran (" + e.getMessage() + ")");
              return STOPPED;
            })
        .execute(args);
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
