package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.api.ApiException.Code;
import dev.veriruntime.api.grpc.v1.SubmitAlertReply;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every call and the stream through a real {@link GrpcServer} on a Unix socket (and TCP+mTLS). */
class GrpcServerTest {
  private static final Set<String> TYPES = Set.of("UNKNOWN_EXECUTION", "RUNTIME_DRIFT");

  @TempDir Path dir;
  private Path socket;
  private LocalCoreApi local;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final Journal journal = new Journal();
  private final AtomicLong eventsLostByCuts = new AtomicLong();

  /** A journal in memory: appended events are durable at once; the oldest may be "rotated out". */
  static final class Journal implements EventHub.History {
    final List<EventFeed.Event> records = new CopyOnWriteArrayList<>();
    volatile long firstKept = 1;

    EventFeed.Event append(String type, String json) {
      EventFeed.Event e = new EventFeed.Event(records.size() + 1, type, json);
      records.add(e);
      return e;
    }

    @Override
    public long durableSeq() {
      return records.size();
    }

    @Override
    public long firstKept() {
      return firstKept;
    }

    @Override
    public Stream<EventFeed.Event> replay(long after, long through) {
      return records.stream()
          .filter(e -> e.seq() > Math.max(after, firstKept - 1) && e.seq() <= through);
    }
  }

