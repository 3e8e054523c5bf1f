package dev.veriruntime.agent;

import dev.veriruntime.ingest.kernel.ThreadPriority;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Work done once at start only so that the JIT compiles the code it goes through, its results
 * thrown away ({@link VerifierWarmUp}, {@link ProcessWarmUp}, {@link PipelineWarmUp}): on a daemon
 * thread of its own at the lowest priority (best effort: without it the work still ends), counted
 * in steps, stopped by {@link #close} after the step in progress.
 */
abstract class WarmUp implements AutoCloseable {
  private static final int LOWEST_PRIORITY = 19;

  private final AtomicLong done = new AtomicLong();
  private final Thread thread;
  private volatile boolean stopped;

  WarmUp(String threadName) {
    this.thread =
        new Thread(
            () -> {
              ThreadPriority.setNice(LOWEST_PRIORITY);
              work();
            },
            threadName);
    thread.setDaemon(true);
  }

  /** The work, on the warm-up's thread: calls {@link #stepDone} per step, ends once stopped. */
  abstract void work();

  /** One run of a warm-up that repeats the same work. */
  @FunctionalInterface
  interface Run {
    void run() throws IOException;
  }

  /**
   * Repeats {@code run} {@code runs} times (fewer once stopped) and says how it went in one line on
   * {@code err}: "veriruntime: NAME warmed up (N runs over WHAT in S s)", or, when a run failed,
   * "veriruntime: NAME warm-up stopped after N runs over WHAT: ERROR"; nothing when stopped.
   */
  final void repeat(String name, int runs, String over, Run run, PrintStream err) {
    long start = System.nanoTime();
    try {
      while (!stopped() && done() < runs) {
        run.run();
        stepDone();
      }
    } catch (IOException | RuntimeException e) {
      err.println(
          "veriruntime: "
              + name
              + " warm-up stopped after "
              + done()
              + " runs over "
              + over
              + ": "
              + e);
      return;
    }
    if (!stopped()) {
      err.printf(
          "veriruntime: %s warmed up (%d runs over %s in %.1f s)%n",
          name, done(), over, (System.nanoTime() - start) / 1e9);
    }
  }

  /** Starts the work in the background (once). */
  final synchronized void start() {
    if (thread.getState() == Thread.State.NEW) {
      thread.start();
    }
  }

  final void stepDone() {
    done.incrementAndGet();
  }

  /** Steps finished so far. */
  final long done() {
    return done.get();
  }

  final boolean stopped() {
    return stopped;
  }

  /** Waits for the work to end (tests). */
  final void join() throws InterruptedException {
    thread.join();
  }

  /** Stops after the step in progress. */
  @Override
  public final void close() {
    stopped = true;
  }
}
