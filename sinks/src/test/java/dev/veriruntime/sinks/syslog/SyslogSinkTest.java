package dev.veriruntime.sinks.syslog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SinkStats;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyslogSinkTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  @TempDir Path dir;

  private static SecurityEvent drift() {
    return SecurityEvent.builder(
            EventType.RUNTIME_DRIFT, Instant.parse("2026-11-23T08:00:00.123456789Z"))
        .id("0193a1b2-0000-7000-8000-0000000000d1")
        .host("node-a")
        .pid(77)
        .exe("/opt/app/bin/\"odd]\\name", 2049, 42, "ab".repeat(32))
        .reason("code in memory differs from the file")
        .count(3)
        .firstSeen(Instant.parse("2026-11-23T07:59:00Z"))
        .build();
  }

  private static void assertDrift(SyslogMessage m) {
    assertThat(m.pri()).isEqualTo(SyslogSink.AUTHPRIV * 8 + 2);
    assertThat(m.version()).isEqualTo(1);
    assertThat(m.timestamp()).isEqualTo("2026-11-23T08:00:00.123456Z");
    assertThat(m.host()).isEqualTo("node-a");
    assertThat(m.app()).isEqualTo("veriruntime");
    assertThat(m.procId()).isEqualTo(Long.toString(ProcessHandle.current().pid()));
    assertThat(m.msgId()).isEqualTo("RUNTIME_DRIFT");
    assertThat(m.sdId()).isEqualTo(Rfc5424Encoder.SD_ID);
    assertThat(m.params())
        .containsEntry("id", "0193a1b2-0000-7000-8000-0000000000d1")
        .containsEntry("count", "3")
        .containsEntry("firstSeen", "2026-11-23T07:59:00Z")
        .containsEntry("pid", "77")
        .containsEntry("exe", "/opt/app/bin/\"odd]\\name")
        .containsEntry("ino", "42")
        .containsEntry("sha256", "ab".repeat(32));
    assertThat(m.msg()).isEqualTo("code in memory differs from the file");
  }

  @Test
  void everyTransportDeliversAParseableRfc5424Message() throws Exception {
    List<SyslogReceiver> receivers =
        List.of(
            SyslogReceiver.udp(),
            SyslogReceiver.tcp(),
            SyslogReceiver.unixDatagram(dir),
            SyslogReceiver.unixStream(dir));
    try {
      for (SyslogReceiver r : receivers) {
        try (SyslogSink sink = SyslogSink.open(r.target(), SyslogSink.AUTHPRIV, null)) {
          assertThat(sink.emit(drift())).isTrue();
          sink.flush().block(WAIT);
          assertThat(sink.stats().delivered()).as(r.target().toString()).isEqualTo(1);
        }
        List<String> got = r.await(1, WAIT);
        assertThat(got).as(r.target().toString()).hasSize(1);
        assertDrift(SyslogMessage.parse(got.get(0)));
      }
    } finally {
      receivers.forEach(SyslogReceiver::close);
    }
  }

  @Test
  void severityFollowsTheEventType() {
    assertThat(Rfc5424Encoder.severity(EventType.SELF_INTEGRITY_FAILURE)).isEqualTo(1);
    assertThat(Rfc5424Encoder.severity(EventType.VERIFY_FAILED)).isEqualTo(3);
    assertThat(Rfc5424Encoder.severity(EventType.UNKNOWN_EXECUTION)).isEqualTo(4);
    assertThat(Rfc5424Encoder.severity(EventType.VERIFICATION_DEGRADED)).isEqualTo(5);
  }

  @Test
  void longMessagesAreCutOnACharacterBoundary() {
    Rfc5424Encoder enc = new Rfc5424Encoder(SyslogSink.AUTHPRIV, "veriruntime", "1", "h", 480);
    SecurityEvent e =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.EPOCH)
            .reason("é".repeat(1000))
            .build();
    byte[] bytes = enc.encode(e);
    assertThat(bytes.length).isBetween(479, 480);
    String text = new String(bytes, StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("\uFFFD").endsWith("é");
    assertThat(SyslogMessage.parse(text).host()).isEqualTo("h"); // empty host falls back
  }

  @Test
  void headerFieldsAreSanitised() {
    assertThat(Rfc5424Encoder.headerField("my host\tname", 255)).isEqualTo("my_host_name");
    assertThat(Rfc5424Encoder.headerField("", 10)).isEqualTo("-");
    assertThat(Rfc5424Encoder.headerField("x".repeat(40), 32)).hasSize(32);
  }

  @Test
  void tcpReceiverGoneMeansFailuresCountedAndReconnectAttempted() throws Exception {
    SyslogReceiver r = SyslogReceiver.tcp();
    try (SyslogSink sink = SyslogSink.open(r.target(), SyslogSink.AUTHPRIV, null)) {
      sink.emit(drift());
      sink.flush().block(WAIT);
      assertThat(r.await(1, WAIT)).hasSize(1);
      r.close();
      // Writes into the dead connection are taken by the kernel until the receiver's reset comes
      // back (how many depends on the machine: one to four here), then one fails.
      int sent = 1;
      while (sink.stats().failed() == 0 && sent < 50) {
        sink.emit(drift());
        sink.flush().block(WAIT);
        sent++;
        Thread.sleep(10);
      }
      assertThat(sink.stats().failed()).as("a write after the receiver closed").isEqualTo(1);
      // From then on every event reconnects first, and the closed port refuses each one.
      for (int i = 0; i < 3; i++) {
        sink.emit(drift());
      }
      sink.flush().block(WAIT);
      SinkStats st = sink.stats();
      assertThat(st.failed()).isEqualTo(4);
      assertThat(st.delivered() + st.failed()).isEqualTo(sent + 3);
      assertThat(st.lastFailure()).isNotBlank();
    } finally {
      r.close();
    }
  }
}
