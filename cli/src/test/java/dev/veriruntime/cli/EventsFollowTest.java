package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.EventHub;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code events --follow} against a real gRPC server, and the refusal of plain TCP. */
class EventsFollowTest {
  @TempDir Path dir;

  /** Collects output; counts complete lines so a test can wait for them without sleeping. */
  static final class Lines extends Writer {
    final StringBuilder text = new StringBuilder();
    final CountDownLatch expected;

    Lines(int lines) {
      expected = new CountDownLatch(lines);
    }

    @Override
    public synchronized void write(char[] cbuf, int off, int len) {
      for (int i = off; i < off + len; i++) {
        text.append(cbuf[i]);
        if (cbuf[i] == '\n') {
          expected.countDown();
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    synchronized List<String> lines() {
      return text.toString().lines().toList();
    }
  }

  /** An in-memory journal: what was published is durable and replayable. */
  static final class History implements EventHub.History {
    final List<EventFeed.Event> events = new CopyOnWriteArrayList<>();

    @Override
    public long durableSeq() {
      return events.size();
    }

    @Override
    public long firstKept() {
      return 1;
    }

    @Override
    public Stream<EventFeed.Event> replay(long after, long through) {
      return events.stream().filter(e -> e.seq() > after && e.seq() <= through);
    }
  }

  private static SecurityEvent event(EventType type, String reason) {
    return SecurityEvent.builder(type, Instant.parse("2026-12-03T10:00:00Z"))
        .host("node-1")
        .reason(reason)
        .build();
  }

  @Test
  void followPrintsTheAgentsEventsWithTheirSeqAsTheConsoleJson() throws Exception {
    Path apiSocket = dir.resolve("api.sock");
    History history = new History();
    EventHub hub =
        new EventHub(Set.of("UNKNOWN_EXECUTION", "RUNTIME_DRIFT"), history, 64, 4, lost -> {});
    SecurityEvent first = event(EventType.UNKNOWN_EXECUTION, "first");
    SecurityEvent drift = event(EventType.RUNTIME_DRIFT, "not wanted");
    SecurityEvent second = event(EventType.UNKNOWN_EXECUTION, "second");
    Lines out = new Lines(2);
    AtomicInteger exit = new AtomicInteger(-1);
    StringWriter err = new StringWriter();
    try (GrpcServer server =
        GrpcServer.builder(LocalCoreApi.builder().build())
            .feed(hub)
            .socket(GrpcServer.socketBeside(apiSocket))
            .bind()) {
      history.events.add(new EventFeed.Event(1, "UNKNOWN_EXECUTION", EventJson.toJson(first)));
      Thread follower =
          new Thread(
              () -> {
                CommandLine cli = VeriRuntimeCommand.commandLine();
                cli.setOut(new PrintWriter(out, true));
                cli.setErr(new PrintWriter(err, true));
                exit.set(
                    cli.execute(
                        "events",
                        "--follow",
                        "--socket",
                        apiSocket.toString(),
                        "--since",
                        "0",
                        "--type",
                        "UNKNOWN_EXECUTION",
                        "--json"));
              });
      follower.start();
      // Live events after the subscription started.
      while (hub.subscriptions() == 0 && follower.isAlive()) {
        Thread.onSpinWait();
      }
      for (SecurityEvent e : List.of(drift, second)) {
        long seq = history.events.size() + 1;
        history.events.add(new EventFeed.Event(seq, e.type().name(), EventJson.toJson(e)));
        hub.publish(seq, e.type().name(), EventJson.toJson(e));
      }
      assertThat(out.expected.await(30, TimeUnit.SECONDS)).as("stderr: %s", err).isTrue();
      server.close();
      follower.join(TimeUnit.SECONDS.toMillis(30));
    }
    ObjectMapper mapper = new ObjectMapper();
    List<String> lines = out.lines();
    assertThat(lines).hasSize(2);
    JsonNode a = mapper.readTree(lines.get(0));
    JsonNode b = mapper.readTree(lines.get(1));
    assertThat(a.get("seq").asLong()).isEqualTo(1);
    assertThat(EventJson.fromJson(a.get("event").toString())).isEqualTo(first);
    assertThat(b.get("seq").asLong()).isEqualTo(3);
    assertThat(EventJson.fromJson(b.get("event").toString())).isEqualTo(second);
    // The agent went away: said in one line, exit 40.
    assertThat(exit).hasValue(ExitCodes.DAEMON_UNAVAILABLE);
    assertThat(err.toString()).contains("following").doesNotContain("\tat ");
  }

  @Test
  void followWithoutARunningAgentIsOneLineAndExit40() {
    CliRun.of("events", "--follow", "--socket", dir.resolve("none.sock").toString())
        .refused(ExitCodes.DAEMON_UNAVAILABLE);
  }

  @Test
  void sinceWithoutFollowIsAUsageError() {
    CliRun.of("events", "--since", "3").refused(ExitCodes.USAGE);
  }

  @Test
  void plainTcpIsRefusedWithItsOwnExitCode() {
    CliRun run =
        CliRun.of("watch", "--grpc-listen", "127.0.0.1:7443").refused(ExitCodes.TLS_REQUIRED);
    assertThat(run.err()).contains("plain TCP is refused").contains("--tls-client-ca");
    CliRun.of(
            "watch",
            "--grpc-listen",
            "127.0.0.1:7443",
            "--tls-cert",
            dir.resolve("missing.crt").toString(),
            "--tls-key",
            dir.resolve("missing.key").toString(),
            "--tls-client-ca",
            dir.resolve("ca.crt").toString())
        .refused(ExitCodes.TLS_REQUIRED);
    CliRun.of("watch", "--tls-cert", "x.crt").refused(ExitCodes.USAGE);
  }
}
