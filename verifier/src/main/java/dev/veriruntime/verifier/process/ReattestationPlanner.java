package dev.veriruntime.verifier.process;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Decides which long-running processes to re-attest next under a budget of bytes of memory compared
 * per second, so that continuous MEMORY_CODE checking costs a bounded, configured share of the
 * machine and still revisits every process: a patch made an hour after start is found on a later
 * pass.
 *
 * <p>A token bucket refilled at {@code bytesPerSecond} (up to {@code burst} worth of seconds) pays
 * for grants. {@link #plan} orders candidates by staleness (never checked first, then the oldest
 * last check, then pid) and grants each the bytes it still needs until the bucket is empty; the
 * last grant may be partial, which {@link CodeScan} turns into a resumed scan next time. Grants are
 * paid up front; {@link #refund} returns what a grant did not use. A process whose last pass
 * completed less than {@code minRevisit} ago is not due ({@link #due}) and gets no grant: on a host
 * whose processes hold little code the budget is not spent re-comparing the same bytes every second
 * (each completed pass also re-verifies the process's mappings), yet every process is passed over
 * again at least as often as the budget allows and never more often than {@code minRevisit}.
 *
 * <p>Thread-safe (synchronized); time comes only from the injected {@link Clock}.
 *
 * <pre>{@code
 * ReattestationPlanner planner = new ReattestationPlanner(clock, 64 << 20, Duration.ofSeconds(2));
 * for (ReattestationPlanner.Grant g : planner.plan(candidates)) {
 *   long used = scans.get(g.pid()).advance(g.bytes());
 *   planner.refund(g.bytes() - used);
 * }
 * }</pre>
 */
public final class ReattestationPlanner {
  /** Smallest useful grant: one page. Smaller remainders wait for the next plan. */
  public static final long MIN_GRANT = 4096;

  private final Clock clock;
  private final long bytesPerSecond;
  private final long capacity;
  private final Duration minRevisit;
  private double tokens;
  private Instant last;

  /**
   * A process that could be re-attested.
   *
   * @param pid the process
   * @param startTicks its start time (with pid, its identity)
   * @param remainingBytes bytes of code its current (or next) scan still has to compare
   * @param lastCompleted when its last full MEMORY_CODE check completed, or null if never
   */
  public record Candidate(int pid, long startTicks, long remainingBytes, Instant lastCompleted) {}

  /** Permission to compare up to {@code bytes} of process {@code pid}'s code now. */
  public record Grant(int pid, long startTicks, long bytes) {}

  /**
   * @param bytesPerSecond the sustained budget
   * @param burst how much unused budget may accumulate (at least one second's worth is kept)
   */
  public ReattestationPlanner(Clock clock, long bytesPerSecond, Duration burst) {
    this(clock, bytesPerSecond, burst, Duration.ZERO);
  }

  /**
   * @param bytesPerSecond the sustained budget
   * @param burst how much unused budget may accumulate (at least one second's worth is kept)
   * @param minRevisit the least time between the completion of one pass over a process and the
   *     start of the next; zero passes over processes again as soon as the budget allows
   */
  public ReattestationPlanner(
      Clock clock, long bytesPerSecond, Duration burst, Duration minRevisit) {
    this.clock = Objects.requireNonNull(clock, "clock");
    if (minRevisit.isNegative()) {
      throw new IllegalArgumentException("negative revisit interval: " + minRevisit);
    }
    this.minRevisit = minRevisit;
    if (bytesPerSecond <= 0) {
      throw new IllegalArgumentException("budget must be positive: " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
    double seconds = Math.max(1.0, burst.toNanos() / 1e9);
    this.capacity = (long) Math.min(Long.MAX_VALUE / 2.0, bytesPerSecond * seconds);
    this.tokens = 0;
    this.last = clock.instant();
  }

  public long bytesPerSecond() {
    return bytesPerSecond;
  }

  /** Budget available now, in bytes. */
  public synchronized long availableBytes() {
    refill();
    return (long) tokens;
  }

  /**
   * Whether a process whose last pass completed at {@code lastCompleted} (null: never) may be
   * passed over again now.
   */
  public boolean due(Instant lastCompleted) {
    return lastCompleted == null || !clock.instant().isBefore(lastCompleted.plus(minRevisit));
  }

  /**
   * Grants for the stalest due candidates (see {@link #due}) that the budget available now can pay
   * for.
   */
  public synchronized List<Grant> plan(Collection<Candidate> candidates) {
    refill();
    List<Candidate> order = new ArrayList<>(candidates);
    order.sort(
        Comparator.comparing(
                (Candidate c) -> c.lastCompleted() == null ? Instant.MIN : c.lastCompleted())
            .thenComparingInt(Candidate::pid));
    List<Grant> grants = new ArrayList<>();
    for (Candidate c : order) {
      if (tokens < MIN_GRANT) {
        break;
      }
      if (c.remainingBytes() <= 0 || !due(c.lastCompleted())) {
        continue;
      }
      long bytes = (long) Math.min(tokens, c.remainingBytes());
      if (bytes < MIN_GRANT && bytes < c.remainingBytes()) {
        break;
      }
      tokens -= bytes;
      grants.add(new Grant(c.pid(), c.startTicks(), bytes));
    }
    return grants;
  }

  /** Returns unused bytes of a grant to the budget. */
  public synchronized void refund(long bytes) {
    if (bytes > 0) {
      tokens = Math.min(capacity, tokens + bytes);
    }
  }

  private void refill() {
    Instant now = clock.instant();
    long nanos = Duration.between(last, now).toNanos();
    if (nanos > 0) {
      tokens = Math.min(capacity, tokens + bytesPerSecond * (nanos / 1e9));
      last = now;
    }
  }
}
