package dev.veriruntime.sinks;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;

/**
 * An {@link Instant} as {@link Instant#toString()} writes it ({@code 2026-11-23T07:40:00.123Z}:
 * seconds always, the fraction in groups of three digits as needed), into one small char array
 * instead of the JDK formatter's builders and temporaries: every event carries several instants and
 * is written to two sinks, so they were a tenth of what an event cost the heap. Years outside
 * 0000–9999, which no event of ours carries, are left to the JDK.
 */
final class IsoInstantSerializer extends StdSerializer<Instant> {
  private static final long FIRST = LocalDate.of(0, 1, 1).toEpochDay() * 86_400;
  private static final long END = LocalDate.of(10_000, 1, 1).toEpochDay() * 86_400;

  IsoInstantSerializer() {
    super(Instant.class);
  }

  @Override
  public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider)
      throws IOException {
    long seconds = value.getEpochSecond();
    if (seconds < FIRST || seconds >= END) {
      gen.writeString(value.toString());
      return;
    }
    char[] c = new char[30];
    LocalDate day = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
    int secondOfDay = (int) Math.floorMod(seconds, 86_400);
    int n = digits(c, 0, day.getYear(), 4);
    c[n++] = '-';
    n = digits(c, n, day.getMonthValue(), 2);
    c[n++] = '-';
    n = digits(c, n, day.getDayOfMonth(), 2);
    c[n++] = 'T';
    n = digits(c, n, secondOfDay / 3600, 2);
    c[n++] = ':';
    n = digits(c, n, secondOfDay / 60 % 60, 2);
    c[n++] = ':';
    n = digits(c, n, secondOfDay % 60, 2);
    int nanos = value.getNano();
    if (nanos > 0) {
      c[n++] = '.';
      if (nanos % 1_000_000 == 0) {
        n = digits(c, n, nanos / 1_000_000, 3);
      } else if (nanos % 1_000 == 0) {
        n = digits(c, n, nanos / 1_000, 6);
      } else {
        n = digits(c, n, nanos, 9);
      }
    }
    c[n++] = 'Z';
    gen.writeString(c, 0, n);
  }

  /** Writes {@code value} (≥ 0) as exactly {@code width} decimal digits; returns the new end. */
  private static int digits(char[] c, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      c[i] = (char) ('0' + value % 10);
      value /= 10;
    }
    return at + width;
  }
}
