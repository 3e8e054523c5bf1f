package dev.veriruntime.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine;

/** Accepts 10s, 500ms, 2m, 1h, a bare number of seconds, or ISO-8601 (PT10S). */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      Duration d;
      if (v.startsWith("pt") || v.startsWith("p")) {
        d = Duration.parse(value.trim().toUpperCase(Locale.ROOT));
      } else if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.endsWith("m")) {
        d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.endsWith("h")) {
        d = Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
      } else {
        d = Duration.ofSeconds(Long.parseLong(v));
      }
      if (d.isNegative() || d.isZero()) {
        throw new CommandLine.TypeConversionException("duration must be positive: '" + value + "'");
      }
      return d;
    } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
      throw new CommandLine.TypeConversionException(
          "not a duration: '" + value + "' (use e.g. 10s, 500ms, 2m)");
    }
  }
}
