package dev.veriruntime.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException.Code;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.PrematureCloseException;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.util.retry.Retry;

/**
 * The Core API of a running daemon, over its Unix domain socket ({@link ApiServer}). Error
 * responses come back as the same {@link ApiException} the daemon's in-process API threw; a daemon
 * that cannot be reached or does not answer within the timeout is {@code UNAVAILABLE}.
 *
 * <p>The blocking {@link CoreApi} methods must not be called from a Reactor non-blocking thread;
 * reactive callers use {@link #get(String)}. Thread safe. Owns one event-loop thread and a small
 * connection pool, released by {@link #close()}.
 */
public final class ApiClient implements CoreApi, AutoCloseable {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration QUIET_PERIOD = Duration.ofMillis(50);

  private final Path socket;
  private final Duration timeout;
  private final LoopResources loops;
  private final ConnectionProvider connections;
  private final HttpClient http;

  private ApiClient(Path socket, Duration timeout) {
    this.socket = socket;
    this.timeout = timeout;
    this.loops = LoopResources.create("veriruntime-api-client", 1, 1, true);
    // Idle connections are dropped well before the server's idle timeout (30 s), so the pool never
    // hands out a connection the server is closing at that moment.
    this.connections =
        ConnectionProvider.builder("veriruntime-api-client")
            .maxConnections(4)
            .maxIdleTime(Duration.ofSeconds(10))
            .build();
    this.http =
        HttpClient.create(connections)
            .runOn(loops, true)
            .remoteAddress(() -> new DomainSocketAddress(socket.toString()))
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeout.toMillis(), 10_000))
            // A Unix socket has no host; HTTP/1.1 still wants the header.
            .headers(h -> h.set(HttpHeaderNames.HOST, "localhost"))
            .responseTimeout(timeout);
  }

  /** A client for {@code socket}; connects lazily, on the first call. */
  public static ApiClient connect(Path socket) {
    return connect(socket, DEFAULT_TIMEOUT);
  }

  /** A client whose calls fail with {@code UNAVAILABLE} after {@code timeout}. */
  public static ApiClient connect(Path socket, Duration timeout) {
    return new ApiClient(
        Objects.requireNonNull(socket, "socket"), Objects.requireNonNull(timeout, "timeout"));
  }

  /** A client if a daemon accepts connections on {@code socket}; empty otherwise. */
  public static Optional<ApiClient> connectIfRunning(Path socket) {
    return CoreApis.probe(socket) == CoreApis.DaemonStatus.RUNNING
        ? Optional.of(connect(socket))
        : Optional.empty();
  }

  public Path socket() {
    return socket;
  }

  @Override
  public JsonNode verifyProcess(int pid) throws ApiException {
    return await(get("/v1/process/" + pid));
  }

  @Override
  public JsonNode verifyBinary(String target) throws ApiException {
    String t = target == null ? "" : target;
    String parameter = t.startsWith("/") ? "path" : "identity";
    return await(
        get("/v1/binary?" + parameter + "=" + URLEncoder.encode(t, StandardCharsets.UTF_8)));
  }

  @Override
  public JsonNode getEvidence(String ref) throws ApiException {
    String r = ref == null ? "" : ref;
    return await(
        get("/v1/evidence/" + URLEncoder.encode(r, StandardCharsets.UTF_8).replace("+", "%20")));
  }

  @Override
  public JsonNode listRuntimeState() throws ApiException {
    return await(get("/v1/state"));
  }

  @Override
  public JsonNode health() throws ApiException {
    return await(get("/v1/health"));
  }

  /**
   * Submits another tool's alert ({@code POST /v1/alerts?format=FORMAT}): the receipt (HTTP 202),
   * or an {@link ApiException} with the refusal's message ({@code BAD_REQUEST}, {@code NOT_FOUND},
   * or {@code UNAVAILABLE} for a rate limit or a full queue). Not retried: the daemon may have
   * accepted it.
   */
  public JsonNode submitAlert(String format, byte[] body) throws ApiException {
    return await(
        http.headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, "application/json"))
            .post()
            .uri("/v1/alerts?format=" + URLEncoder.encode(format, StandardCharsets.UTF_8))
            .send(Mono.just(io.netty.buffer.Unpooled.wrappedBuffer(body)))
            .responseSingle(
                (response, bytes) ->
                    bytes
                        .asByteArray()
                        .defaultIfEmpty(new byte[0])
                        .map(b -> decode(response.status().code(), b)))
            .timeout(timeout)
            .onErrorMap(e -> !(e instanceof ApiException), this::unavailable));
  }

  /**
   * GET {@code uri} (path and query, already encoded). Emits the JSON result, or errors with an
   * {@link ApiException}; never errors with anything else.
   */
  public Mono<JsonNode> get(String uri) {
    return http.get()
        .uri(uri)
        .responseSingle(
            (response, body) ->
                body.asByteArray()
                    .defaultIfEmpty(new byte[0])
                    .map(bytes -> decode(response.status().code(), bytes)))
        // A pooled connection closed by the server just as it was reused: the request never ran,
        // and every route is read-only, so asking once more is safe.
        .retryWhen(Retry.max(1).filter(e -> e instanceof PrematureCloseException))
        .timeout(timeout)
        .onErrorMap(e -> !(e instanceof ApiException), this::unavailable);
  }

  private static JsonNode decode(int status, byte[] body) {
    JsonNode tree = null;
    try {
      tree = body.length == 0 ? null : ApiJson.mapper().readTree(body);
    } catch (IOException e) {
      if (status == 200 || status == 202) {
        throw Exceptions.propagate(
            new ApiException(Code.INTERNAL, "the daemon sent a result that is not JSON", e));
      }
    }
    if ((status == 200 || status == 202) && tree != null) {
      return tree;
    }
    Code code = Code.forHttpStatus(status);
    String message = "the daemon answered HTTP " + status;
    if (tree != null && tree.path("error").isTextual()) {
      try {
        code = Code.valueOf(tree.get("error").asText());
      } catch (IllegalArgumentException e) {
        // A code from a newer daemon: keep the one the status implies.
      }
      message = tree.path("message").asText(message);
    }
    throw Exceptions.propagate(new ApiException(code, message));
  }

  private Throwable unavailable(Throwable e) {
    Throwable cause = Exceptions.unwrap(e);
    if (cause instanceof ApiException) {
      return cause;
    }
    if (cause instanceof TimeoutException) {
      return new ApiException(
          Code.UNAVAILABLE,
          "the daemon on " + socket + " did not answer within " + timeout.toMillis() + " ms",
          cause);
    }
    String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    return new ApiException(Code.UNAVAILABLE, "no daemon answers on " + socket + ": " + why, cause);
  }

  private JsonNode await(Mono<JsonNode> call) throws ApiException {
    try {
      return call.block();
    } catch (RuntimeException e) {
      Throwable cause = Exceptions.unwrap(e);
      if (cause instanceof ApiException ae) {
        throw new ApiException(ae.code(), ae.getMessage(), ae);
      }
      throw new ApiException(Code.INTERNAL, "API call failed: " + cause, cause);
    }
  }

  /** Release the connection pool and the event loop. Idempotent. */
  @Override
  public void close() {
    connections.disposeLater().block(Duration.ofSeconds(5));
    // A short quiet period: close notifications of the last channels still run; the default 2 s
    // would make every CLI call that much slower to exit.
    loops.disposeLater(QUIET_PERIOD, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
  }
}
