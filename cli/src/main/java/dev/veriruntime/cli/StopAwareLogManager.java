package dev.veriruntime.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.LogManager;

/**
 * The process's java.util.logging manager, named by {@code java.util.logging.manager}, which {@link
 * VeriRuntimeCommand#main} sets before anything logs. The JDK's own manager resets logging (every
 * handler closed and removed) in a shutdown hook of its own, which runs beside the agent's: on
 * SIGTERM, everything logged while the agent stopped (a sink's last failure, the probe detaching,
 * the counts {@link RepeatFoldingHandler} still held) went nowhere, where a stop at the end of
 * {@code --duration} printed it. This one holds that reset until the stop has ended ({@link
 * #holdResetUntil}), for a bounded time. Thread-safe.
 */
public final class StopAwareLogManager extends LogManager {
  private static volatile CountDownLatch stopped;
  private static volatile Duration longest = Duration.ZERO;

  /** For the JDK, which makes the manager by reflection. */
  public StopAwareLogManager() {}

  /**
   * A reset during the JVM's shutdown waits until {@code stopped} opens, at most {@code longest}.
   * Does nothing unless this class is the process's manager.
   */
  static void holdResetUntil(CountDownLatch stopped, Duration longest) {
    StopAwareLogManager.longest = longest;
    StopAwareLogManager.stopped = stopped;
  }

  @Override
  public void reset() {
    CountDownLatch s = stopped;
    if (s != null && shuttingDown()) {
      try {
        s.await(longest.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    super.reset();
  }

  /** Whether the JVM is running its shutdown hooks: it then refuses new ones. */
  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true;
    }
  }
}
