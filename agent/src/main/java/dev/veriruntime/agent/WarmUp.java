package dev.veriruntime.agent;

import dev.veriruntime.ingest.kernel.ThreadPriority;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Work done once at start only so that the JIT compiles the code it goes through, its results
 * thrown away ({@link VerifierWarmUp}, {@link PipelineWarmUp}): on a daemon thread of its own at
 * the lowest priority (best effort: without it the work still ends), counted in steps, stopped by
 * {@link #close} after the step in progress.
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
