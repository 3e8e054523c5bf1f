package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException.Code;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

class ApiServerTest {

  /**
   * What a verifier might return: nested records, enums, an Instant, longs beyond int, a double.
   */
  record ProcessView(
      int pid,
      String verdict,
      FileIdentity exe,
      Coverage coverage,
      List<Finding> findings,
      Instant checkedAt,
      double score) {}

  record StateEntry(int pid, String exe, String verdict) {}

  @TempDir Path dir;
  private Path socket;
  private final List<String> callThreads = new CopyOnWriteArrayList<>();
  private LocalCoreApi local;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp() {
    socket = dir.resolve("run").resolve("api.sock");
    local =
        LocalCoreApi.builder()
            .verifyProcess(
                pid -> {
                  callThreads.add(Thread.currentThread().getName());
                  if (pid != 4242) {
                    throw new NoSuchElementException("no process " + pid);
                  }
                  return new ProcessView(
                      pid,
                      "DEGRADED",
                      new FileIdentity(
                          FileIdentity.kernelDev(259, 2),
                          1_310_722L,
                          1_732_000_000_123_456_789L,
                          141_936L),
                      Coverage.of(
                          ScopeResult.notVerified(Scope.MEMORY_CODE, "process exited"),
                          ScopeResult.verified(Scope.DISK_HASH)),
                      List.of(
                          new Finding(
                              FindingType.values()[0],
                              Scope.MEMORY_MAP,
                              "anonymous executable mapping",
                              Map.of("range", "7f00-7f01"))),
                      Instant.parse("2026-11-23T08:00:00.123456789Z"),
                      0.75);
                })
            .verifyBinary(
                target -> {
                  if (target.equals("/missing")) {
                    throw new java.nio.file.NoSuchFileException(target);
                  }
                  return Map.of(
                      "target",
                      target,
                      "sha256",
                      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                      "size",
                      5L);
                })
            .evidence(
                ref ->
                    ref.equals("7")
                        ? Optional.of(Map.of("seq", 7, "hash", "ab12", "prev", "cd34"))
                        : Optional.empty())
            .runtimeState(
                () ->
                    List.of(
                        new StateEntry(1, "/sbin/init", "VERIFIED"),
                        new StateEntry(4242, "/usr/bin/ls", "UNKNOWN")))
            .health(
                () -> {
                  callThreads.add(Thread.currentThread().getName());
                  return Map.of("status", "ok", "eventsLost", 0L);
                })
            .build();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private ApiServer serve(Consumer<ApiServer.Builder> settings) throws IOException {
    ApiServer.Builder builder = ApiServer.builder(local).socket(socket);
    settings.accept(builder);
    ApiServer server = builder.bind();
    closeables.add(server);
    return server;
  }

  private ApiClient client() {
    ApiClient client = ApiClient.connect(socket, Duration.ofSeconds(10));
    closeables.add(0, client);
    return client;
  }

  @FunctionalInterface
  interface ApiCall {
    JsonNode call(CoreApi api) throws ApiException;
  }

  private static final List<ApiCall> CALLS =
      List.of(
          CoreApi::health,
          CoreApi::listRuntimeState,
          api -> api.verifyProcess(4242),
          api -> api.verifyBinary("/usr/bin/with space+plus&amp?=%"),
          api -> api.verifyBinary("8388609:1310722"),
          api -> api.getEvidence("7"));

  @Test
  void aHostHeaderIsWellFormedWhenReactorNettyCanReadItsPort() {
    assertThat(ApiServer.wellFormedHost("localhost")).isTrue();
    assertThat(ApiServer.wellFormedHost("localhost:8080")).isTrue();
    assertThat(ApiServer.wellFormedHost("[::1]")).isTrue();
    assertThat(ApiServer.wellFormedHost("[::1]:65535")).isTrue();
    assertThat(ApiServer.wellFormedHost("a: b")).isFalse();
    assertThat(ApiServer.wellFormedHost("localhost:")).isFalse();
    assertThat(ApiServer.wellFormedHost("localhost:65536")).isFalse();
    assertThat(ApiServer.wellFormedHost("[::1]:x")).isFalse();
    // The port is what follows the first ':' outside an IPv6 literal, whatever comes later.
    assertThat(ApiServer.wellFormedHost("a:1:2")).isFalse();
    assertThat(ApiServer.wellFormedHost("a: \\E]\\E]]]chunked")).isFalse();
  }

  @Test
  void everyCallOverTheSocketPrintsTheSameJsonAsInProcess() throws Exception {
    serve(b -> {});
    ApiClient client = client();
    for (ApiCall call : CALLS) {
      JsonNode inProcess = call.call(local);
      JsonNode remote = call.call(client);
      assertThat(remote).isEqualTo(inProcess);
      assertThat(ApiJson.mapper().writeValueAsString(remote))
          .isEqualTo(ApiJson.mapper().writeValueAsString(inProcess));
    }
    JsonNode process = client.verifyProcess(4242);
    assertThat(process.get("checkedAt").asText()).isEqualTo("2026-11-23T08:00:00.123456789Z");
    assertThat(process.get("exe").get("ctimeNanos").asLong()).isEqualTo(1_732_000_000_123_456_789L);
    assertThat(ApiJson.mapper().writeValueAsString(process.get("coverage")))
        .as("the event's coverage shape, in scope order")
        .isEqualTo(
            "{\"DISK_HASH\":{\"status\":\"VERIFIED\",\"reason\":\"\"},\"MEMORY_CODE\":{\"status\":\"NOT_VERIFIED\",\"reason\":\"process exited\"}}");
    assertThat(client.verifyBinary("/usr/bin/with space+plus&amp?=%").get("target").asText())
        .isEqualTo("/usr/bin/with space+plus&amp?=%");
  }

  @FunctionalInterface
  interface FailingCall {
    void call(CoreApi api) throws ApiException;
  }

  @Test
  void errorsOverTheSocketAreTheSameApiExceptionsAsInProcess() throws Exception {
    serve(b -> {});
    ApiClient client = client();
    Map<Code, List<FailingCall>> failures =
        Map.of(
            Code.NOT_FOUND,
                List.of(
                    api -> api.verifyProcess(1),
                    api -> api.verifyBinary("/missing"),
                    api -> api.getEvidence("8")),
            Code.BAD_REQUEST,
                List.of(
                    api -> api.verifyProcess(0),
                    api -> api.verifyProcess(-5),
                    api -> api.verifyBinary("relative/path"),
                    api -> api.verifyBinary(""),
                    api -> api.verifyBinary("12:x"),
                    api -> api.getEvidence("../etc/passwd"),
                    api -> api.getEvidence("")));
    for (var entry : failures.entrySet()) {
      for (FailingCall call : entry.getValue()) {
        ApiException inProcess = catchApi(() -> call.call(local));
        ApiException remote = catchApi(() -> call.call(client));
        assertThat(inProcess.code()).isEqualTo(entry.getKey());
        assertThat(remote.code()).isEqualTo(inProcess.code());
        assertThat(remote.getMessage()).isEqualTo(inProcess.getMessage());
      }
    }
  }

  @Test
  void callsRunOnTheBoundedSchedulerNotTheEventLoop() throws Exception {
    serve(b -> {});
    client().health();
    assertThat(callThreads).singleElement().asString().startsWith("veriruntime-api-call");
  }

  @Test
  void aRefusedPeerGets403AndTheServerKeepsServing() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ApiServer server =
        serve(
            b -> b.peerPolicy(new PeerPolicy(Set.of(12345), Set.of(54321))).meterRegistry(meters));
    Raw first = Raw.get(socket, "/v1/health");
    assertThat(first.status).isEqualTo(403);
    assertThat(first.json().get("error").asText()).isEqualTo("FORBIDDEN");
    assertThat(first.json().get("message").asText()).contains("uid 0").contains("not allowed");

    ApiException viaClient = catchApi(() -> client().verifyProcess(4242));
    assertThat(viaClient.code()).isEqualTo(Code.FORBIDDEN);

    assertThat(Raw.get(socket, "/v1/state").status).isEqualTo(403);
    assertThat(server.refusedConnections()).isEqualTo(3);
    assertThat(meters.get("veriruntime.api.peers.refused").functionCounter().count())
        .isEqualTo(3.0);
    assertThat(callThreads).as("no refused call reached the API").isEmpty();
  }

