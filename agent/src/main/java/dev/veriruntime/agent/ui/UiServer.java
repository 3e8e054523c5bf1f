package dev.veriruntime.agent.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiJson;
import dev.veriruntime.api.CoreApi;
import dev.veriruntime.sinks.EventJson;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The trust-chain web view: a read-only HTTP server on {@code 127.0.0.1} that serves the page and
 * answers it from the Core API and the live events, nothing else.
 *
 * <h2>Who may ask</h2>
 *
 * A local port is reachable by every local user, so every request must carry the token printed when
 * the server starts: as the query parameter {@code token}, the header {@code X-VeriRuntime-Token},
 * {@code Authorization: Bearer TOKEN}, or the cookie {@code veriruntime_ui} that the page sets when
 * it is opened with {@code ?token=}. Tokens are compared in constant time. Only {@code GET} and
 * {@code HEAD} are answered; nothing the server does changes the host or the agent.
 *
 * <h2>Routes</h2>
 *
 * <ul>
 *   <li>{@code /} the page; {@code /assets/NAME} its files (a fixed list, no file system access);
 *   <li>{@code /api/state} ListRuntimeState, {@code /api/process/PID} VerifyProcess, {@code
 *       /api/evidence/REF} GetEvidence, {@code /api/health} Health;
 *   <li>{@code /api/events} server-sent events: {@code id} the event's sequence number, {@code
 *       data} the event as the sinks write it.
 * </ul>
 *
 * Bad input answers 4xx with a JSON reason: an unknown pid 404, a malformed pid or reference 400, a
 * path with {@code ..}, percent escapes or backslashes 400, a request line over {@link #MAX_URI}
 * characters 414, no or a wrong token 401, another method 405. Core API calls run on {@code
 * boundedElastic}, never on the event loop. Thread safe; {@link #close} stops it.
 *
 * <pre>{@code
 * try (UiServer ui = UiServer.start(coreApi, fanOut, 8080, UiServer.newToken())) {
 *   System.err.println("open " + ui.url());
 * }
 * }</pre>
 */
public final class UiServer implements AutoCloseable {
  /** Longest request URI answered; longer ones are 414. */
  public static final int MAX_URI = 1024;

  /** The cookie that carries the token after the page was opened with {@code ?token=}. */
  public static final String COOKIE = "veriruntime_ui";

  /** The header that carries the token. */
  public static final String HEADER = "X-VeriRuntime-Token";

  private static final Pattern PID = Pattern.compile("[1-9][0-9]{0,9}");
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Duration HEARTBEAT = Duration.ofSeconds(15);
  private static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'"
          + " data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final CoreApi api;
  private final LiveEvents events;
  private final byte[] token;
  private final WebAssets assets;
  private final DisposableServer server;
  private final ObjectMapper json = ApiJson.mapper();

  private UiServer(CoreApi api, LiveEvents events, int port, String token) {
    this.api = Objects.requireNonNull(api, "api");
    this.events = Objects.requireNonNull(events, "events");
    this.token = Objects.requireNonNull(token, "token").getBytes(StandardCharsets.UTF_8);
    this.assets = WebAssets.load();
    this.server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(port)
            // Netty answers a longer request line itself (414) before any handler runs.
            .httpRequestDecoder(spec -> spec.maxInitialLineLength(MAX_URI + 64).maxHeaderSize(8192))
            .handle(this::handle)
            .bindNow();
  }

  /**
   * Binds {@code 127.0.0.1:port} (0 picks a free port).
   *
   * @throws RuntimeException (from reactor-netty) when the port cannot be bound
   */
  public static UiServer start(CoreApi api, LiveEvents events, int port, String token) {
    return new UiServer(api, events, port, token);
  }

  /** A new random token: 32 bytes from {@link SecureRandom}, base64url without padding. */
  public static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The port bound. */
  public int port() {
    return server.port();
  }

  /** The page's address with the token, as printed at start. */
  public String url() {
    return "http://127.0.0.1:" + port() + "/?token=" + new String(token, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }

  private Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    secure(res);
    String uri = req.uri();
    if (uri.length() > MAX_URI) {
      return error(
          res,
          HttpResponseStatus.REQUEST_URI_TOO_LONG,
          "request URI longer than " + MAX_URI + " characters");
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      res.header(HttpHeaderNames.ALLOW, "GET, HEAD");
      return error(
          res, HttpResponseStatus.METHOD_NOT_ALLOWED, "read-only: only GET and HEAD are answered");
    }
    QueryStringDecoder query = new QueryStringDecoder(uri);
    String path = query.rawPath();
    if (path.contains("..") || path.contains("%") || path.contains("\\") || path.contains("//")) {
      return error(
          res,
          HttpResponseStatus.BAD_REQUEST,
          "path refused (.., %, \\ or // in " + quote(path) + ")");
    }
    String queryToken = first(query.parameters(), "token");
    if (!authorized(req, queryToken)) {
      return error(
          res,
          HttpResponseStatus.UNAUTHORIZED,
          "missing or wrong token: open the address the agent printed at start (docs/ui.md)");
    }
    if (path.equals("/") || path.equals("/index.html")) {
      if (queryToken != null) {
        res.header(
            HttpHeaderNames.SET_COOKIE,
            COOKIE + "=" + queryToken + "; Path=/; HttpOnly; SameSite=Strict");
      }
      return asset(res, "index.html");
    }
    if (path.startsWith("/assets/")) {
      return asset(res, path.substring("/assets/".length()));
    }
    if (path.equals("/api/state")) {
      return call(res, api::listRuntimeState);
    }
    if (path.equals("/api/health")) {
      return call(res, api::health);
    }
    if (path.startsWith("/api/process/")) {
      String pid = path.substring("/api/process/".length());
      if (!PID.matcher(pid).matches()) {
        return error(res, HttpResponseStatus.BAD_REQUEST, "not a pid: " + quote(pid));
      }
      return call(res, () -> api.verifyProcess(Integer.parseInt(pid)));
    }
    if (path.startsWith("/api/evidence/")) {
      String ref = path.substring("/api/evidence/".length());
      if (!REF.matcher(ref).matches()) {
        return error(
            res, HttpResponseStatus.BAD_REQUEST, "not an evidence reference: " + quote(ref));
      }
      return call(res, () -> api.getEvidence(ref));
    }
    if (path.equals("/api/events")) {
      return eventStream(res);
    }
    return error(res, HttpResponseStatus.NOT_FOUND, "no such page: " + quote(path));
  }

  private boolean authorized(HttpServerRequest req, String queryToken) {
    if (matches(queryToken) || matches(req.requestHeaders().get(HEADER))) {
      return true;
    }
    String auth = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
    if (auth != null && auth.startsWith("Bearer ") && matches(auth.substring(7))) {
      return true;
    }
    String cookies = req.requestHeaders().get(HttpHeaderNames.COOKIE);
    if (cookies != null) {
      for (Cookie c : ServerCookieDecoder.STRICT.decode(cookies)) {
        if (c.name().equals(COOKIE) && matches(c.value())) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean matches(String candidate) {
    return candidate != null
        && MessageDigest.isEqual(token, candidate.getBytes(StandardCharsets.UTF_8));
  }

  private static void secure(HttpServerResponse res) {
    res.header(HttpHeaderNames.CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .header("X-Frame-Options", "DENY")
        .header("Content-Security-Policy", CSP);
  }

  private Publisher<Void> asset(HttpServerResponse res, String name) {
    WebAssets.Asset a = assets.get(name);
    if (a == null) {
      return error(res, HttpResponseStatus.NOT_FOUND, "no such asset: " + quote(name));
    }
    return res.header(HttpHeaderNames.CONTENT_TYPE, a.contentType())
        .sendByteArray(Mono.just(a.bytes()));
  }

  private Publisher<Void> call(HttpServerResponse res, Callable<JsonNode> operation) {
    return Mono.fromCallable(operation)
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(node -> Mono.from(send(res, HttpResponseStatus.OK, node)))
        .onErrorResume(
            ApiException.class,
            e ->
                Mono.from(
                    error(res, HttpResponseStatus.valueOf(e.code().httpStatus()), e.getMessage())));
  }

  private Publisher<Void> eventStream(HttpServerResponse res) {
    Flux<String> lines =
        events
            .subscribe()
            .map(
                n ->
                    "id: "
                        + n.seq()
                        + "\nevent: security\ndata: "
                        + EventJson.toJson(n.event())
                        + "\n\n");
    Flux<String> heartbeat = Flux.interval(HEARTBEAT).map(t -> ": keep-alive\n\n");
    return res.header(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .sendString(
            Flux.merge(Flux.just(": stream open\n\n"), lines, heartbeat), StandardCharsets.UTF_8);
  }

  private Publisher<Void> error(HttpServerResponse res, HttpResponseStatus status, String reason) {
    ObjectNode body = json.createObjectNode().put("status", status.code()).put("error", reason);
    return send(res, status, body);
  }

  private Publisher<Void> send(HttpServerResponse res, HttpResponseStatus status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = json.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    return res.status(status)
        .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
        .sendByteArray(Mono.just(bytes));
  }

  private static String first(Map<String, List<String>> params, String name) {
    List<String> values = params.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** At most 80 characters of what the client sent, for a reason line. */
  private static String quote(String s) {
    return "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
  }
}
