package dev.veriruntime.sinks;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Event identifiers: UUID version 7 (RFC 9562), so that ids sort by creation time and are unique
 * across restarts and hosts without coordination. Thread-safe.
 *
 * <p>One {@link SecureRandom} draw per process, not per id: the process seeds a counter and the
 * keys of a keyed permutation once, and each id takes the next counter value through that
 * permutation (a four-round Feistel network on the 62 bits of {@code rand_b}, round keys from the
 * seed). So within a process the {@code rand_b} of two ids never repeat (a permutation of distinct
 * counter values, 2<sup>62</sup> ids before the counter wraps), across processes they differ with
 * the probability of 62 random bits, and an outsider who sees ids cannot read the counter or the
 * next id off them without the keys. {@code rand_a} (12 bits) is another keyed mix of the counter.
 */
public final class EventIds {
  private static final long MASK_31 = (1L << 31) - 1;
  private static final long MASK_62 = (1L << 62) - 1;

  private static final AtomicLong COUNTER;
  private static final long[] ROUND_KEYS = new long[4];
  private static final long RAND_A_KEY;

  static {
    SecureRandom seed = new SecureRandom();
    COUNTER = new AtomicLong(seed.nextLong());
    for (int i = 0; i < ROUND_KEYS.length; i++) {
      ROUND_KEYS[i] = seed.nextLong();
    }
    RAND_A_KEY = seed.nextLong();
  }

  private EventIds() {}

  /** A new id whose time prefix is {@code time} (millisecond precision). */
  public static String next(Instant time) {
    return next(time.toEpochMilli(), COUNTER.getAndIncrement()).toString();
  }

  /** The id for a time and a counter value; package-private so tests can check the permutation. */
  static UUID next(long epochMillis, long counter) {
    long millis = epochMillis & 0xFFFF_FFFF_FFFFL;
    long randA = mix(counter ^ RAND_A_KEY) & 0xFFF;
    long msb = (millis << 16) | (0x7L << 12) | randA;
    // Variant bits 10xx in the top of the low word, as RFC 9562 requires.
    long lsb = permute62(counter & MASK_62) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }

  /** A keyed bijection of the 62-bit values: a balanced Feistel network of four rounds. */
  static long permute62(long value) {
    long left = value >>> 31;
    long right = value & MASK_31;
    for (long key : ROUND_KEYS) {
      long next = left ^ (mix(right ^ key) & MASK_31);
      left = right;
      right = next;
    }
    return (left << 31) | right;
  }

  /** The finaliser of SplitMix64 (a bijective avalanche mix of 64 bits). */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
    return z ^ (z >>> 31);
  }
}
