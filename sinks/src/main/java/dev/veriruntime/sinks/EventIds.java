package dev.veriruntime.sinks;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;

/**
 * Event identifiers: UUID version 7 (RFC 9562), so that ids sort by creation time and are unique
 * across restarts and hosts without coordination. Thread-safe.
 */
public final class EventIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private EventIds() {}

  /** A new id whose time prefix is {@code time} (millisecond precision). */
  public static String next(Instant time) {
    long millis = time.toEpochMilli() & 0xFFFF_FFFF_FFFFL;
    long randA = RANDOM.nextInt(1 << 12);
    long msb = (millis << 16) | (0x7L << 12) | randA;
    // Variant bits 10xx in the top of the low word, as RFC 9562 requires.
    long lsb = (RANDOM.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }
}
