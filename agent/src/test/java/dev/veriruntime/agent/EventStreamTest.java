package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.EventHub;
import dev.veriruntime.api.GrpcClient;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalOptions;
import dev.veriruntime.sinks.journal.JournalSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's event stream as the daemon wires it: the journal sink publishes durable events to the
 * hub, the journal's files are the replay, a real gRPC server on a Unix socket serves it.
 */
class EventStreamTest {
  private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final AtomicReference<EventHub> hub = new AtomicReference<>();
  private final AtomicLong lost = new AtomicLong();
  private JournalSink journal;
  private Path socket;

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private void start(JournalOptions options) throws Exception {
    journal =
        JournalSink.open(
            dir.resolve("state"),
            options,
            1024,
            64,
            null,
            (seq, e) -> hub.get().publish(seq, e.type().name(), EventJson.toJson(e)));
    open.add(journal);
    Set<String> types = new HashSet<>();
    for (EventType t : EventType.values()) {
      types.add(t.name());
    }
    hub.set(new EventHub(types, new JournalHistory(journal.journal()), 64, 4, lost::addAndGet));
    socket = dir.resolve("run").resolve("api.sock.grpc");
    GrpcServer server =
        GrpcServer.builder(LocalCoreApi.builder().build()).feed(hub.get()).socket(socket).bind();
    open.add(server);
  }

  private GrpcClient client() {
    GrpcClient c = GrpcClient.connect(socket);
    open.add(c);
    return c;
  }

  private static SecurityEvent event(int i, EventType type) {
    return SecurityEvent.builder(type, T0.plusSeconds(i))
        .host("node-1")
        .pid(1000 + i)
        .reason("event " + i)
        .detail("i", i)
        .build();
  }

  private void emit(SecurityEvent e) {
    assertThat(journal.emit(e)).isTrue();
    journal.flush().block(Duration.ofSeconds(10));
  }

  @Test
  void eventsCarryTheirJournalSeqAndTheConsoleJsonLiveAndReplayed() throws Exception {
    start(JournalOptions.defaults());
    SecurityEvent first = event(1, EventType.UNKNOWN_EXECUTION);
    emit(first);
    long firstSeq = journal.journal().evidence(first.id()).orElseThrow().seq();
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(0), Set.of())) {
      assertThat(events.next())
          .isEqualTo(new EventFeed.Event(firstSeq, "UNKNOWN_EXECUTION", EventJson.toJson(first)));
      assertThat(events.next()).isEqualTo(new EventFeed.Live(journal.journal().durableSeq()));
      SecurityEvent second = event(2, EventType.RUNTIME_DRIFT);
      emit(second);
      EventFeed.Event live = (EventFeed.Event) events.next();
      assertThat(live.seq()).isEqualTo(journal.journal().evidence(second.id()).orElseThrow().seq());
      assertThat(live.json()).isEqualTo(EventJson.toJson(second));
      assertThat(EventJson.fromJson(live.json())).isEqualTo(second);
    }
  }

  @Test
  void aClientThatReconnectsGetsEveryEventTheJournalKeptInOrder() throws Exception {
    start(JournalOptions.defaults().withCheckpointEveryRecords(3));
    List<SecurityEvent> emitted = new ArrayList<>();
    List<Long> seen = new ArrayList<>();
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(0), Set.of())) {
      assertThat(events.next()).isInstanceOf(EventFeed.Live.class);
      for (int i = 1; i <= 4; i++) {
        emitted.add(event(i, EventType.UNKNOWN_EXECUTION));
        emit(emitted.get(emitted.size() - 1));
        seen.add(((EventFeed.Event) events.next()).seq());
      }
    }
    // Disconnected; the agent goes on (and writes checkpoints between events).
    for (int i = 5; i <= 9; i++) {
      emitted.add(event(i, EventType.VERIFY_FAILED));
      emit(emitted.get(emitted.size() - 1));
    }
    try (GrpcClient.Events events =
        client().streamEvents(OptionalLong.of(seen.get(seen.size() - 1)), Set.of())) {
      EventFeed.Item item;
      while (!((item = events.next()) instanceof EventFeed.Live)) {
        seen.add(((EventFeed.Event) item).seq());
      }
      emitted.add(event(10, EventType.RUNTIME_DRIFT));
      emit(emitted.get(emitted.size() - 1));
      seen.add(((EventFeed.Event) events.next()).seq());
    }
    List<Long> journaled = new ArrayList<>();
    for (SecurityEvent e : emitted) {
      journaled.add(journal.journal().evidence(e.id()).orElseThrow().seq());
    }
    // Every event exactly once, in journal order; checkpoints take numbers but are not events.
    assertThat(seen).isEqualTo(journaled);
    assertThat(journaled.get(journaled.size() - 1)).isGreaterThan(10);
  }

  @Test
  void aResumeFromBeforeTheOldestKeptFileIsToldWhatIsMissing() throws Exception {
    start(JournalOptions.defaults().withMaxFileBytes(1024).withCheckpointEveryRecords(1000));
    for (int i = 1; i <= 12; i++) {
      emit(event(i, EventType.UNKNOWN_EXECUTION));
    }
    List<Path> files = EvidenceJournal.files(journal.journal().directory());
    assertThat(files).hasSizeGreaterThan(2);
    // An operator archives the oldest file.
    Files.delete(files.get(0));
    long oldest = new JournalHistory(journal.journal()).firstKept();
    assertThat(oldest).isGreaterThan(1);
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(0), Set.of())) {
      EventFeed.Gap gap = (EventFeed.Gap) events.next();
      assertThat(gap.firstAvailable()).isEqualTo(oldest);
      assertThat(gap.reason()).contains("no longer holds seq 1 to " + (oldest - 1));
      EventFeed.Item next = events.next();
      assertThat(next).isInstanceOf(EventFeed.Event.class);
      assertThat(((EventFeed.Event) next).seq()).isGreaterThanOrEqualTo(oldest);
    }
  }

  @Test
  void seqOfReadsOnlyTheLinePrefix() {
    assertThat(JournalHistory.seqOf("{\"seq\":42,\"prev\":\"00\"}")).hasValue(42);
    assertThat(JournalHistory.seqOf("{\"prev\":\"00\",\"seq\":42}")).isEmpty();
    assertThat(JournalHistory.seqOf("{\"seq\":x}")).isEmpty();
  }
}
