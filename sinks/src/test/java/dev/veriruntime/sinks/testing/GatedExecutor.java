package dev.veriruntime.sinks.testing;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An executor that holds every task while closed and runs them in order on one thread once opened:
 * a downstream that stops making progress, without sleeping. Thread-safe. {@link #close()} shuts
 * the thread down.
 */
public final class GatedExecutor implements Executor, AutoCloseable {
  private final ExecutorService thread =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "gated-sink-drain");
            t.setDaemon(true);
            return t;
          });
  private final Queue<Runnable> held = new ArrayDeque<>();
  private boolean open;

  public GatedExecutor(boolean open) {
    this.open = open;
  }

  /** A Reactor scheduler running on this executor. */
  public Scheduler scheduler() {
    return Schedulers.fromExecutor(this);
  }

  @Override
  public synchronized void execute(Runnable task) {
    if (thread.isShutdown()) {
      return; // the test is over; a sink's last drain hop has nothing left to do
    }
    if (open) {
      thread.execute(task);
    } else {
      held.add(task);
    }
  }

  public synchronized void closeGate() {
    open = false;
  }

  /** Runs the held tasks, in order, and every later one. */
  public synchronized void openGate() {
    open = true;
    Runnable r;
    while ((r = held.poll()) != null) {
      thread.execute(r);
    }
  }

  public synchronized int heldTasks() {
    return held.size();
  }

  @Override
  public synchronized void close() {
    thread.shutdownNow();
  }
}
