package dev.veriruntime.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException.Code;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.api.intake.AlertReceipt;
import dev.veriruntime.api.intake.AlertRejected;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * Serves a {@link CoreApi} as JSON over HTTP/1.1 on a Unix domain socket.
 *
 * <pre>{@code
 * try (ApiServer server = ApiServer.builder(api).socket(ApiServer.DEFAULT_SOCKET).bind()) {
 *   ... // until the daemon stops
 * }
 * }</pre>
 *
 * <h2>Routes (all GET but the alert intake; anything else is 405)</h2>
 *
 * <pre>
 * POST /v1/alerts?format=falco|edr   AlertIntake.submit (202 with a receipt; docs/api.md)
 * /v1/health                   CoreApi.health()
 * /v1/state                    CoreApi.listRuntimeState()
 * /v1/process/{pid}            CoreApi.verifyProcess(pid)
 * /v1/binary?path=/abs/path    CoreApi.verifyBinary(path)
 * /v1/binary?identity=DEV:INODE
 * /v1/evidence/{ref}           CoreApi.getEvidence(ref)
 * </pre>
 *
 * An alert is accepted with {@code 202} and an {@link AlertReceipt}; refused with {@code {"error":
 * CODE, "reason": REASON, "message": "..."}} and the {@link AlertRejected.Reason}'s status (400,
 * 404, 413, 422, 429 with {@code Retry-After}, 503). Its body is bounded by {@link
 * AlertIntake#maxBodyBytes()}: a larger Content-Length is refused before anything is read, a
 * chunked body as soon as it grows past it. Without an intake ({@link Builder#alertIntake}) the
 * route answers 503.
 *
 * <p>A result is {@code 200} with the JSON tree as body. A failure is {@code {"error": CODE,
 * "message": "..."}} with the code's {@link Code#httpStatus()}, except 405 (wrong method), 413 (a
 * body was sent) and 414/431 (oversized request line or headers), which all carry {@code
 * BAD_REQUEST}. An answer to a request refused before it reaches the Core API closes the
 * connection.
 *
 * <h2>Who may connect</h2>
 *
 * The socket file is mode 0600 (0660 with {@link Builder#socketGroup}), and every connection's
 * SO_PEERCRED is checked against a {@link PeerPolicy}; a refused peer gets 403 {@code FORBIDDEN} on
 * each request, the connection is closed, and {@link #refusedConnections()} counts it.
 *
 * <p>The file's mode cannot be set by bind(2) itself (it applies the process umask, which Java
 * cannot change per call), and chmod after bind leaves a window in which the socket is reachable
 * with the umask's mode. So the socket is bound inside a fresh 0700 directory next to its final
 * path, chmod-ed there, and then renamed into place: it is never reachable with a wider mode, and a
 * stale socket from a crashed daemon is replaced atomically (rename(2)). A live socket, or anything
 * that is not a socket, is never replaced.
 *
 * <h2>Threads and bounds</h2>
 *
 * One event-loop thread parses HTTP; API calls run on a bounded elastic scheduler ({@link
 * Builder#workers}, {@link Builder#queuedCalls}) because verification reads files; a call that
 * outlasts {@link Builder#callTimeout} answers 503 {@code UNAVAILABLE}, and so does a call refused
 * because the queue is full. Request line and headers are bounded, bodies are refused (but an
 * alert's, bounded), admitted connections are limited ({@link Builder#maxConnections}) and idle or
 * slow ones closed ({@link Builder#idleTimeout}). Malformed requests never stop the server. Thread
 * safe; {@link #close()} is idempotent.
 *
 * <h2>At the connection limit</h2>
 *
 * A new admitted connection beyond the limit takes the place of the admitted connection that has
 * been idle longest (no request in flight: connected and silent, stopped half-way through a
 * request, or kept alive after its answers), which is closed ({@link #evictedConnections()}); a
 * connection idle for less than 250 ms is never chosen, so it has time to send its request. Only
 * when no admitted connection can give way is the new one refused: its first request is answered
 * 503 {@code UNAVAILABLE} and it is closed ({@link #overLimitConnections()}). So hundreds of silent
 * or half-open connections cannot lock a health check out; they only churn among themselves. A
 * connection that sends a request while 64 KiB of its answers are still unread (it pipelines and
 * does not read) is closed ({@link #slowReadersClosed()}), so unread answers cannot pile up in the
 * daemon's memory.
 *
 * <h2>Meters ({@link Builder#meterRegistry})</h2>
 *
 * {@code veriruntime.api.requests} (answered), {@code veriruntime.api.requests.malformed} (4xx
 * before the Core API), {@code veriruntime.api.peers.refused} (refused by peer credentials or the
 * limit, as {@link #refusedConnections()}), {@code veriruntime.api.connections.over.limit}, {@code
 * veriruntime.api.connections.evicted}, {@code veriruntime.api.connections.slow.readers}, {@code
 * veriruntime.api.connections.open} (admitted, now) and {@code
 * veriruntime.api.calls.unavailable{reason=queue_full|timeout}}.
 */
public final class ApiServer implements AutoCloseable {
  public static final Path DEFAULT_SOCKET = Path.of("/run/veriruntime/api.sock");

  static final int MAX_INITIAL_LINE = 8192;
  static final int MAX_HEADERS = 8192;
  private static final Duration QUIET_PERIOD = Duration.ofMillis(50);

  private static final AttributeKey<Refusal> REFUSAL =
      AttributeKey.valueOf("veriruntime.api.refusal");
  private static final AttributeKey<Activity> ACTIVITY =
      AttributeKey.valueOf("veriruntime.api.activity");

  /** An admitted connection's requests in flight and the end of its last one (or its accept). */
  private static final class Activity {
    final AtomicInteger inFlight = new AtomicInteger();
    volatile long lastNanos = System.nanoTime();
  }

  /** "uid 0 pid 812": who is on the other end, for the journal of an alert. */
  private static final AttributeKey<String> PEER = AttributeKey.valueOf("veriruntime.api.peer");

  private static final String ALERTS = "/v1/alerts";

  /** Why a connection is not served: FORBIDDEN (peer) or UNAVAILABLE (too many connections). */
  private record Refusal(Code code, String message) {}

  private final CoreApi api;
  private final AlertIntake intake;
  private final Path socket;
  private final PeerPolicy policy;
  private final Duration callTimeout;
  private final int maxConnections;
  private final long evictionGraceNanos;
  private final LoopResources loops;
  private final Scheduler workers;
  private final DisposableServer server;
  private final SocketFile socketFile;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private final AtomicLong served = new AtomicLong();
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicLong overLimit = new AtomicLong();
  private final AtomicLong evicted = new AtomicLong();
  private final AtomicLong queueFull = new AtomicLong();
  private final AtomicLong timedOut = new AtomicLong();
  private final AtomicLong slowReaders = new AtomicLong();
  private final Set<Channel> admitted = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  private ApiServer(Builder b) throws IOException {
    this.api = b.api;
    this.intake = b.intake;
    this.socket = b.socket.toAbsolutePath();
    this.policy = b.policy;
    this.callTimeout = b.callTimeout;
    this.maxConnections = b.maxConnections;
    this.evictionGraceNanos = b.evictionGrace.toNanos();
    if (!Epoll.isAvailable()) {
      throw new IOException(
          "Unix domain sockets need netty's epoll transport", Epoll.unavailabilityCause());
    }
    // The lock is held for the server's life: two daemons starting at once cannot both take a
    // stale socket's place (probe then rename is not atomic on its own).
    this.socketFile = SocketFile.claim(socket);
    LoopResources loopResources = null;
    Scheduler callScheduler = null;
    DisposableServer bound = null;
    try {
      String bindPath = socketFile.stagingPath().toString();
      loopResources = LoopResources.create("veriruntime-api", 1, 1, true);
      callScheduler =
          Schedulers.newBoundedElastic(b.workers, b.queuedCalls, "veriruntime-api-call", 60, true);
      bound =
          HttpServer.create()
              .runOn(loopResources, true)
              .bindAddress(() -> new DomainSocketAddress(bindPath))
              .httpRequestDecoder(
                  spec -> spec.maxInitialLineLength(MAX_INITIAL_LINE).maxHeaderSize(MAX_HEADERS))
              .idleTimeout(b.idleTimeout)
              .readTimeout(b.idleTimeout)
              .requestTimeout(b.idleTimeout)
              .doOnChannelInit(
                  (observer, channel, remote) -> {
                    admit(channel);
                    channel
                        .pipeline()
                        .addAfter(
                            NettyPipeline.HttpCodec,
                            "veriruntime.api.decodeFailure",
                            new DecodeFailureAnswer())
                        .addAfter(
                            "veriruntime.api.decodeFailure",
                            "veriruntime.api.slowReader",
                            new SlowReaderClose());
                  })
              .handle(this::handle)
              .bindNow(Duration.ofSeconds(10));
      socketFile.publish(b.group);
    } catch (IOException | RuntimeException e) {
      if (bound != null) {
        bound.disposeNow();
      }
      if (callScheduler != null) {
        callScheduler.dispose();
      }
      if (loopResources != null) {
        loopResources
            .disposeLater(QUIET_PERIOD, Duration.ofSeconds(5))
            .block(Duration.ofSeconds(10));
      }
      socketFile.close();
      throw e;
    }
    this.loops = loopResources;
    this.workers = callScheduler;
    this.server = bound;
    if (b.meters != null) {
      FunctionCounter.builder("veriruntime.api.peers.refused", refused, AtomicLong::get)
          .description("API connections refused by peer credentials")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.requests.malformed", malformed, AtomicLong::get)
          .description("API requests answered 4xx before reaching the Core API")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.requests", served, AtomicLong::get)
          .description("API requests answered")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.connections.over.limit", overLimit, AtomicLong::get)
          .description("API connections refused: at the limit with every connection busy")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.connections.evicted", evicted, AtomicLong::get)
          .description("idle API connections closed to admit a new one at the limit")
          .register(b.meters);
      FunctionCounter.builder(
              "veriruntime.api.connections.slow.readers", slowReaders, AtomicLong::get)
          .description("API connections closed for sending requests without reading the answers")
          .register(b.meters);
      Gauge.builder("veriruntime.api.connections.open", connections, AtomicInteger::get)
          .description("admitted API connections open")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.calls.unavailable", queueFull, AtomicLong::get)
          .tag("reason", "queue_full")
          .description("API calls answered 503")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.api.calls.unavailable", timedOut, AtomicLong::get)
          .tag("reason", "timeout")
          .description("API calls answered 503")
          .register(b.meters);
    }
  }

  public static Builder builder(CoreApi api) {
    return new Builder(api);
  }

  /** The socket this server listens on. */
  public Path socket() {
    return socket;
  }

  /** Connections refused: by the {@link PeerPolicy}, or because too many were open. */
  public long refusedConnections() {
    return refused.get();
  }

  /** Connections refused because every admitted connection had a request in flight. */
  public long overLimitConnections() {
    return overLimit.get();
  }

  /** Connections closed for sending a request while 64 KiB of their answers were unread. */
  public long slowReadersClosed() {
    return slowReaders.get();
  }

  /** Idle connections closed to admit a new one at the limit. */
  public long evictedConnections() {
    return evicted.get();
  }

  /** Requests answered with an error before reaching the Core API: bad route, pid, method, size. */
  public long malformedRequests() {
    return malformed.get();
  }

  /** Requests answered, whatever the outcome. */
  public long requests() {
    return served.get();
  }

  /**
   * Stop accepting, remove the socket file (only if it is still ours: a daemon started later may
   * have replaced it) and release threads. Calls in flight are abandoned.
   */
  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    server.disposeNow(Duration.ofSeconds(5));
    workers.dispose();
    socketFile.close();
    // A short quiet period: close notifications of the last channels still run; the default 2 s
    // would only delay the daemon's stop.
    loops.disposeLater(QUIET_PERIOD, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
  }

  /**
   * Decide once per connection; a refusal is answered on its first request. Runs on the server's
   * single event-loop thread, so admissions (and evictions) happen one at a time.
   */
  private void admit(Channel channel) {
    Refusal refusal =
        channel instanceof EpollDomainSocketChannel unix
            ? refusalOf(unix)
            : new Refusal(Code.FORBIDDEN, "not a Unix domain socket connection");
    // Only admitted peers take a connection slot: refused ones cannot lock out root.
    if (refusal == null) {
      if (connections.get() >= maxConnections && !evictIdlest()) {
        overLimit.incrementAndGet();
        refusal =
            new Refusal(
                Code.UNAVAILABLE,
                "too many open connections ("
                    + maxConnections
                    + ", none idle long enough to give way), try again");
      } else {
        connections.incrementAndGet();
        channel.attr(ACTIVITY).set(new Activity());
        admitted.add(channel);
        channel
            .closeFuture()
            .addListener(
                f -> {
                  if (admitted.remove(channel)) {
                    connections.decrementAndGet();
                  }
                });
      }
    }
    if (refusal != null) {
      refused.incrementAndGet();
      channel.attr(REFUSAL).set(refusal);
    }
  }

  /**
   * Closes the admitted connection idle longest, if one has no request in flight and has been idle
   * for at least {@link Builder#evictionGrace}.
   */
  private boolean evictIdlest() {
    Channel idlest = null;
    long now = System.nanoTime();
    long oldest = now - evictionGraceNanos;
    for (Channel c : admitted) {
      Activity a = c.attr(ACTIVITY).get();
      if (a != null && a.inFlight.get() == 0 && a.lastNanos - oldest <= 0) {
        idlest = c;
        oldest = a.lastNanos;
      }
    }
    if (idlest == null || !admitted.remove(idlest)) {
      return false;
    }
    connections.decrementAndGet();
    evicted.incrementAndGet();
    idlest.close();
    return true;
  }

  private Refusal refusalOf(EpollDomainSocketChannel channel) {
    PeerCredentials peer;
    try {
      peer = channel.peerCredentials();
    } catch (IOException e) {
      return new Refusal(Code.FORBIDDEN, "peer credentials unavailable: " + e.getMessage());
    }
    // SO_PEERCRED carries one gid, the peer's effective primary gid.
    int gid = peer.gids().length == 0 ? -1 : peer.gids()[0];
    if (policy.allows(peer.uid(), gid)) {
      channel.attr(PEER).set("uid " + peer.uid() + " pid " + peer.pid());
      return null;
    }
    return new Refusal(
        Code.FORBIDDEN,
        "peer uid "
            + peer.uid()
            + " gid "
            + gid
            + " (pid "
            + peer.pid()
            + ") is not allowed on this socket");
  }

  private Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
    served.incrementAndGet();
    AtomicReference<Refusal> refusal = new AtomicReference<>();
    AtomicReference<Activity> activity = new AtomicReference<>();
    request.withConnection(
        c -> {
          refusal.set(c.channel().attr(REFUSAL).get());
          activity.set(c.channel().attr(ACTIVITY).get());
        });
    Activity a = activity.get();
    if (a == null) {
      return respond(request, response, refusal.get());
    }
    a.inFlight.incrementAndGet();
    return respond(request, response, refusal.get())
        .doFinally(
            signal -> {
              a.lastNanos = System.nanoTime();
              a.inFlight.decrementAndGet();
            });
  }

  private Mono<Void> respond(
      HttpServerRequest request, HttpServerResponse response, Refusal refused) {
    AtomicReference<Refusal> refusal = new AtomicReference<>(refused);
    if (refusal.get() != null) {
      response.keepAlive(false);
      Refusal r = refusal.get();
      return send(response, r.code().httpStatus(), ApiJson.error(r.code(), r.message()));
    }
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    // The raw path: decoding here would throw on a bad %-escape, which route() answers as 400.
    if (uri.rawPath().equals(ALERTS)) {
      return alert(request, response, uri);
    }
    if (!HttpMethod.GET.equals(request.method())) {
      response.header(HttpHeaderNames.ALLOW, "GET");
      return malformed(
          response,
          405,
          "method " + request.method() + " not allowed: the API is read-only, use GET");
    }
    if (hasBody(request)) {
      response.keepAlive(false);
      return malformed(response, 413, "requests carry no body");
    }
    Call call;
    try {
      call = route(api, request.uri());
    } catch (ApiException e) {
      return malformed(response, e.code().httpStatus(), e.getMessage());
    }
    // The call's failure becomes an answer inside the worker: a call that fails after its timeout
    // then has nothing to report to a cancelled subscriber.
    return Mono.fromCallable(() -> answer(call))
        .subscribeOn(workers)
        .timeout(callTimeout)
        .onErrorResume(e -> Mono.just(new Answer(errorStatus(e), errorBody(e))))
        .flatMap(answer -> send(response, answer.status(), answer.body()));
  }

  private record Answer(int status, JsonNode body) {}

  /** A body that grew past the intake's limit while being read. */
  private static final class BodyTooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final long bytes;

    BodyTooLarge(long bytes) {
      super(null, null, false, false);
      this.bytes = bytes;
    }
  }

  /** POST /v1/alerts: read the bounded body, hand it to the intake on a worker, answer. */
  private Mono<Void> alert(
      HttpServerRequest request, HttpServerResponse response, QueryStringDecoder uri) {
    if (!HttpMethod.POST.equals(request.method())) {
      response.header(HttpHeaderNames.ALLOW, "POST");
      return malformed(
          response, 405, "method " + request.method() + " not allowed: send alerts with POST");
    }
    if (intake == null) {
      return send(
          response,
          503,
          ApiJson.error(Code.UNAVAILABLE, "the alert intake is not enabled on this daemon"));
    }
    int max = intake.maxBodyBytes();
    String length = request.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    long announced = parseLength(length);
    if (announced > max) {
      // Refused unread: the connection is closed rather than drained.
      response.keepAlive(false);
      return rejected(response, intake.tooLarge(announced));
    }
    String format;
    try {
      format = uri.parameters().getOrDefault("format", List.of("")).get(0);
    } catch (IllegalArgumentException e) {
      response.keepAlive(false);
      return malformed(response, 400, "malformed query: " + e.getMessage());
    }
    String peer = peerOf(request);
    AtomicLong size = new AtomicLong();
    return request
        .receive()
        .asByteArray()
        .<byte[]>handle(
            (chunk, sink) -> {
              if (size.addAndGet(chunk.length) > max) {
                sink.error(new BodyTooLarge(size.get()));
              } else {
                sink.next(chunk);
              }
            })
        .collect(ByteArrayOutputStream::new, ByteArrayOutputStream::writeBytes)
        .map(ByteArrayOutputStream::toByteArray)
        .publishOn(workers)
        .map(body -> submit(format, body, peer))
        .timeout(callTimeout)
        .onErrorResume(
            BodyTooLarge.class,
            e -> {
              response.keepAlive(false);
              return Mono.just(rejection(intake.tooLarge(e.bytes)));
            })
        .onErrorResume(e -> Mono.just(new Answer(errorStatus(e), errorBody(e))))
        .flatMap(
            answer -> {
              if (answer.status() == 429) {
                response.header(HttpHeaderNames.RETRY_AFTER, "1");
              }
              return send(response, answer.status(), answer.body());
            });
  }

  private Answer submit(String format, byte[] body, String peer) {
    try {
      AlertReceipt receipt = intake.submit(format, body, peer);
      return new Answer(202, ApiJson.mapper().valueToTree(receipt));
    } catch (AlertRejected e) {
      return rejection(e);
    }
  }

  private Mono<Void> rejected(HttpServerResponse response, AlertRejected e) {
    Answer a = rejection(e);
    return send(response, a.status(), a.body());
  }

  /** {"error": CODE, "reason": REASON, "message": ...}; CODE as the CLI and clients know them. */
  private static Answer rejection(AlertRejected e) {
    int status = e.reason().httpStatus();
    Code code =
        switch (status) {
          case 404 -> Code.NOT_FOUND;
          case 429, 503 -> Code.UNAVAILABLE;
          default -> Code.BAD_REQUEST;
        };
    return new Answer(status, ApiJson.error(code, e.getMessage()).put("reason", e.reason().name()));
  }

  private static String peerOf(HttpServerRequest request) {
    AtomicReference<String> peer = new AtomicReference<>();
    request.withConnection(c -> peer.set(c.channel().attr(PEER).get()));
    return peer.get();
  }

  /** The Content-Length, or -1 when absent or unreadable (the body is then bounded as it comes). */
  private static long parseLength(String length) {
    if (length == null) {
      return -1;
    }
    try {
      return Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private Answer answer(Call call) {
    try {
      return new Answer(200, call.invoke());
    } catch (ApiException | RuntimeException e) {
      return new Answer(errorStatus(e), errorBody(e));
    }
  }

  /**
   * Answers a request the HTTP decoder could not parse (oversized line or headers, garbage), or an
   * HTTP/2 request line, with a JSON error and closes the connection; reactor-netty's own answer
   * would have no body.
   */
  private final class DecodeFailureAnswer extends ChannelInboundHandlerAdapter {
    private boolean failed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (failed) {
        // The decoder skips the rest of a bad message; drop whatever still arrives.
        ReferenceCountUtil.release(msg);
        return;
      }
      if (!(msg instanceof HttpRequest request)
          || (!request.decoderResult().isFailure()
              && supported(request.protocolVersion())
              && request.headers().getAll(HttpHeaderNames.HOST).stream()
                  .allMatch(ApiServer::wellFormedHost))) {
        ctx.fireChannelRead(msg);
        return;
      }
      failed = true;
      Throwable cause = request.decoderResult().cause();
      HttpVersion version = request.protocolVersion();
      ReferenceCountUtil.release(msg);
      served.incrementAndGet();
      malformed.incrementAndGet();
      HttpResponseStatus status;
      String message;
      if (cause == null && !supported(version)) {
        // Found by ApiHttpFuzzTest: "GET / HTTP/2.0" decodes, then reactor-netty refused it with
        // an empty 400.
        status = HttpResponseStatus.BAD_REQUEST;
        message = version.text() + " is not supported: use HTTP/1.1";
      } else if (cause == null) {
        // Found by ApiHttpFuzzTest: reactor-netty parses the Host header's port and answers a
        // non-number ("Host: a: b") with an empty 400.
        status = HttpResponseStatus.BAD_REQUEST;
        message = "malformed Host header: the port after the ':' must be a number";
      } else if (cause instanceof TooLongHttpLineException) {
        status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
        message = "request line longer than " + MAX_INITIAL_LINE + " bytes";
      } else if (cause instanceof TooLongHttpHeaderException) {
        status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        message = "request header larger than " + MAX_HEADERS + " bytes";
      } else {
        status = HttpResponseStatus.BAD_REQUEST;
        message = "malformed HTTP request: " + cause.getMessage();
      }
      byte[] body;
      try {
        body = ApiJson.mapper().writeValueAsBytes(ApiJson.error(Code.BAD_REQUEST, message));
      } catch (JsonProcessingException e) {
        ctx.close();
        return;
      }
      FullHttpResponse response =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
      response
          .headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "application/json")
          .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
          .set(HttpHeaderNames.CONNECTION, "close");
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * Whether reactor-netty can read {@code host} as host[:port]: it takes the port from after the
   * first ':' (for an IPv6 literal, the first ':' after its first ']') and parses it as a number,
   * so that part must be a port number (0–65535). Found by ApiHttpFuzzTest: "Host: a: b]c" passed
   * an earlier check that looked after the last ':' and let a ']' behind it mark an IPv6 literal.
   */
  static boolean wellFormedHost(String host) {
    int colon = host.startsWith("[") ? host.indexOf(':', host.indexOf(']')) : host.indexOf(':');
    if (colon < 0) {
      return true;
    }
    String port = host.substring(colon + 1);
    return !port.isEmpty()
        && port.length() <= 5
        && port.chars().allMatch(c -> c >= '0' && c <= '9')
        && Integer.parseInt(port) <= 65535;
  }

  /**
   * reactor-netty refuses an HTTP/2 request line on an HTTP/1.1 server (with an empty 400); any
   * other version line it serves (reactor-netty's own client was seen to send HTTP/3.0 here).
   */
  private static boolean supported(HttpVersion version) {
    return version.majorVersion() != 2;
  }

  /**
   * Closes a connection that sends a new request while the answers it has not read yet fill its
   * outbound buffer past the high-water mark (64 KiB): a client that pipelines requests and never
   * reads would otherwise have every answer queued in the daemon's memory.
   */
  private final class SlowReaderClose extends ChannelInboundHandlerAdapter {
    private boolean closing;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!closing && msg instanceof HttpRequest && !ctx.channel().isWritable()) {
        closing = true;
        slowReaders.incrementAndGet();
        ctx.close();
      }
      if (closing) {
        // The rest of what was read in the same batch is dropped.
        ReferenceCountUtil.release(msg);
        return;
      }
      ctx.fireChannelRead(msg);
    }
  }

  private static boolean hasBody(HttpServerRequest request) {
    String length = request.requestHeaders().get(HttpHeaderNames.CONTENT_LENGTH);
    return request.requestHeaders().contains(HttpHeaderNames.TRANSFER_ENCODING)
        || (length != null && !length.trim().equals("0"));
  }

  /** One routed request: the Core API call it stands for. */
  @FunctionalInterface
  interface Call {
    JsonNode invoke() throws ApiException;
  }

  /**
   * The call a request URI (path and query, as in the request line) stands for.
   *
   * @throws ApiException NOT_FOUND for an unknown route, BAD_REQUEST for a malformed argument
   */
  static Call route(CoreApi api, String uri) throws ApiException {
    QueryStringDecoder decoded = new QueryStringDecoder(uri);
    List<String> segments;
    Map<String, List<String>> parameters;
    try {
      segments = segments(decoded.rawPath());
      parameters = decoded.parameters();
    } catch (IllegalArgumentException e) {
      // netty's decoder refuses a bad %-escape ("%zz", a lone "%") with this exception; left to
      // escape, the request would be answered INTERNAL instead of BAD_REQUEST.
      throw new ApiException(
          Code.BAD_REQUEST,
          "malformed percent-encoding (% must be followed by two hex digits) in \""
              + abbreviate(uri)
              + "\"");
    }
    return route(api, segments, parameters);
  }

  private static Call route(CoreApi api, List<String> s, Map<String, List<String>> params)
      throws ApiException {
    if (s.size() >= 2 && s.get(0).equals("v1")) {
      String what = s.get(1);
      if (s.size() == 2 && what.equals("health")) {
        return api::health;
      }
      if (s.size() == 2 && what.equals("state")) {
        return api::listRuntimeState;
      }
      if (s.size() == 3 && what.equals("process")) {
        int pid = parsePid(s.get(2));
        return () -> api.verifyProcess(pid);
      }
      if (s.size() == 3 && what.equals("evidence")) {
        String ref = s.get(2);
        return () -> api.getEvidence(ref);
      }
      if (s.size() == 2 && what.equals("binary")) {
        String target = binaryTarget(params);
        return () -> api.verifyBinary(target);
      }
    }
    throw new ApiException(
        Code.NOT_FOUND,
        "no such route: /"
            + String.join("/", s)
            + " (routes: /v1/health, /v1/state, /v1/process/{pid}, /v1/binary?path=|identity=, /v1/evidence/{ref})");
  }

  private static int parsePid(String text) throws ApiException {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new ApiException(
          Code.BAD_REQUEST, "pid must be a positive integer, got \"" + abbreviate(text) + "\"");
    }
  }

  private static String binaryTarget(Map<String, List<String>> params) throws ApiException {
    List<String> path = params.getOrDefault("path", List.of());
    List<String> identity = params.getOrDefault("identity", List.of());
    if (path.size() + identity.size() != 1) {
      throw new ApiException(
          Code.BAD_REQUEST,
          "give exactly one query parameter: path=/absolute/path or identity=DEV:INODE");
    }
    if (path.size() == 1) {
      if (!path.get(0).startsWith("/")) {
        throw new ApiException(
            Code.BAD_REQUEST, "path must be absolute, got \"" + abbreviate(path.get(0)) + "\"");
      }
      return path.get(0);
    }
    if (identity.get(0).startsWith("/")) {
      throw new ApiException(Code.BAD_REQUEST, "identity must be DEV:INODE; use path= for a path");
    }
    return identity.get(0);
  }

  private static List<String> segments(String rawPath) {
    // Keep empty segments: "/v1/evidence/" asks for an empty reference, which is a bad request.
    String path = rawPath.startsWith("/") ? rawPath.substring(1) : rawPath;
    return Arrays.stream(path.split("/", -1)).map(QueryStringDecoder::decodeComponent).toList();
  }

  private static String abbreviate(String s) {
    String shown = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return shown.replaceAll("\\p{Cntrl}", "?");
  }

  private Mono<Void> malformed(HttpServerResponse response, int status, String message) {
    malformed.incrementAndGet();
    // A client that sent a malformed request gets its answer and the connection closes. Found by
    // ApiHttpFuzzTest: an error answered here to the second of two pipelined requests left the
    // connection open past the idle timeout (reactor-netty does not re-arm it), so a client could
    // hold connection slots for as long as it liked.
    response.keepAlive(false);
    // 405, 413, 414 and 431 have no code of their own: they are all a bad request.
    return send(
        response,
        status,
        ApiJson.error(status == 404 ? Code.NOT_FOUND : Code.BAD_REQUEST, message));
  }

  private static int errorStatus(Throwable e) {
    if (e instanceof ApiException ae) {
      return ae.code().httpStatus();
    }
    if (e instanceof TimeoutException || e instanceof RejectedExecutionException) {
      return Code.UNAVAILABLE.httpStatus();
    }
    return Code.INTERNAL.httpStatus();
  }

  private JsonNode errorBody(Throwable e) {
    if (e instanceof ApiException ae) {
      return ApiJson.error(ae.code(), ae.getMessage());
    }
    if (e instanceof TimeoutException) {
      timedOut.incrementAndGet();
      return ApiJson.error(
          Code.UNAVAILABLE, "the call took longer than " + callTimeout.toMillis() + " ms");
    }
    if (e instanceof RejectedExecutionException) {
      queueFull.incrementAndGet();
      return ApiJson.error(
          Code.UNAVAILABLE, "the daemon is busy: too many calls queued, try again");
    }
    return ApiJson.error(Code.INTERNAL, "unexpected failure: " + e);
  }

  private static Mono<Void> send(HttpServerResponse response, int status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = ApiJson.mapper().writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      return Mono.error(e);
    }
    return response
        .status(HttpResponseStatus.valueOf(status))
        .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(bytes.length))
        .sendByteArray(Mono.just(bytes))
        .then();
  }

  /** Settings of an {@link ApiServer}; {@link #bind()} starts it. Not thread safe. */
  public static final class Builder {
    private final CoreApi api;
    private Path socket = DEFAULT_SOCKET;
    private PeerPolicy policy = PeerPolicy.rootOnly();
    private String group;
    private int workers = 2;
    private int queuedCalls = 64;
    private int maxConnections = 64;
    private Duration callTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofSeconds(30);
    private Duration evictionGrace = Duration.ofMillis(250);
    private MeterRegistry meters;
    private AlertIntake intake;

    private Builder(CoreApi api) {
      this.api = Objects.requireNonNull(api, "api");
    }

    /** Where to listen; default {@link #DEFAULT_SOCKET}. Its directory is created if missing. */
    public Builder socket(Path socket) {
      this.socket = Objects.requireNonNull(socket);
      return this;
    }

    /** Who may call; default {@link PeerPolicy#rootOnly()}. */
    public Builder peerPolicy(PeerPolicy policy) {
      this.policy = Objects.requireNonNull(policy);
      return this;
    }

    /**
     * Make the socket file mode 0660 owned by this group, so that its members can connect at all
     * (the {@link PeerPolicy} still decides). Default: none, mode 0600.
     */
    public Builder socketGroup(String group) {
      this.group = Optional.ofNullable(group).filter(g -> !g.isBlank()).orElse(null);
      return this;
    }

    /** Calls run at once (threads); default 2. */
    public Builder workers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be at least 1");
      }
      this.workers = workers;
      return this;
    }

    /** Calls waiting for a worker before new ones are refused with 503; default 64. */
    public Builder queuedCalls(int queuedCalls) {
      if (queuedCalls < 1) {
        throw new IllegalArgumentException("queuedCalls must be at least 1");
      }
      this.queuedCalls = queuedCalls;
      return this;
    }

    /**
     * Admitted connections open at once; beyond it the connection idle longest is closed, or, when
     * all have a request in flight, the new one is answered 503; default 64.
     */
    public Builder maxConnections(int maxConnections) {
      if (maxConnections < 1) {
        throw new IllegalArgumentException("maxConnections must be at least 1");
      }
      this.maxConnections = maxConnections;
      return this;
    }

    /** Longest a call may take before the caller gets 503; default 30 s. */
    public Builder callTimeout(Duration callTimeout) {
      this.callTimeout = Objects.requireNonNull(callTimeout);
      return this;
    }

    /** A connection idle, or a request still being read, this long is closed; default 30 s. */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = Objects.requireNonNull(idleTimeout);
      return this;
    }

    /** Serve {@code POST /v1/alerts} through {@code intake}; default none (the route is 503). */
    public Builder alertIntake(AlertIntake intake) {
      this.intake = intake;
      return this;
    }

    /**
     * At the connection limit, a connection idle for less than this is not closed to make room (it
     * has this long to send its request); default 250 ms.
     */
    public Builder evictionGrace(Duration evictionGrace) {
      if (evictionGrace.isNegative()) {
        throw new IllegalArgumentException("evictionGrace must not be negative");
      }
      this.evictionGrace = evictionGrace;
      return this;
    }

    /** Register {@code veriruntime.api.*} counters here; default none. */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = meters;
      return this;
    }

    /**
     * Bind the socket and start serving.
     *
     * @throws IOException when the socket cannot be created, another daemon listens on it, or the
     *     path is taken by something that is not a socket
     */
    public ApiServer bind() throws IOException {
      return new ApiServer(this);
    }
  }
}
