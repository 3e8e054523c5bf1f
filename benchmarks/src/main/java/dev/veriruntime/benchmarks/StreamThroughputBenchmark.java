package dev.veriruntime.benchmarks;

import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.EventHub;
import dev.veriruntime.api.GrpcClient;
import dev.veriruntime.api.GrpcServer;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The gRPC event stream's throughput to one client, per event: {@code stream} publishes {@value
 * #BATCH} events (each the JSON of a typical UNKNOWN_EXECUTION alert, about 600 bytes) into the
 * {@link EventHub} and reads them back through a real {@link GrpcServer} on a Unix socket with a
 * {@link GrpcClient} (flow-controlled: the server writes only as fast as the client reads). {@code
 * hubBaseline} does the same through the hub alone (publish, then poll the subscription on this
 * thread): the ratio is the cost of the gRPC transport (protobuf, HTTP/2, the socket, two threads).
 * Events/s = 1000 / (ms/op).
 *
 * <p>The subscription's queue holds a whole batch, so the benchmark never measures a cut-off.
 */
public class StreamThroughputBenchmark extends AbstractBenchmark {
  static final int BATCH = 10_000;

  static final String JSON =
      EventJson.toJson(
          SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.parse("2026-12-03T10:00:00Z"))
              .host("build-7")
              .pid(4242)
              .reason("no trusted reference for sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
              .detail("argv", "/tmp/x --flag")
              .detail("ppid", 4000)
              .detail("cgroup", "/system.slice/build-runner.service")
              .detail("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
              .detail(
                  "window", Map.of("from", "2026-12-03T09:59:50Z", "to", "2026-12-03T10:00:00Z"))
              .build());

  static EventHub hub() {
    return new EventHub(
        Set.of(EventType.UNKNOWN_EXECUTION.name()),
        new NoHistory(),
        BATCH * 2,
        4,
        lost -> {
          throw new IllegalStateException("a benchmark stream was cut off: " + lost);
        });
  }

  /** A hub with one gRPC client on a Unix socket. */
  @State(Scope.Benchmark)
  public static class Grpc {
    Path dir;
    EventHub hub;
    GrpcServer server;
    GrpcClient client;
    GrpcClient.Events events;
    long seq;

    @Setup(Level.Trial)
    public void setUp() throws IOException, ApiException {
      dir = Files.createTempDirectory("vr-stream-bench");
      hub = hub();
      Path socket = dir.resolve("api.sock.grpc");
      server = GrpcServer.builder(LocalCoreApi.builder().build()).feed(hub).socket(socket).bind();
      client = GrpcClient.connect(socket);
      events = client.streamEvents(OptionalLong.empty(), Set.of());
      if (!(events.next() instanceof EventFeed.Live)) {
        throw new IllegalStateException("the stream did not start live");
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      events.close();
      client.close();
      server.close();
      Files.deleteIfExists(dir.resolve("api.sock.grpc.lock"));
      Files.deleteIfExists(dir);
    }
  }

  /** A hub with one subscription read on the benchmark thread. */
  @State(Scope.Benchmark)
  public static class Direct {
    EventHub hub;
    EventFeed.Subscription subscription;
    long seq;

    @Setup(Level.Trial)
    public void setUp() throws ApiException {
      hub = hub();
      subscription = hub.subscribe(OptionalLong.empty(), Set.of(), () -> {});
      subscription.poll(); // the Live marker
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      subscription.close();
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void stream(Grpc g, Blackhole bh) throws ApiException {
    long first = g.seq + 1;
    for (int i = 0; i < BATCH; i++) {
      g.hub.publish(++g.seq, "UNKNOWN_EXECUTION", JSON);
    }
    for (long want = first; want <= g.seq; ) {
      EventFeed.Item item = g.events.next();
      if (item instanceof EventFeed.Event e) {
        if (e.seq() != want) {
          throw new IllegalStateException("expected seq " + want + ", got " + e.seq());
        }
        bh.consume(e.json());
        want++;
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void hubBaseline(Direct d, Blackhole bh) {
    for (int i = 0; i < BATCH; i++) {
      d.hub.publish(++d.seq, "UNKNOWN_EXECUTION", JSON);
    }
    EventFeed.Item item;
    while ((item = d.subscription.poll()) != null) {
      bh.consume(item);
    }
  }

  /** No journal: live events only. */
  private static final class NoHistory implements EventHub.History {
    @Override
    public long durableSeq() {
      return 0;
    }

    @Override
    public long firstKept() {
      return 1;
    }

    @Override
    public Stream<EventFeed.Event> replay(long after, long through) {
      return Stream.empty();
    }
  }
}
