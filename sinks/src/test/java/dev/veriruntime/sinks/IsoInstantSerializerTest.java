package dev.veriruntime.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IsoInstantSerializerTest {
  /** What the shared mapper writes for {@code t}, without the JSON quotes. */
  private static String written(Instant t) throws Exception {
    String json = EventJson.mapper().writeValueAsString(t);
    return json.substring(1, json.length() - 1);
  }

  @Test
  void writesWhatInstantToStringWrites() throws Exception {
    List<Instant> cases =
        new ArrayList<>(
            List.of(
                Instant.EPOCH,
                Instant.parse("2026-11-23T07:40:00Z"),
                Instant.parse("2026-11-23T07:40:00.120Z"),
                Instant.parse("2026-11-23T07:40:00.000120Z"),
                Instant.parse("2026-11-23T07:40:00.000000120Z"),
                Instant.parse("2026-12-07T07:34:47.961205986Z"),
                Instant.parse("2024-02-29T23:59:59.999999999Z"),
                Instant.parse("1969-12-31T23:59:59.5Z"),
                Instant.parse("0000-01-01T00:00:00Z"),
                Instant.parse("9999-12-31T23:59:59.999Z"),
                Instant.parse("+10000-01-01T00:00:00Z"),
                Instant.parse("-0001-12-31T23:59:59Z"),
                Instant.MIN,
                Instant.MAX));
    SplittableRandom random = new SplittableRandom(17);
    for (int i = 0; i < 20_000; i++) {
      // Whole seconds, whole milliseconds, whole microseconds and any nanosecond, years 0–9999.
      long seconds = random.nextLong(-62_167_219_200L, 253_402_300_800L);
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1_000;
            default -> random.nextInt(1_000_000_000);
          };
      cases.add(Instant.ofEpochSecond(seconds, nanos));
    }
    for (Instant t : cases) {
      assertThat(written(t)).as("epoch second %d", t.getEpochSecond()).isEqualTo(t.toString());
    }
  }

  @Test
  void eventsReadBackToTheSameInstants() {
    SecurityEvent e =
        SecurityEvent.builder(
                EventType.UNKNOWN_EXECUTION, Instant.parse("2026-12-07T07:34:47.961205986Z"))
            .reason("r")
            .firstSeen(Instant.parse("2026-12-07T07:34:40Z"))
            .build();
    SecurityEvent back = EventJson.fromJson(EventJson.toJson(e));
    assertThat(back.time()).isEqualTo(e.time());
    assertThat(back.firstSeen()).isEqualTo(e.firstSeen());
  }
}
