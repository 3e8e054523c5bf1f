package dev.veriruntime.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EventIdsTest {
  private static final Instant T = Instant.parse("2026-12-03T14:00:00.123Z");

  @Test
  void idsOfTheSameMillisecondAreUniqueAcrossThreads() {
    Set<String> ids =
        IntStream.range(0, 200_000)
            .parallel()
            .mapToObj(i -> EventIds.next(T))
            .collect(Collectors.toConcurrentMap(id -> id, id -> id))
            .keySet();

    assertThat(ids).hasSize(200_000);
  }

  @Test
  void everyIdHasVersion7TheRfcVariantAndItsTime() {
    for (int i = 0; i < 10_000; i++) {
      UUID id = UUID.fromString(EventIds.next(T.plusMillis(i)));

      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2); // IETF variant: bits 10
      assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(T.toEpochMilli() + i);
    }
  }

  @Test
  void idsSortByTime() {
    String earlier = EventIds.next(T);
    String later = EventIds.next(T.plusMillis(1));

    assertThat(earlier.compareTo(later)).isNegative();
  }

  @Test
  void consecutiveCountersDoNotGiveConsecutiveOrRepeatedRandomBits() {
    Set<Long> seen = new HashSet<>();
    long previous = EventIds.permute62(0);
    int adjacent = 0;
    for (long counter = 0; counter < 100_000; counter++) {
      long bits = EventIds.permute62(counter);
      assertThat(bits).isBetween(0L, (1L << 62) - 1);
      assertThat(seen.add(bits)).as("counter %d", counter).isTrue();
      if (counter > 0 && Math.abs(bits - previous) < 1_000_000) {
        adjacent++;
      }
      previous = bits;
    }
    // A counter that shows through would make neighbours close; a random one makes this ~0.
    assertThat(adjacent).isLessThan(5);
  }
}
