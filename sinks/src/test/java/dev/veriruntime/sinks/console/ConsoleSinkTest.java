package dev.veriruntime.sinks.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;

class ConsoleSinkTest extends SinkContractTest {
  /** A stream that can be told to fail, like a closed pipe. */
  private static final class Breakable extends OutputStream {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    volatile boolean broken;

    @Override
    public synchronized void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      if (broken) {
        throw new IOException("Broken pipe");
      }
      bytes.write(b, off, len);
    }

    synchronized String text() {
      return bytes.toString(StandardCharsets.UTF_8);
    }
  }

  private Breakable out;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) {
    out = new Breakable();
    return new ConsoleSink(out, ConsoleSink.Format.JSON_LINES, false, capacity, scheduler);
  }

  @Override
  protected Optional<List<String>> deliveredIds() {
    String text = out.text();
    if (text.isEmpty()) {
      return Optional.of(List.of());
    }
    return Optional.of(
        Arrays.stream(text.split("\n")).map(l -> EventJson.fromJson(l).id()).toList());
  }

  @Override
  protected void breakDownstream() {
    out.broken = true;
  }

  private static SecurityEvent sample() {
    return SecurityEvent.builder(EventType.VERIFY_FAILED, Instant.parse("2026-11-23T08:00:00Z"))
        .id("0193a1b2-0000-7000-8000-00000000c0de")
        .host("node-a")
        .pid(77)
        .exe("/usr/bin/tool", 2049, 42, "ab".repeat(32))
        .reason(".text differs")
        .count(3)
        .firstSeen(Instant.parse("2026-11-23T07:59:00Z"))
        .coverage("DISK_HASH", "FAILED", "digest differs")
        .coverage("SIGNATURE", "NOT_VERIFIED", "no signed reference")
        .finding("SECTION_MISMATCH", "ELF_SECTIONS", ".text differs", Map.of("section", ".text"))
        .build();
  }

  @Test
  void humanTextCarriesTheFactsAndNoEscapesWithoutColour() {
    String text = ConsoleSink.render(sample(), false);
    assertThat(text)
        .startsWith("2026-11-23T08:00:00Z VERIFY_FAILED x3 since 2026-11-23T07:59:00Z")
        .contains(
            "pid=77", "/usr/bin/tool", "ino 42", "sha256 " + "ab".repeat(32), ": .text differs")
        .contains(
            "coverage: DISK_HASH=FAILED (digest differs) SIGNATURE=NOT_VERIFIED (no signed reference)")
        .contains("SECTION_MISMATCH [ELF_SECTIONS] .text differs {section=.text}")
        .doesNotContain("\u001b")
        .endsWith("\n");
  }

  @Test
  void detailsReadInKeyOrderWhateverOrderTheyWereMadeIn() {
    // Map.of iterates in an order salted per JVM: the same event must print the same text.
    SecurityEvent e =
        SecurityEvent.builder(EventType.RUNTIME_DRIFT, Instant.parse("2026-11-23T08:00:00Z"))
            .reason("code differs")
            .detail("observed", "mmap")
            .detail("finding", "MEMFD_EXECUTION")
            .detail("check", "live")
            .finding("CODE_MODIFIED", "MEMORY_CODE", "differs", Map.of("z", "1", "a", "2"))
            .build();
    assertThat(ConsoleSink.render(e, false))
        .contains("details: {check=live, finding=MEMFD_EXECUTION, observed=mmap}")
        .contains("differs {a=2, z=1}");
  }

  @Test
  void colourUsesAnsiEscapes() {
    assertThat(ConsoleSink.render(sample(), true)).contains("\u001b[31m", "\u001b[0m");
  }

  @Test
  void colourIsNeverWantedForAStreamThatIsNotStdout() {
    assertThat(ConsoleSink.colourWanted(new PrintStream(new ByteArrayOutputStream()))).isFalse();
  }

  /** A sink without colour writing to {@code bytes}, on a thread of its own. */
  private static ConsoleSink writingTo(ByteArrayOutputStream bytes, ConsoleSink.Format format) {
    return new ConsoleSink(
        new PrintStream(bytes, false, StandardCharsets.UTF_8), format, false, 8, null);
  }

  @Test
  void humanSinkWritesRenderedText() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ConsoleSink sink = writingTo(bytes, ConsoleSink.Format.HUMAN)) {
      sink.emit(sample());
    }
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo(ConsoleSink.render(sample(), false));
  }

  @Test
  void jsonLinesAreTheEventsJsonAndAnEventThatCannotBeWrittenLeavesNoPartialLine() {
    SecurityEvent unwritable =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.parse("2026-11-23T08:00:01Z"))
            .reason("carries a value JSON cannot hold")
            .detail("object", new Object())
            .build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ConsoleSink sink = writingTo(bytes, ConsoleSink.Format.JSON_LINES)) {
      sink.emit(sample());
      sink.emit(unwritable);
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(1);
    }
    String line = EventJson.toJson(sample()) + "\n";
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(line + line);
  }

  @Test
  void aPrintStreamThatSwallowsErrorsStillCountsFailures() {
    PrintStream swallowing =
        new PrintStream(
            new OutputStream() {
              @Override
              public void write(int b) throws IOException {
                throw new IOException("EPIPE");
              }
            });
    try (ConsoleSink sink =
        new ConsoleSink(swallowing, ConsoleSink.Format.JSON_LINES, false, 8, null)) {
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(1);
      assertThat(sink.stats().delivered()).isZero();
    }
  }
}
