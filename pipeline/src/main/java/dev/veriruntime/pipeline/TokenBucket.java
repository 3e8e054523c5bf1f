package dev.veriruntime.pipeline;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import reactor.core.scheduler.Scheduler;

/**
 * A token bucket: {@code ratePerSecond} tokens are added continuously up to {@code burst}; each
 * accepted event takes one. As a budget of time, {@link #spend} takes what a piece of work cost
 * after it ran, into debt if need be, and {@link #positive} says whether the next may start. Time
 * comes from an injected scheduler (virtual time in tests). Thread-safe (synchronized: contention
 * is one acquire per emitted event, after aggregation).
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
  public synchronized boolean tryAcquire() {
    refill();
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** Whether any tokens are left, once what {@link #spend} borrowed has been paid back. */
  public synchronized boolean positive() {
    refill();
    return tokens > 0;
  }

  /** Takes {@code n} tokens, going into debt when fewer are left. */
  public synchronized void spend(double n) {
    refill();
    tokens -= n;
  }

  private void refill() {
    long now = nanoClock.getAsLong();
    tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
    last = now;
  }
}
