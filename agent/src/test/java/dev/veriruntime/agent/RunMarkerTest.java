package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.testing.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunMarkerTest {
  private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(T0);

  @Test
  void aCleanStopLeavesNothingToReport() throws Exception {
    RunMarker first = RunMarker.open(dir, clock, "boot-a", 100);
    assertThat(first.previousRunGap()).isEmpty();
    assertThat(dir.resolve(RunMarker.FILE)).exists();
    first.close();
    assertThat(dir.resolve(RunMarker.FILE)).doesNotExist();

    clock.advance(Duration.ofMinutes(5));
    try (RunMarker second = RunMarker.open(dir, clock, "boot-a", 101)) {
      assertThat(second.previousRunGap()).isEmpty();
    }
  }

  @Test
  void aRunThatEndedWithoutCloseIsAGapFromItsLastBeatToTheNextStart() throws Exception {
    RunMarker killed = RunMarker.open(dir, clock, "boot-a", 100);
    clock.advance(Duration.ofSeconds(30));
    killed.beat();
    // A beat only sets the modification time: the marker's content is the one written at start.
    assertThat(Files.readString(dir.resolve(RunMarker.FILE))).contains("\"pid\":100");
    clock.advance(Duration.ofMillis(700)); // killed here, between two beats: never closed

    clock.advance(Duration.ofSeconds(9));
    try (RunMarker next = RunMarker.open(dir, clock, "boot-a", 200)) {
      RunMarker.Gap gap = next.previousRunGap().orElseThrow();
      assertThat(gap.from()).isEqualTo(T0.plusSeconds(30));
      assertThat(gap.to()).isEqualTo(T0.plusSeconds(30).plusMillis(9_700));
      assertThat(gap.previous().pid()).isEqualTo(100);
      assertThat(gap.previous().started()).isEqualTo(T0);
      assertThat(gap.hostRestarted()).isFalse();
    }
  }

  @Test
  void eachUncleanStopIsReportedByTheStartAfterItOnly() throws Exception {
    RunMarker.open(dir, clock, "boot-a", 100); // killed
    clock.advance(Duration.ofSeconds(5));
    RunMarker second = RunMarker.open(dir, clock, "boot-a", 101);
    assertThat(second.previousRunGap()).isPresent();
    second.close();
    clock.advance(Duration.ofSeconds(5));
    try (RunMarker third = RunMarker.open(dir, clock, "boot-a", 102)) {
      assertThat(third.previousRunGap()).isEmpty();
    }
  }

  @Test
  void anotherBootIdSaysTheHostRestarted() throws Exception {
    RunMarker.open(dir, clock, "boot-a", 100);
    clock.advance(Duration.ofMinutes(2));
    try (RunMarker next = RunMarker.open(dir, clock, "boot-b", 100)) {
      assertThat(next.previousRunGap().orElseThrow().hostRestarted()).isTrue();
    }
  }

  @Test
  void aTornMarkerStillProvesAnUncleanStopFromItsModificationTime() throws Exception {
    Path file = dir.resolve(RunMarker.FILE);
    Files.writeString(file, "{\"pid\":12,\"bootId\":\"boot-a\",\"sta");
    Files.setLastModifiedTime(file, FileTime.from(T0.minusSeconds(40)));
    try (RunMarker next = RunMarker.open(dir, clock, "boot-a", 13)) {
      RunMarker.Gap gap = next.previousRunGap().orElseThrow();
      assertThat(gap.previous()).isNull();
      assertThat(gap.from()).isEqualTo(T0.minusSeconds(40));
      assertThat(gap.to()).isEqualTo(T0);
    }
  }

  @Test
  void aBeatAfterCloseDoesNotRecreateTheMarker() throws Exception {
    RunMarker marker = RunMarker.open(dir, clock, "boot-a", 100);
    marker.close();
    marker.beat();
    assertThat(dir.resolve(RunMarker.FILE)).doesNotExist();
  }

  @Test
  void theBootIdOfThisHostIsReadable() {
    assertThat(RunMarker.bootId()).matches("[0-9a-f-]{36}");
  }
}
