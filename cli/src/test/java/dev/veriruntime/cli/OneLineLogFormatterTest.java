package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class OneLineLogFormatterTest {
  private static final Instant AT = Instant.parse("2026-12-03T13:05:00.123456Z");

  private static LogRecord record(Level level, String logger, String message, Object... params) {
    LogRecord r = new LogRecord(level, message);
    r.setInstant(AT);
    r.setLoggerName(logger);
    r.setParameters(params.length == 0 ? null : params);
    return r;
  }

  @Test
  void oneLineWithTimeLevelAndShortLoggerName() {
    String out =
        new OneLineLogFormatter(false)
            .format(
                record(
                    Level.WARNING,
                    "dev.veriruntime.ingest.Probe",
                    "optional program {0} not attached: {1}",
                    "mmap",
                    "no tracefs"));
    assertThat(out)
        .isEqualTo(
            "2026-12-03T13:05:00.123Z WARN  Probe: optional program mmap not attached: no tracefs"
                + System.lineSeparator());
  }

  @Test
  void multiLineMessagesAreFoldedAndTrailingNewlinesDropped() {
    String out =
        new OneLineLogFormatter(false)
            .format(
                record(
                    Level.INFO,
                    "dev.veriruntime.ingest.libbpf",
                    "libbpf: prog 'x': load failed\n-- BEGIN PROG LOAD LOG --\r\n0: R1=ctx\n\n"));
    assertThat(out.lines()).hasSize(1);
    assertThat(out)
        .endsWith(
            "INFO  libbpf: libbpf: prog 'x': load failed | -- BEGIN PROG LOAD LOG -- | 0: R1=ctx"
                + System.lineSeparator());
  }

  @Test
  void aThrowableAddsItsMessageAndRootCauseAndItsStackOnlyWhenDebugging() {
    LogRecord r = record(Level.SEVERE, "dev.veriruntime.agent.Daemon", "sink failed");
    r.setThrown(new UncheckedIOException("cannot write", new IOException("disk\nfull")));
    String quiet = new OneLineLogFormatter(false).format(r);
    assertThat(quiet.lines()).hasSize(1);
    assertThat(quiet)
        .contains(
            "ERROR Daemon: sink failed (UncheckedIOException: cannot write; caused by"
                + " IOException: disk | full)");
    String debug = new OneLineLogFormatter(true).format(r);
    assertThat(debug.lines().findFirst()).hasValue(quiet.stripTrailing());
    assertThat(debug).contains("\tat dev.veriruntime.cli.OneLineLogFormatterTest");
  }

  @Test
  void levelsAndNamesMapToShortForms() {
    assertThat(OneLineLogFormatter.levelName(Level.FINE)).isEqualTo("DEBUG");
    assertThat(OneLineLogFormatter.levelName(Level.CONFIG)).isEqualTo("DEBUG");
    assertThat(OneLineLogFormatter.levelName(Level.FINEST)).isEqualTo("TRACE");
    assertThat(OneLineLogFormatter.shortName(null)).isEqualTo("root");
    assertThat(OneLineLogFormatter.shortName("Plain")).isEqualTo("Plain");
    assertThat(ConsoleLogging.level("debug")).isEqualTo(Level.FINE);
    assertThat(ConsoleLogging.level(null)).isEqualTo(Level.INFO);
    assertThat(ConsoleLogging.level("loud")).isEqualTo(Level.INFO);
  }
}
