package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.testing.MutableClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RepeatFoldingHandlerTest {
  private static final Instant T0 = Instant.parse("2026-12-07T17:00:00Z");
  private static final String AWAY =
      "Connection to node -1 (/127.0.0.1:9) could not be established. Node may not be available.";

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

  private final MutableClock clock = new MutableClock(T0);
  private final List<String> lines = new ArrayList<>();
  private final RepeatFoldingHandler folding = new RepeatFoldingHandler(new Lines(), clock);

  @Test
  void aLastingConditionIsPrintedOnceAndThenCountedOnTheReminders() {
    // Kafka away for two hours: the client's warning every 10 s, 720 in all.
    for (int s = 0; s < 7200; s += 10) {
      log(s, Level.WARNING, AWAY);
    }
    folding.close();

    assertThat(lines)
        .containsExactly(
            "17:00:00 " + AWAY,
            "17:01:00 "
                + AWAY
                + " (and 6 times more since 2026-12-07T17:00:00Z, counted rather than printed;"
                + " the next count in 10 min)",
            "17:11:00 "
                + AWAY
                + " (and 60 times more since 2026-12-07T17:01:00Z, counted rather than printed;"
                + " the next count in 1 h)",
            "18:11:00 "
                + AWAY
                + " (and 360 times more since 2026-12-07T17:11:00Z, counted rather than printed;"
                + " the next count in 1 h)",
            "18:59:50 "
                + AWAY
                + " (and 293 times more between 2026-12-07T18:11:00Z and 2026-12-07T18:59:50Z,"
                + " counted rather than printed)");
    assertThat(1 + counted()).isEqualTo(720);
  }

  @Test
  void messagesThatDifferInTextLevelLoggerOrThrowableAreFollowedApart() {
    for (int s = 0; s < 30; s += 10) {
      log(s, Level.WARNING, "a");
      log(s, Level.WARNING, "b");
      log(s, Level.SEVERE, "a");
      LogRecord other = record(s, Level.WARNING, "a");
      other.setLoggerName("org.apache.kafka.clients.producer.KafkaProducer");
      folding.publish(other);
      LogRecord thrown = record(s, Level.WARNING, "a");
      thrown.setThrown(new IOException("refused"));
      folding.publish(thrown);
    }
    assertThat(lines)
        .containsExactly("17:00:00 a", "17:00:00 b", "17:00:00 a", "17:00:00 a", "17:00:00 a");
    folding.close();
    assertThat(lines).hasSize(10);
    assertThat(counted()).isEqualTo(10);
  }

  @Test
  void aMessageBackAfterAQuietGapIsANewConditionAndTheOldCountComesFirst() {
    log(0, Level.WARNING, AWAY);
    log(10, Level.WARNING, AWAY);
    log(20, Level.WARNING, AWAY);
    int back = 20 + (int) RepeatFoldingHandler.QUIET.toSeconds() + 1;
    log(back, Level.WARNING, AWAY);

    assertThat(lines)
        .containsExactly(
            "17:00:00 " + AWAY,
            "17:00:20 "
                + AWAY
                + " (and 2 times more between 2026-12-07T17:00:00Z and 2026-12-07T17:00:20Z,"
                + " counted rather than printed; then quiet)",
            "17:10:21 " + AWAY);
    folding.close();
    assertThat(lines).hasSize(3);
  }

  @Test
  void theMessageLeftAloneLongestMakesRoomWithItsCountPrinted() {
    log(0, Level.WARNING, "first");
    log(1, Level.WARNING, "first");
    for (int i = 0; i < RepeatFoldingHandler.KEYS; i++) {
      log(2, Level.WARNING, "other " + i);
    }
    assertThat(lines)
        .contains(
            "17:00:01 first (and 1 time more between 2026-12-07T17:00:00Z and"
                + " 2026-12-07T17:00:01Z, counted rather than printed)");
    log(3, Level.WARNING, "first");
    assertThat(lines).last().isEqualTo("17:00:03 first");
  }

  @Test
  void belowItsLevelNothingIsPrintedOrCounted() {
    folding.setLevel(Level.WARNING);
    log(0, Level.INFO, "chatter");
    log(1, Level.INFO, "chatter");
    folding.close();
    assertThat(lines).isEmpty();
  }

  private void log(int second, Level level, String message) {
    folding.publish(record(second, level, message));
  }

  private LogRecord record(int second, Level level, String message) {
    clock.advance(Duration.between(clock.instant(), T0.plusSeconds(second)));
    LogRecord r = new LogRecord(level, message);
    r.setInstant(clock.instant());
    r.setLoggerName("org.apache.kafka.clients.NetworkClient");
    return r;
  }

  /** The repeats the printed counts add up to. */
  private long counted() {
    Matcher m = Pattern.compile("\\(and (\\d+) times? more").matcher(String.join("\n", lines));
    long n = 0;
    while (m.find()) {
      n += Long.parseLong(m.group(1));
    }
    return n;
  }

  /** Each record as its time of day and text. */
  private final class Lines extends Handler {
    Lines() {
      setFormatter(
          new Formatter() {
            @Override
            public String format(LogRecord record) {
              return formatMessage(record);
            }
          });
    }

    @Override
    public void publish(LogRecord record) {
      lines.add(TIME.format(record.getInstant()) + " " + getFormatter().format(record));
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
