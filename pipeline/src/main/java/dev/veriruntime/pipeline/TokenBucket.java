package dev.veriruntime.pipeline;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import reactor.core.scheduler.Scheduler;

/**
 * A token bucket: {@code ratePerSecond} tokens are added continuously up to {@code burst}; each
 * accepted event takes one (or, for a budget of bytes, as many as it costs). Time comes from an
 * injected scheduler (virtual time in tests). Thread-safe (synchronized: contention is one acquire
 * per emitted event, after aggregation).
 */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private double tokens;
  private long last;

  public TokenBucket(double ratePerSecond, int burst, Scheduler clock) {
    this(ratePerSecond, burst, () -> clock.now(TimeUnit.NANOSECONDS));
  }

  TokenBucket(double ratePerSecond, int burst, LongSupplier nanoClock) {
    if (ratePerSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("rate must be > 0 and burst >= 1");
    }
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.tokens = burst;
    this.last = nanoClock.getAsLong();
  }

  /** Takes one token if available. */
  public boolean tryAcquire() {
    return tryAcquire(1);
  }

  /** Takes {@code n} tokens if that many are available, else none. */
  public synchronized boolean tryAcquire(long n) {
    long now = nanoClock.getAsLong();
    tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
    last = now;
    if (tokens >= n) {
      tokens -= n;
      return true;
    }
    return false;
  }
}