  @BeforeEach
  void setUp() {
    socket = dir.resolve("run").resolve("api.sock.grpc");
    local =
        LocalCoreApi.builder()
            .verifyProcess(
                pid -> {
                  if (pid != 4242) {
                    throw new NoSuchElementException("no process " + pid);
                  }
                  return Map.of("pid", pid, "verdict", "DEGRADED");
                })
            .verifyBinary(target -> Map.of("target", target, "size", 5L))
            .evidence(ref -> ref.equals("7") ? Optional.of(Map.of("seq", 7)) : Optional.empty())
            .runtimeState(() -> List.of(Map.of("pid", 1, "verdict", "VERIFIED")))
            .health(() -> Map.of("status", "ok"))
            .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  private EventHub hub(int queue) {
    return new EventHub(TYPES, journal, queue, 4, eventsLostByCuts::addAndGet);
  }

  private GrpcServer serve(EventHub hub, Consumer<GrpcServer.Builder> settings) throws IOException {
    GrpcServer.Builder b = GrpcServer.builder(local).feed(hub).socket(socket);
    settings.accept(b);
    return closeLater(b.bind());
  }

  private GrpcClient client() {
    return closeLater(GrpcClient.connect(socket));
  }

  private EventFeed.Event publish(EventHub hub, String type, String json) {
    EventFeed.Event e = journal.append(type, json);
    hub.publish(e.seq(), e.type(), e.json());
    return e;
  }

  @Test
  void everyUnaryCallAnswersWhatTheInProcessApiAnswers() throws Exception {
    serve(hub(16), b -> {});
    GrpcClient client = client();
    assertThat(client.verifyProcess(4242)).isEqualTo(local.verifyProcess(4242));
    assertThat(client.verifyBinary("/usr/bin/ls")).isEqualTo(local.verifyBinary("/usr/bin/ls"));
    assertThat(client.verifyBinary("8388609:1310722"))
        .isEqualTo(local.verifyBinary("8388609:1310722"));
    assertThat(client.getEvidence("7")).isEqualTo(local.getEvidence("7"));
    assertThat(client.listRuntimeState()).isEqualTo(local.listRuntimeState());
    assertThat(client.health()).isEqualTo(local.health());
    assertThat(Files.getPosixFilePermissions(socket))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
  }

  @Test
  void errorsKeepTheirCodeAndMessage() throws Exception {
    serve(hub(16), b -> {});
    GrpcClient client = client();
    ApiException missing = catchApi(() -> client.verifyProcess(7));
    ApiException inProcess = catchApi(() -> local.verifyProcess(7));
    assertThat(missing.code()).isEqualTo(Code.NOT_FOUND).isEqualTo(inProcess.code());
    assertThat(missing.getMessage()).isEqualTo(inProcess.getMessage());
    assertThat(catchApi(() -> client.getEvidence("8")).code()).isEqualTo(Code.NOT_FOUND);
    assertThat(catchApi(() -> client.verifyProcess(-1)).code()).isEqualTo(Code.BAD_REQUEST);
  }

  @Test
  void submitAlertGoesToTheIntakeAndWithoutOneIsUnavailable() throws Exception {
    serve(hub(16), b -> {});
    assertThatThrownBy(() -> client().submitAlert("edr", "{}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> assertThat(e.getMessage()).contains("alert intake is not enabled"));

    dev.veriruntime.api.intake.AlertIntake intake =
        dev.veriruntime.api.intake.AlertIntake.builder().build();
    Path withIntake = dir.resolve("run").resolve("intake.sock.grpc");
    serve(hub(16), b -> b.alertIntake(intake).socket(withIntake));
    GrpcClient client = closeLater(GrpcClient.connect(withIntake));
    String alert =
        "{\"source\":\"acme\",\"id\":\"A-7\",\"pid\":" + ProcessHandle.current().pid() + "}";
    SubmitAlertReply accepted = client.submitAlert("edr", alert.getBytes(StandardCharsets.UTF_8));
    assertThat(accepted.getAccepted()).isTrue();
    assertThat(accepted.getAlertId()).isEqualTo("A-7");
    assertThat(accepted.getReason()).isEqualTo("VERIFYING");
    assertThat(accepted.getReceiptJson()).contains("\"source\":\"acme\"");
    assertThat(intake.accepted().blockFirst(java.time.Duration.ofSeconds(5)).peer())
        .isEqualTo("grpc");

    SubmitAlertReply refused = client.submitAlert("edr", "{}".getBytes(StandardCharsets.UTF_8));
    assertThat(refused.getAccepted()).isFalse();
    assertThat(refused.getReason()).contains("missing field source");
    assertThat(refused.getReceiptJson()).isEmpty();
  }

  @Test
  void aStreamReplaysThenFollowsLiveAndFilters() throws Exception {
    EventHub hub = hub(64);
    serve(hub, b -> {});
    publish(hub, "UNKNOWN_EXECUTION", "{\"n\":1}");
    publish(hub, "RUNTIME_DRIFT", "{\"n\":2}");
    publish(hub, "UNKNOWN_EXECUTION", "{\"n\":3}");
    try (GrpcClient.Events events =
        client().streamEvents(OptionalLong.of(0), Set.of("UNKNOWN_EXECUTION"))) {
      assertThat(events.next()).isEqualTo(new EventFeed.Event(1, "UNKNOWN_EXECUTION", "{\"n\":1}"));
      assertThat(events.next()).isEqualTo(new EventFeed.Event(3, "UNKNOWN_EXECUTION", "{\"n\":3}"));
      assertThat(events.next()).isEqualTo(new EventFeed.Live(3));
      publish(hub, "RUNTIME_DRIFT", "{\"n\":4}");
      publish(hub, "UNKNOWN_EXECUTION", "{\"n\":5}");
      assertThat(events.next()).isEqualTo(new EventFeed.Event(5, "UNKNOWN_EXECUTION", "{\"n\":5}"));
    }
    try (GrpcClient.Events liveOnly = client().streamEvents(OptionalLong.empty(), Set.of())) {
      assertThat(liveOnly.next()).isEqualTo(new EventFeed.Live(5));
      publish(hub, "RUNTIME_DRIFT", "{\"n\":6}");
      assertThat(liveOnly.next()).isEqualTo(new EventFeed.Event(6, "RUNTIME_DRIFT", "{\"n\":6}"));
    }
    assertThat(catchApi(() -> client().streamEvents(OptionalLong.empty(), Set.of("NOPE")).next()))
        .satisfies(e -> assertThat(e.code()).isEqualTo(Code.BAD_REQUEST))
        .satisfies(e -> assertThat(e.getMessage()).contains("unknown event type \"NOPE\""));
  }

  @Test
  void aClientThatReconnectsMissesNothingTheJournalKept() throws Exception {
    EventHub hub = hub(64);
    serve(hub, b -> {});
    List<Long> seen = new ArrayList<>();
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(0), Set.of())) {
      assertThat(events.next()).isEqualTo(new EventFeed.Live(0));
      for (int i = 1; i <= 5; i++) {
        publish(hub, "RUNTIME_DRIFT", "{\"n\":" + i + "}");
      }
      for (int i = 0; i < 3; i++) {
        seen.add(((EventFeed.Event) events.next()).seq());
      }
    }
    // Disconnected after seq 3; the agent goes on.
    for (int i = 6; i <= 9; i++) {
      publish(hub, "RUNTIME_DRIFT", "{\"n\":" + i + "}");
    }
    try (GrpcClient.Events events =
        client().streamEvents(OptionalLong.of(seen.get(seen.size() - 1)), Set.of())) {
      EventFeed.Item item;
      while (!((item = events.next()) instanceof EventFeed.Live)) {
        seen.add(((EventFeed.Event) item).seq());
      }
      assertThat(item).isEqualTo(new EventFeed.Live(9));
      publish(hub, "RUNTIME_DRIFT", "{\"n\":10}");
      seen.add(((EventFeed.Event) events.next()).seq());
    }
    assertThat(seen).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
  }

  @Test
  void aClientAskingForMoreThanTheJournalKeptIsToldSo() throws Exception {
    EventHub hub = hub(64);
    serve(hub, b -> {});
    for (int i = 1; i <= 6; i++) {
      publish(hub, "RUNTIME_DRIFT", "{\"n\":" + i + "}");
    }
    journal.firstKept = 5; // seq 1..4 rotated out
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(2), Set.of())) {
      EventFeed.Gap gap = (EventFeed.Gap) events.next();
      assertThat(gap.requestedSince()).isEqualTo(2);
      assertThat(gap.firstAvailable()).isEqualTo(5);
      assertThat(gap.reason()).contains("no longer holds seq 3 to 4");
      assertThat(events.next()).extracting(i -> ((EventFeed.Event) i).seq()).isEqualTo(5L);
      assertThat(events.next()).extracting(i -> ((EventFeed.Event) i).seq()).isEqualTo(6L);
      assertThat(events.next()).isEqualTo(new EventFeed.Live(6));
    }
    try (GrpcClient.Events events = client().streamEvents(OptionalLong.of(99), Set.of())) {
      EventFeed.Gap gap = (EventFeed.Gap) events.next();
      assertThat(gap.reason()).contains("the journal ends at seq 6");
      assertThat(events.next()).isEqualTo(new EventFeed.Live(6));
    }
  }

  @Test
  void aSlowClientIsCutOffWithAReasonAndCountedWhileOthersKeepUp() throws Exception {
    EventHub hub = hub(32);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    GrpcServer server = serve(hub, b -> b.meterRegistry(meters));
    GrpcClient slowClient = client();
    GrpcClient.Events slow = slowClient.streamEvents(OptionalLong.empty(), Set.of());
    closeLater(slow);
    assertThat(slow.next()).isEqualTo(new EventFeed.Live(0));
    GrpcClient.Events fast = closeLater(client().streamEvents(OptionalLong.empty(), Set.of()));
    assertThat(fast.next()).isEqualTo(new EventFeed.Live(0));
    // The slow client reads nothing: the transport fills (flow control), then its queue, and it
    // is cut off. Publishing never waits for it; the fast client reads each event as it comes.
    String big = "{\"pad\":\"" + "x".repeat(16 * 1024) + "\"}";
    long published = 0;
    while (hub.cutOffs() == 0 && published < 100_000) {
      EventFeed.Event e = publish(hub, "RUNTIME_DRIFT", big);
      published++;
      assertThat(fast.next()).isEqualTo(e);
    }
    assertThat(hub.cutOffs()).isEqualTo(1);
    assertThat(eventsLostByCuts).hasValue(33); // the queue of 32 and the event that did not fit
    // The slow client now reads what the transport held, then the reason.
    long lastSeq = 0;
    ApiException cut = null;
    try {
      while (slow.hasNext()) {
        lastSeq = ((EventFeed.Event) slow.next()).seq();
      }
    } catch (ApiException e) {
      cut = e;
    }
    assertThat(cut).isNotNull();
    assertThat(cut.getCause())
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(cut.getMessage())
        .contains("fell behind")
        .contains("resume with since_seq=" + lastSeq);
    assertThat(lastSeq).isLessThan(published);
    assertThat(server.streamsCut()).isEqualTo(1);
    assertThat(meters.get("veriruntime.grpc.streams.cut").functionCounter().count()).isEqualTo(1.0);
    // The fast client is still served.
    EventFeed.Event after = publish(hub, "RUNTIME_DRIFT", "{}");
    assertThat(fast.next()).isEqualTo(after);
  }

  @Test
  void aRefusedPeerGetsPermissionDeniedOnEveryCall() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    EventHub hub = hub(16);
    GrpcServer server =
        serve(
            hub,
            b -> b.peerPolicy(new PeerPolicy(Set.of(12345), Set.of(54321))).meterRegistry(meters));
    GrpcClient client = client();
    ApiException refused = catchApi(client::health);
    assertThat(refused.code()).isEqualTo(Code.FORBIDDEN);
    assertThat(refused.getMessage()).contains("uid 0").contains("not allowed");
    assertThat(catchApi(() -> client.streamEvents(OptionalLong.of(0), Set.of()).next()).code())
        .isEqualTo(Code.FORBIDDEN);
    assertThat(hub.subscriptions()).isZero();
    assertThat(server.refusedConnections()).isEqualTo(1);
    assertThat(meters.get("veriruntime.grpc.peers.refused").functionCounter().count())
        .isEqualTo(1.0);
  }

  @Test
  void tcpNeedsAClientCertificateFromTheGivenAuthority() throws Exception {
    TestCertificates.Issued ca = TestCertificates.authority(dir, "ca");
    TestCertificates.Issued serverCert = TestCertificates.leaf(dir, "server", ca);
    TestCertificates.Issued goodClient = TestCertificates.leaf(dir, "client", ca);
    TestCertificates.Issued otherCa = TestCertificates.authority(dir, "other-ca");
    TestCertificates.Issued wrongClient = TestCertificates.leaf(dir, "intruder", otherCa);
    GrpcServer server =
        closeLater(
            GrpcServer.builder(local)
                .feed(hub(16))
                .tcp(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new GrpcServer.Tls(serverCert.certFile(), serverCert.keyFile(), ca.certFile()))
                .bind());
    InetSocketAddress address = server.tcpAddress().orElseThrow();
    assertThat(server.socket()).isEmpty();

    GrpcClient good =
        closeLater(
            GrpcClient.connectTls(
                address, goodClient.certFile(), goodClient.keyFile(), ca.certFile()));
    assertThat(good.health()).isEqualTo(local.health());

    GrpcClient wrong =
        closeLater(
            GrpcClient.connectTls(
                address, wrongClient.certFile(), wrongClient.keyFile(), ca.certFile()));
    ApiException refused = catchApi(wrong::health);
    assertThat(refused.code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(refused.getCause()).isInstanceOf(StatusRuntimeException.class);
  }

  @Test
  void aSecondServerOnTheSameSocketIsRefusedAndTheFileIsRemovedOnClose() throws Exception {
    GrpcServer first = serve(hub(16), b -> {});
    assertThatThrownBy(() -> GrpcServer.builder(local).socket(socket).bind())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("another daemon is listening");
    first.close();
    assertThat(socket).doesNotExist();
  }

  private ManagedChannel rawChannel() {
    EpollEventLoopGroup loop = new EpollEventLoopGroup(1);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(loop)
            .usePlaintext()
            .build();
    closeables.add(
        () -> {
          channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
          loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        });
    return channel;
  }

  @FunctionalInterface
  interface ApiCall {
    Object run() throws ApiException;
  }

  private static ApiException catchApi(ApiCall call) {
    try {
      call.run();
    } catch (ApiException e) {
      return e;
    }
    throw new AssertionError("expected an ApiException");
  }
}
