package dev.veriruntime.agent.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiJson;
import dev.veriruntime.api.CoreApi;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;

/** The web view's server over loopback, with a Core API of canned answers. */
class UiServerTest {
  private static final String TOKEN = "test-token-0123456789";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final Sinks.Many<LiveEvents.Numbered> events = Sinks.many().replay().all();
  private UiServer server;
  private HttpClient client;

  /** Answers for pid 42 only; the rest as the daemon would. */
  private static final class CannedApi implements CoreApi {
    @Override
    public JsonNode verifyProcess(int pid) throws ApiException {
      if (pid != 42) {
        throw new ApiException(ApiException.Code.NOT_FOUND, "no such process: " + pid);
      }
      return ApiJson.mapper().createObjectNode().put("pid", 42).put("verdict", "VERIFIED");
    }

    @Override
    public JsonNode verifyBinary(String target) throws ApiException {
      throw new ApiException(ApiException.Code.UNAVAILABLE, "not served by the web view");
    }

    @Override
    public JsonNode getEvidence(String ref) throws ApiException {
      throw new ApiException(ApiException.Code.NOT_FOUND, "no evidence " + ref);
    }

    @Override
    public JsonNode listRuntimeState() {
      JsonNode state = ApiJson.mapper().createObjectNode();
      ((com.fasterxml.jackson.databind.node.ObjectNode) state)
          .putArray("processes")
          .addObject()
          .put("pid", 42)
          .put("verdict", "VERIFIED");
      return state;
    }

    @Override
    public JsonNode health() {
      return ApiJson.mapper().createObjectNode().put("uptimeSeconds", 1);
    }
  }

  private record Answer(int status, String body, String setCookie, String csp) {}

  @BeforeEach
  void start() {
    server = UiServer.start(new CannedApi(), events::asFlux, 0, TOKEN);
    client = HttpClient.create().baseUrl("http://127.0.0.1:" + server.port());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Answer get(HttpClient c, String uri) {
    return request(c, HttpMethod.GET, uri);
  }

  private Answer request(HttpClient c, HttpMethod method, String uri) {
    return c.request(method)
        .uri(uri)
        .responseSingle(
            (res, body) ->
                body.asString(StandardCharsets.UTF_8)
                    .defaultIfEmpty("")
                    .map(
                        b ->
                            new Answer(
                                res.status().code(),
                                b,
                                res.responseHeaders().get("Set-Cookie"),
                                res.responseHeaders().get("Content-Security-Policy"))))
        .block(WAIT);
  }

  private HttpClient withToken() {
    return client.headers(h -> h.set(UiServer.HEADER, TOKEN));
  }

  @Test
  void everyRequestNeedsTheToken() {
    assertThat(get(client, "/").status()).isEqualTo(401);
    assertThat(get(client, "/api/state").status()).isEqualTo(401);
    assertThat(get(client, "/api/state?token=wrong").status()).isEqualTo(401);
    assertThat(
            get(client.headers(h -> h.set("Authorization", "Bearer nope")), "/api/health").status())
        .isEqualTo(401);
    Answer wrong = get(client, "/api/events");
    assertThat(wrong.status()).isEqualTo(401);
    assertThat(wrong.body()).contains("missing or wrong token");
  }

  @Test
  void thePageOpenedWithTheTokenSetsTheCookieThatLaterRequestsCarry() {
    Answer page = get(client, "/?token=" + TOKEN);
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.body()).contains("<div id=\"tree\"");
    assertThat(page.setCookie())
        .startsWith(UiServer.COOKIE + "=" + TOKEN)
        .contains("HttpOnly", "SameSite=Strict");
    assertThat(page.csp()).contains("default-src 'none'", "script-src 'self'");
    HttpClient withCookie = client.headers(h -> h.set("Cookie", UiServer.COOKIE + "=" + TOKEN));
    Answer state = get(withCookie, "/api/state");
    assertThat(state.status()).isEqualTo(200);
    assertThat(state.body()).contains("\"pid\":42");
    assertThat(get(withCookie, "/assets/vendor/dagre.js").body()).contains("dagre");
    assertThat(
            get(client.headers(h -> h.set("Authorization", "Bearer " + TOKEN)), "/api/health")
                .status())
        .isEqualTo(200);
  }

  @Test
  void badInputIsA4xxWithAReason() {
    HttpClient c = withToken();
    Answer unknown = get(c, "/api/process/99999");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body()).contains("no such process: 99999");
    Answer notAPid = get(c, "/api/process/12;rm");
    assertThat(notAPid.status()).isEqualTo(400);
    assertThat(notAPid.body()).contains("not a pid");
    assertThat(get(c, "/api/process/0").status()).isEqualTo(400);
    Answer traversal = get(c, "/assets/..%2f..%2fetc%2fpasswd");
    assertThat(traversal.status()).isEqualTo(400);
    assertThat(traversal.body()).contains("path refused");
    assertThat(get(c, "/assets/../../etc/passwd").status()).isEqualTo(400);
    assertThat(get(c, "/assets/nothing.js").status()).isEqualTo(404);
    assertThat(get(c, "/api/evidence/a%20b").status()).isEqualTo(400);
    Answer huge = get(c, "/api/state?q=" + "x".repeat(5000));
    assertThat(huge.status()).isEqualTo(414);
    Answer tooLongForUs = get(c, "/api/state?q=" + "x".repeat(UiServer.MAX_URI));
    assertThat(tooLongForUs.status()).isEqualTo(414);
    assertThat(tooLongForUs.body()).contains("longer than");
    assertThat(request(c, HttpMethod.POST, "/api/state").status()).isEqualTo(405);
    assertThat(request(c, HttpMethod.DELETE, "/api/process/42").status()).isEqualTo(405);
  }

  @Test
  void aProcessIsVerifiedThroughTheCoreApi() {
    Answer v = get(withToken(), "/api/process/42");
    assertThat(v.status()).isEqualTo(200);
    assertThat(v.body()).contains("\"verdict\":\"VERIFIED\"");
  }

  @Test
  void liveEventsArriveAsServerSentEventsWithTheirSequenceNumber() {
    SecurityEvent e =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.parse("2026-12-03T10:00:00Z"))
            .host("h")
            .pid(4242)
            .exe("/tmp/x", 1, 2, "ab".repeat(32))
            .reason("unknown binary /tmp/x")
            .build();
    events.tryEmitNext(new LiveEvents.Numbered(7, e));
    String frame =
        withToken()
            .get()
            .uri("/api/events")
            .responseContent()
            .asString(StandardCharsets.UTF_8)
            .filter(s -> s.contains("data:"))
            .next()
            .block(WAIT);
    assertThat(frame)
        .contains("id: 7\n", "event: security\n", "\"reason\":\"unknown binary /tmp/x\"");
  }

  @Test
  void theServerListensOnLoopbackOnly() {
    assertThat(server.url()).startsWith("http://127.0.0.1:" + server.port() + "/?token=");
    HttpClient other =
        HttpClient.create().baseUrl("http://" + firstNonLoopbackAddress() + ":" + server.port());
    Mono<Integer> attempt =
        other.get().uri("/").responseSingle((res, body) -> Mono.just(res.status().code()));
    assertThat(attempt.onErrorReturn(-1).block(WAIT)).isEqualTo(-1);
  }

  private static String firstNonLoopbackAddress() {
    try {
      return java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
          .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
          .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress())
          .map(java.net.InetAddress::getHostAddress)
          .findFirst()
          .orElse("192.0.2.1");
    } catch (java.net.SocketException e) {
      return "192.0.2.1";
    }
  }
}
