package dev.veriruntime.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecurityEventTest {
  private static final Instant T = Instant.parse("2026-11-23T07:40:00.123Z");

  private static SecurityEvent sample() {
    return SecurityEvent.builder(EventType.VERIFY_FAILED, T)
        .id("0193a1b2-0000-7000-8000-000000000001")
        .host("build-7")
        .pid(4242)
        .exe(
            "/usr/bin/ls",
            2049,
            131,
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        .reason(".text differs from the reference")
        .coverage("DISK_HASH", "FAILED", "digest differs")
        .coverage("ELF_HEADER", "VERIFIED", "")
        .count(3)
        .firstSeen(T.minusSeconds(10))
        .lastSeen(T)
        .finding("SECTION_MISMATCH", "ELF_SECTIONS", ".text differs", Map.of("section", ".text"))
        .detail("window", "2026-11-23T07:39:00Z/PT1M")
        .build();
  }

  @Test
  void jsonHasExactlyTheSpecifiedKeysInOrder() throws Exception {
    JsonNode json = EventJson.mapper().readTree(EventJson.toJson(sample()));
    List<String> keys = new ArrayList<>();
    json.fieldNames().forEachRemaining(keys::add);
    assertThat(keys)
        .containsExactly(
            "id",
            "type",
            "time",
            "host",
            "pid",
            "exe",
            "reason",
            "coverage",
            "count",
            "firstSeen",
            "lastSeen",
            "findings",
            "details");
    assertThat(json.get("type").asText()).isEqualTo("VERIFY_FAILED");
    assertThat(json.get("time").asText()).isEqualTo("2026-11-23T07:40:00.123Z");
    assertThat(json.get("exe").get("ino").asLong()).isEqualTo(131);
    assertThat(json.get("exe").get("dev").asLong()).isEqualTo(2049);
    assertThat(json.get("coverage").get("DISK_HASH").get("status").asText()).isEqualTo("FAILED");
    assertThat(json.get("findings").get(0).get("detail").get("section").asText())
        .isEqualTo(".text");
    assertThat(json.get("count").asLong()).isEqualTo(3);
  }

  @Test
  void roundTripsThroughJson() {
    SecurityEvent e = sample();
    assertThat(EventJson.fromJson(EventJson.toJson(e))).isEqualTo(e);
  }

  @Test
  void sameEventSerialisesToSameBytes() {
    assertThat(EventJson.toJson(sample())).isEqualTo(EventJson.toJson(sample()));
  }

  @Test
  void defaultsAndValidation() {
    SecurityEvent e = SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, T).reason("r").build();
    assertThat(e.firstSeen()).isEqualTo(T);
    assertThat(e.lastSeen()).isEqualTo(T);
    assertThat(e.count()).isEqualTo(1);
    assertThat(e.pid()).isNull();
    assertThat(e.id()).hasSize(36).startsWith(String.format("%08x", T.toEpochMilli() >>> 16));
    assertThatThrownBy(() -> SecurityEvent.builder(EventType.VERIFY_FAILED, T).count(0).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                SecurityEvent.builder(EventType.VERIFY_FAILED, T)
                    .firstSeen(T)
                    .lastSeen(T.minusSeconds(1))
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void idsAreUniqueAndTimeOrdered() {
    String a = EventIds.next(T);
    String b = EventIds.next(T.plusMillis(1));
    assertThat(a).isNotEqualTo(EventIds.next(T));
    assertThat(a.compareTo(b)).isNegative();
  }

  @Test
  void aggregateKeepsFirstOccurrence() {
    SecurityEvent e = sample();
    SecurityEvent agg = e.withAggregate(10_000, T.plusSeconds(60));
    assertThat(agg.id()).isEqualTo(e.id());
    assertThat(agg.firstSeen()).isEqualTo(e.firstSeen());
    assertThat(agg.count()).isEqualTo(10_000);
  }

  @Test
  void detailsAreCopiedFromTheCallerOnceAndThenSharedByTheEventsCopies() {
    Map<String, Object> mine = new java.util.LinkedHashMap<>(Map.of("window", "w"));
    SecurityEvent e =
        new SecurityEvent(
            "0193a1b2-0000-7000-8000-000000000002",
            EventType.UNKNOWN_EXECUTION,
            T,
            "h",
            7,
            null,
            "r",
            null,
            1,
            null,
            null,
            null,
            mine);
    mine.put("later", "x");
    assertThat(e.details()).containsOnlyKeys("window");
    assertThatThrownBy(() -> e.details().put("k", "v"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(e.withAggregate(2, T).details()).isSameAs(e.details());
    assertThat(
            e.withIncident(
                    new SecurityEvent.Incident(
                        e.id(), SecurityEvent.IncidentState.OPENED, T, 1, 1, null, null))
                .details())
        .isSameAs(e.details());

    Map<String, Object> more = new java.util.LinkedHashMap<>();
    more.put("parents", List.of("/bin/sh"));
    more.put("window", "w2");
    SecurityEvent context = e.withDetails(more);
    assertThat(context.details())
        .containsExactly(Map.entry("window", "w2"), Map.entry("parents", List.of("/bin/sh")));
    assertThat(context.id()).isEqualTo(e.id());
    assertThat(e.details()).containsOnlyKeys("window"); // the original is untouched
    more.put("later", "x");
    assertThat(context.details()).hasSize(2);
    assertThat(context.withDetails(Map.of())).isSameAs(context);
    more.put("nothing", null);
    assertThatThrownBy(() -> e.withDetails(more)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void anEventsMapsActAsOrderedUnmodifiableMaps() {
    SecurityEvent.Builder b =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, T).id("0193a1b2-0000-7000-8000-3");
    for (int i = 0; i < 12; i++) {
      b.detail("k" + i, i);
    }
    SecurityEvent e = b.detail("k3", "again").build();
    b.detail("after", "built"); // the builder goes on; the event does not change

    Map<String, Object> expected = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 12; i++) {
      expected.put("k" + i, i == 3 ? "again" : i);
    }
    assertThat(e.details()).containsExactlyEntriesOf(expected); // a key put again keeps its place
    assertThat(e.details()).isEqualTo(expected).hasSameHashCodeAs(expected);
    assertThat(expected).isEqualTo(e.details());
    assertThat(e.details().toString()).isEqualTo(expected.toString());
    assertThat(e.details().get("k11")).isEqualTo(11);
    assertThat(e.details().get("absent")).isNull();
    assertThat(e.details().containsKey("after")).isFalse();
    assertThat(e.details().containsValue("again")).isTrue();

    assertThatThrownBy(() -> e.details().remove("k1"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> e.details().entrySet().iterator().next().setValue("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(
            () -> {
              var it = e.details().keySet().iterator();
              it.next();
              it.remove();
            })
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> e.details().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(e.details()).hasSize(12);

    var it = e.details().entrySet().iterator();
    for (int i = 0; i < 12; i++) {
      it.next();
    }
    assertThatThrownBy(it::next).isInstanceOf(java.util.NoSuchElementException.class);
    assertThat(EventJson.fromJson(EventJson.toJson(e))).isEqualTo(e);
    assertThatThrownBy(() -> b.detail("null", null)).isInstanceOf(NullPointerException.class);
  }
}