  @Test
  void theDefaultPolicyAdmitsRoot() throws Exception {
    ApiServer server = serve(b -> {});
    assertThat(Raw.get(socket, "/v1/health").status).isEqualTo(200);
    assertThat(server.refusedConnections()).isZero();
  }

  @Test
  void malformedRequestsGetJsonErrorsAndTheServerKeepsServing() throws Exception {
    ApiServer server = serve(b -> {});
    record Case(String request, int status, String error, String messagePart) {}
    String hugeHeader = "X-Filler: " + "a".repeat(3 * ApiServer.MAX_HEADERS) + "\r\n";
    List<Case> cases =
        List.of(
            new Case(get("/v1/process/abc"), 400, "BAD_REQUEST", "pid must be a positive integer"),
            new Case(
                get("/v1/process/99999999999"),
                400,
                "BAD_REQUEST",
                "pid must be a positive integer"),
            new Case(get("/v1/process/-1"), 400, "BAD_REQUEST", "pid must be a positive integer"),
            new Case(get("/v1/nope"), 404, "NOT_FOUND", "no such route"),
            new Case(get("/"), 404, "NOT_FOUND", "no such route"),
            new Case(get("/v1/process/1/extra"), 404, "NOT_FOUND", "no such route"),
            new Case(get("/v1/binary"), 400, "BAD_REQUEST", "exactly one query parameter"),
            new Case(
                get("/v1/binary?path=/a&identity=1:2"),
                400,
                "BAD_REQUEST",
                "exactly one query parameter"),
            new Case(get("/v1/binary?path=relative"), 400, "BAD_REQUEST", "path must be absolute"),
            new Case(get("/v1/evidence/%2E%2E%2Fx"), 400, "BAD_REQUEST", "evidence reference"),
            // Found by ApiRequestFuzzTest: netty's decoder throws on a bad %-escape.
            new Case(get("/v1/pro%zzcess/1"), 400, "BAD_REQUEST", "percent-encoding"),
            new Case(get("/v1/binary?path=/a%"), 400, "BAD_REQUEST", "percent-encoding"),
            new Case(
                "POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                405,
                "BAD_REQUEST",
                "read-only"),
            new Case(
                "GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nConnection: close\r\n\r\nxx",
                413,
                "BAD_REQUEST",
                "no body"),
            new Case(
                "GET /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                413,
                "BAD_REQUEST",
                "no body"),
            new Case(
                "GET /v1/health HTTP/1.1\r\nHost: x\r\n" + hugeHeader + "Connection: close\r\n\r\n",
                431,
                "BAD_REQUEST",
                "header"),
            new Case(
                "GET /v1/"
                    + "a".repeat(2 * ApiServer.MAX_INITIAL_LINE)
                    + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                414,
                "BAD_REQUEST",
                "line"),
            // Found by ApiHttpFuzzTest: reactor-netty answered this one with an empty 400.
            new Case("GET /v1/health HTTP/2.0\r\n\r\n", 400, "BAD_REQUEST", "not supported"),
            new Case("NOT HTTP AT ALL\r\n\r\n", 400, "BAD_REQUEST", ""));
    for (Case c : cases) {
      Raw answer = Raw.send(socket, c.request);
      assertThat(answer.status)
          .as(c.request.length() > 80 ? c.request.substring(0, 80) : c.request)
          .isEqualTo(c.status);
      assertThat(answer.header("content-type")).isEqualTo("application/json");
      assertThat(answer.json().get("error").asText()).isEqualTo(c.error);
      assertThat(answer.json().get("message").asText()).contains(c.messagePart);
      assertThat(Raw.get(socket, "/v1/health").status).as("still serving").isEqualTo(200);
    }
    // pid -1 and "../x" are well-formed requests that the Core API itself refuses.
    assertThat(server.malformedRequests()).isEqualTo(cases.size() - 2);
  }

  @Test
  @org.junit.jupiter.api.Timeout(30)
  void aRefusedPipelinedRequestIsAnsweredAndTheConnectionClosed() throws Exception {
    // Found by ApiHttpFuzzTest: the second answer came from here, and reactor-netty then left the
    // keep-alive connection open past the idle timeout: a client could hold slots at will.
    serve(b -> b.idleTimeout(Duration.ofSeconds(60)));
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(
          ByteBuffer.wrap(
              "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n"
                  .getBytes(StandardCharsets.US_ASCII)));
      ByteArrayOutputStream in = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      // Blocks until the server closes: well before the 60 s idle timeout, or the test times out.
      while (ch.read(buf.clear()) >= 0) {
        in.write(buf.array(), 0, buf.position());
      }
      String answers = in.toString(StandardCharsets.UTF_8);
      assertThat(answers).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 404 Not Found");
      assertThat(answers.toLowerCase(java.util.Locale.ROOT)).contains("connection: close");
    }
  }

  @Test
  void atTheLimitTheConnectionIdleLongestMakesRoomForANewOne() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ApiServer server =
        serve(b -> b.maxConnections(2).evictionGrace(Duration.ZERO).meterRegistry(meters));
    try (SocketChannel silent = SocketChannel.open(StandardProtocolFamily.UNIX);
        SocketChannel answered = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      silent.connect(UnixDomainSocketAddress.of(socket));
      // A request on the second proves both were admitted (one event loop, in order).
      answered.connect(UnixDomainSocketAddress.of(socket));
      assertThat(Raw.exchange(answered, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n").status)
          .isEqualTo(200);
      // The silent one has been idle longest (since its accept): it gives way.
      assertThat(Raw.get(socket, "/v1/health").status).isEqualTo(200);
      assertThat(silent.read(ByteBuffer.allocate(16))).as("closed by the server").isEqualTo(-1);
      assertThat(Raw.exchange(answered, get("/v1/state")).status).isEqualTo(200);
    }
    assertThat(server.evictedConnections()).isEqualTo(1);
    assertThat(server.refusedConnections()).isZero();
    assertThat(meters.get("veriruntime.api.connections.evicted").functionCounter().count())
        .isEqualTo(1.0);
  }

  @Test
  void connectionsBeyondTheLimitAre503WhenEveryAdmittedOneIsBusy() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    local =
        LocalCoreApi.builder()
            .health(() -> Map.of("status", "ok"))
            .runtimeState(
                () -> {
                  started.countDown();
                  return release.await(10, TimeUnit.SECONDS);
                })
            .build();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ApiServer server = serve(b -> b.maxConnections(1).meterRegistry(meters));
    try (SocketChannel busy = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      busy.connect(UnixDomainSocketAddress.of(socket));
      busy.write(
          ByteBuffer.wrap(
              "GET /v1/state HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      Raw extra = Raw.get(socket, "/v1/health");
      assertThat(extra.status).isEqualTo(503);
      assertThat(extra.json().get("error").asText()).isEqualTo("UNAVAILABLE");
      assertThat(extra.json().get("message").asText()).contains("too many open connections");
      release.countDown();
      assertThat(Raw.exchange(busy, get("/v1/health")).status)
          .as("the busy one is served")
          .isEqualTo(200);
    }
    assertThat(server.overLimitConnections()).isEqualTo(1);
    assertThat(server.refusedConnections()).isEqualTo(1);
    assertThat(server.evictedConnections()).isZero();
    assertThat(meters.get("veriruntime.api.connections.over.limit").functionCounter().count())
        .isEqualTo(1.0);
  }

  @Test
  void aClientThatPipelinesAndNeverReadsIsClosedBeforeItsAnswersPileUp() throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ApiServer server = serve(b -> b.meterRegistry(meters));
    byte[] request =
        "GET /v1/state HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    long written = 0;
    boolean closed = false;
    try (SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      slow.connect(UnixDomainSocketAddress.of(socket));
      slow.configureBlocking(false);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!closed && System.nanoTime() < deadline) {
        try {
          ByteBuffer b = ByteBuffer.wrap(request);
          while (b.hasRemaining() && slow.write(b) > 0) {
            // a full socket buffer writes 0: try again after the pause
          }
          written += request.length - b.remaining();
          if (b.hasRemaining()) {
            Thread.sleep(10);
          }
        } catch (IOException e) {
          closed = true; // EPIPE: the server closed it
        }
      }
    }
    assertThat(closed).as("closed after %d bytes of requests", written).isTrue();
    assertThat(server.slowReadersClosed()).isEqualTo(1);
    assertThat(meters.get("veriruntime.api.connections.slow.readers").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(Raw.get(socket, "/v1/health").status).as("still serving").isEqualTo(200);
  }

  @Test
  void theSocketFileIsOwnerOnlyAndRemovedOnClose() throws Exception {
    ApiServer server = serve(b -> {});
    assertThat(Files.getPosixFilePermissions(socket))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    assertThat(CoreApis.probe(socket)).isEqualTo(CoreApis.DaemonStatus.RUNNING);
    try (var listing = Files.list(socket.getParent())) {
      assertThat(listing)
          .as("no staging directory left behind")
          .containsExactlyInAnyOrder(socket, dir.resolve("run/api.sock.lock"));
    }
    server.close();
    assertThat(socket).doesNotExist();
    assertThat(CoreApis.probe(socket)).isEqualTo(CoreApis.DaemonStatus.NOT_RUNNING);
    server.close(); // idempotent
  }

  @Test
  void aSocketGroupMakesTheFileGroupReadable() throws Exception {
    String rootGroup =
        Files.readAttributes(Path.of("/"), java.nio.file.attribute.PosixFileAttributes.class)
            .group()
            .getName();
    serve(b -> b.socketGroup(rootGroup));
    assertThat(Files.getPosixFilePermissions(socket))
        .containsExactlyInAnyOrder(
            PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE);
  }

  @Test
  void aStaleSocketFromACrashedDaemonIsReplaced() throws Exception {
    Files.createDirectories(socket.getParent());
    // A JDK server socket leaves its file behind when closed: exactly what a crash leaves.
    try (var stale = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(CoreApis.probe(socket)).isEqualTo(CoreApis.DaemonStatus.STALE_SOCKET);
    assertThat(ApiClient.connectIfRunning(socket)).isEmpty();

    serve(b -> {});
    assertThat(CoreApis.probe(socket)).isEqualTo(CoreApis.DaemonStatus.RUNNING);
    assertThat(client().health().get("status").asText()).isEqualTo("ok");
  }

  @Test
  void aLiveSocketOrAnythingElseIsNeverReplaced() throws Exception {
    serve(b -> {});
    assertThatThrownBy(() -> ApiServer.builder(local).socket(socket).bind())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("another daemon");
    assertThat(client().health().get("status").asText())
        .as("first daemon unharmed")
        .isEqualTo("ok");

    Path file = dir.resolve("plain");
    Files.writeString(file, "keep me");
    assertThatThrownBy(() -> ApiServer.builder(local).socket(file).bind())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a socket");
    assertThat(file).hasContent("keep me");
  }

  @Test
  void connectIfRunningAndForCliFollowTheDaemon() throws Exception {
    assertThat(ApiClient.connectIfRunning(socket)).isEmpty();
    LocalCoreApi fallback =
        LocalCoreApi.builder().health(() -> Map.of("status", "in-process")).build();
    try (CoreApis.Session session = CoreApis.forCli(socket, () -> fallback)) {
      assertThat(session.daemon()).isEqualTo(CoreApis.DaemonStatus.NOT_RUNNING);
      assertThat(session.remote()).isFalse();
      assertThat(session.api().health().get("status").asText()).isEqualTo("in-process");
    }

    serve(b -> {});
    Optional<ApiClient> running = ApiClient.connectIfRunning(socket);
    assertThat(running).isPresent();
    running.get().close();
    try (CoreApis.Session session =
        CoreApis.forCli(
            socket,
            () -> {
              throw new AssertionError("local API built although a daemon runs");
            })) {
      assertThat(session.daemon()).isEqualTo(CoreApis.DaemonStatus.RUNNING);
      assertThat(session.remote()).isTrue();
      assertThat(session.api().health().get("status").asText()).isEqualTo("ok");
    }
  }

  @Test
  void noDaemonIsUnavailableWithItsExitCode() {
    try (ApiClient client = ApiClient.connect(socket, Duration.ofSeconds(2))) {
      StepVerifier.create(client.get("/v1/health"))
          .expectErrorSatisfies(
              e -> {
                assertThat(e).isInstanceOf(ApiException.class);
                assertThat(((ApiException) e).code()).isEqualTo(Code.UNAVAILABLE);
                assertThat(e.getMessage()).contains("no daemon answers on " + socket);
              })
          .verify(Duration.ofSeconds(10));
    }
  }

  @Test
  void aCallOverItsTimeoutIsUnavailableAndTheWorkerIsReleasedLater() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    local =
        LocalCoreApi.builder()
            .health(() -> Map.of("status", "ok"))
            .runtimeState(() -> release.await(10, TimeUnit.SECONDS))
            .build();
    serve(b -> b.callTimeout(Duration.ofSeconds(1)));
    ApiClient client = client();
    StepVerifier.create(client.get("/v1/state"))
        .expectErrorSatisfies(
            e -> assertThat(((ApiException) e).code()).isEqualTo(Code.UNAVAILABLE))
        .verify(Duration.ofSeconds(10));
    release.countDown();
    StepVerifier.create(client.get("/v1/health"))
        .assertNext(n -> assertThat(n.get("status").asText()).isEqualTo("ok"))
        .verifyComplete();
  }

  @Test
  void anOperationNotWiredIsUnavailable() throws Exception {
    local = LocalCoreApi.builder().build();
    serve(b -> {});
    ApiException e = catchApi(() -> client().getEvidence("7"));
    assertThat(e.code()).isEqualTo(Code.UNAVAILABLE);
    assertThat(e.getMessage()).isEqualTo("getEvidence is not available in this build");
  }

  private static String get(String uri) {
    return "GET " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  }

  @FunctionalInterface
  interface Throwing {
    void run() throws Exception;
  }

  private static ApiException catchApi(Throwing call) {
    try {
      call.run();
    } catch (ApiException e) {
      return e;
    } catch (Exception e) {
      throw new AssertionError("expected an ApiException", e);
    }
    throw new AssertionError("expected an ApiException, the call succeeded");
  }

  /** A hand-written HTTP exchange, so malformed requests reach the server as sent. */
  record Raw(int status, Map<String, String> headers, String body) {
    static Raw get(Path socket, String uri) throws IOException {
      return send(socket, ApiServerTest.get(uri));
    }

    static Raw send(Path socket, String request) throws IOException {
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(socket));
        return exchange(ch, request);
      }
    }

    /**
     * Send {@code request} and read one response: up to EOF, or up to Content-Length when the
     * connection stays open.
     */
    static Raw exchange(SocketChannel ch, String request) throws IOException {
      {
        ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
        try {
          while (out.hasRemaining()) {
            ch.write(out);
          }
        } catch (IOException e) {
          // The server may answer and close before reading an oversized request to its end.
        }
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        try {
          while (!complete(in.toString(StandardCharsets.UTF_8)) && ch.read(buf.clear()) > 0) {
            in.write(buf.array(), 0, buf.position());
          }
        } catch (IOException e) {
          // Connection reset after the answer: keep what was read.
        }
        return parse(in.toString(StandardCharsets.UTF_8));
      }
    }

    private static boolean complete(String text) {
      int end = text.indexOf("\r\n\r\n");
      if (end < 0) {
        return false;
      }
      java.util.regex.Matcher length =
          java.util.regex.Pattern.compile("(?i)\r\ncontent-length:\\s*(\\d+)")
              .matcher(text.substring(0, end));
      return length.find()
          && text.getBytes(StandardCharsets.UTF_8).length - (end + 4)
              >= Integer.parseInt(length.group(1));
    }

    private static Raw parse(String text) {
      int end = text.indexOf("\r\n\r\n");
      assertThat(end).as("a complete HTTP response, got: %s", text).isPositive();
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> headers = new java.util.HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(
            lines[i].substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
      return new Raw(Integer.parseInt(lines[0].split(" ")[1]), headers, text.substring(end + 4));
    }

    String header(String name) {
      return headers.get(name);
    }

    JsonNode json() throws IOException {
      return ApiJson.mapper().readTree(body);
    }
  }
}
