package dev.veriruntime.sinks.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.test.StepVerifier;

class WebhookSinkTest extends SinkContractTest {
  private LocalHttpServer server;

  @BeforeEach
  void startServer() {
    server = new LocalHttpServer();
  }

  @AfterEach
  void stopServer() {
    closeSinks(); // first: the server would otherwise wait for the pool's keep-alive connections
    server.close();
  }

  private WebhookOptions fastRetries(URI uri, WebhookPayload payload, int capacity) {
    return WebhookOptions.defaults(uri, payload)
        .withRetries(2, Duration.ofMillis(5), Duration.ofMillis(20), 0.5)
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(5))
        .withCapacity(capacity);
  }

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) {
    return new WebhookSink(
        fastRetries(server.uri(), WebhookPayload.EVENT, capacity), scheduler, null);
  }

  @Override
  protected Optional<List<String>> deliveredIds() {
    return Optional.of(
        server.requests().stream()
            .filter(r -> r.answered() / 100 == 2)
            .map(r -> EventJson.fromJson(r.body()).id())
            .toList());
  }

  /** One POST at a time: 800 of them on a loaded two-core machine can take well over 10 s. */
  @Override
  protected Duration timeout() {
    return Duration.ofSeconds(60);
  }

  @Override
  protected void breakDownstream() {
    server.defaultStatus = 500;
  }

  private static SecurityEvent sample() {
    return SecurityEvent.builder(
            EventType.RUNTIME_DRIFT, Instant.parse("2026-11-23T08:00:00.123456789Z"))
        .host("node-a")
        .pid(77)
        .exe("/usr/bin/tool", 2049, 42, "ab".repeat(32))
        .reason("code in memory differs from the file")
        .count(2)
        .build();
  }

  @Test
  void serverErrorsAreRetriedUntilSuccess() {
    server.script(503, 502);
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.EVENT, 8))) {
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().delivered()).isEqualTo(1);
      assertThat(sink.stats().failed()).isZero();
      assertThat(sink.retries()).isEqualTo(2);
    }
    assertThat(server.requests())
        .extracting(LocalHttpServer.Request::answered)
        .containsExactly(503, 502, 200);
    assertThat(server.requests())
        .allSatisfy(r -> assertThat(r.contentType()).isEqualTo("application/json"));
  }

  @Test
  void clientErrorsAreNotRetried() {
    server.script(400);
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.EVENT, 8))) {
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(1);
      assertThat(sink.stats().lastFailure()).contains("HTTP 400");
      assertThat(sink.retries()).isZero();
    }
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void exhaustedRetriesCountAsFailed() {
    server.defaultStatus = 503;
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.EVENT, 8))) {
      sink.emit(sample());
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(2);
      assertThat(sink.stats().lastFailure()).contains("gave up after 3 attempts");
    }
    assertThat(server.requests()).hasSize(6);
  }

  @Test
  void slowServerMakesTheSinkDropAndCountNotBlock() {
    server.holdResponses();
    int capacity = 4;
    try (WebhookSink sink =
        new WebhookSink(fastRetries(server.uri(), WebhookPayload.EVENT, capacity))) {
      int accepted = 0;
      for (int i = 0; i < 50; i++) {
        if (sink.emit(sample())) {
          accepted++;
        }
      }
      SinkStats st = sink.stats();
      assertThat(accepted).isEqualTo(capacity);
      assertThat(st.dropped()).isEqualTo(46);
      assertThat(st.pending()).isEqualTo(capacity);

      server.releaseResponses();
      sink.flush().block(timeout());
      assertThat(sink.stats().delivered()).isEqualTo(capacity);
      assertThat(server.requests()).hasSize(capacity);
    }
  }

  @Test
  void deadServerFailsFastWithoutHanging() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      port = s.getLocalPort();
    } // closed: connections are refused
    URI dead = URI.create("http://127.0.0.1:" + port + "/hook");
    try (WebhookSink sink = new WebhookSink(fastRetries(dead, WebhookPayload.EVENT, 8))) {
      for (int i = 0; i < 3; i++) {
        sink.emit(sample());
      }
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(3);
      assertThat(sink.stats().delivered()).isZero();
      assertThat(sink.stats().lastFailure())
          .contains("gave up after 3 attempts")
          .contains("Connection refused");
    }
  }

  @Test
  void aFailureIsKnownWhileItsRetriesGoOn() throws Exception {
    server.defaultStatus = 503;
    WebhookOptions slowRetries =
        fastRetries(server.uri(), WebhookPayload.EVENT, 8)
            .withRetries(2, Duration.ofSeconds(30), Duration.ofSeconds(30), 0);
    try (WebhookSink sink = new WebhookSink(slowRetries)) {
      sink.emit(sample());
      long end = System.nanoTime() + timeout().toNanos();
      while (sink.stats().lastFailure() == null && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      // The first attempt was refused; the next waits 30 s: the event is pending, not failed.
      assertThat(sink.stats().lastFailure()).contains("HTTP 503");
      assertThat(sink.stats().pending()).isEqualTo(1);
      assertThat(sink.stats().failed()).isZero();
      sink.close(Duration.ZERO);
    }
  }

  @Test
  void serverThatNeverAnswersTimesOut() {
    server.holdResponses();
    WebhookOptions options =
        fastRetries(server.uri(), WebhookPayload.EVENT, 8)
            .withRetries(0, Duration.ofMillis(5), Duration.ofMillis(5), 0)
            .withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300));
    try (WebhookSink sink = new WebhookSink(options)) {
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().failed()).isEqualTo(1);
      assertThat(sink.stats().lastFailure()).containsIgnoringCase("timeout");
    }
  }

  @Test
  void backoffIsExponentialInVirtualTime() {
    AtomicInteger attempts = new AtomicInteger();
    Mono<Void> failsTwice =
        Mono.defer(
            () ->
                attempts.incrementAndGet() <= 2
                    ? Mono.error(new WebhookSink.WebhookStatusException(503))
                    : Mono.empty());
    WebhookOptions options =
        WebhookOptions.defaults(server.uri(), WebhookPayload.EVENT)
            .withRetries(5, Duration.ofSeconds(1), Duration.ofSeconds(30), 0);
    StepVerifier.withVirtualTime(
            () -> {
              WebhookSink sink = new WebhookSink(options);
              return sink.withRetries(failsTwice).doFinally(s -> sink.close());
            })
        .expectSubscription()
        .then(() -> assertThat(attempts).hasValue(1))
        .expectNoEvent(Duration.ofMillis(999))
        .then(() -> assertThat(attempts).hasValue(1))
        .thenAwait(Duration.ofMillis(1))
        .then(() -> assertThat(attempts).hasValue(2))
        .expectNoEvent(Duration.ofMillis(1999)) // doubled
        .thenAwait(Duration.ofMillis(1))
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    assertThat(attempts).hasValue(3);
  }

  @Test
  void backoffGivesUpAfterMaxRetriesInVirtualTime() {
    AtomicInteger attempts = new AtomicInteger();
    WebhookOptions options =
        WebhookOptions.defaults(server.uri(), WebhookPayload.EVENT)
            .withRetries(3, Duration.ofSeconds(1), Duration.ofSeconds(3), 0);
    StepVerifier.withVirtualTime(
            () -> {
              WebhookSink sink = new WebhookSink(options);
              return sink.withRetries(
                      Mono.defer(
                          () -> {
                            attempts.incrementAndGet();
                            return Mono.<Void>error(new WebhookSink.WebhookStatusException(500));
                          }))
                  .doFinally(s -> sink.close());
            })
        .expectSubscription()
        .thenAwait(Duration.ofSeconds(1 + 2 + 3)) // 1 s, 2 s, then capped at 3 s
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("gave up after 4 attempts"))
        .verify(Duration.ofSeconds(5));
    assertThat(attempts).hasValue(4);
  }

  @Test
  void slackPayloadIsATextMessage() throws Exception {
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.SLACK, 8))) {
      sink.emit(sample());
      sink.flush().block(timeout());
    }
    JsonNode body = EventJson.mapper().readTree(server.requests().get(0).body());
    assertThat(body.size()).isEqualTo(1);
    assertThat(body.get("text").asText())
        .startsWith("*RUNTIME_DRIFT* on `node-a` (x2 since ")
        .contains("code in memory differs from the file", "`/usr/bin/tool`", "pid 77");
  }

  @Test
  void falcoPayloadHasFalcoFields() throws Exception {
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.FALCO, 8))) {
      sink.emit(sample());
      sink.flush().block(timeout());
    }
    JsonNode body = EventJson.mapper().readTree(server.requests().get(0).body());
    assertThat(body.get("priority").asText()).isEqualTo("Critical");
    assertThat(body.get("rule").asText()).isEqualTo("VeriRuntime RUNTIME_DRIFT");
    assertThat(body.get("time").asText()).isEqualTo("2026-11-23T08:00:00.123456789Z");
    assertThat(body.get("source").asText()).isEqualTo("veriruntime");
    assertThat(body.get("hostname").asText()).isEqualTo("node-a");
    assertThat(body.get("output").asText())
        .startsWith(
            "2026-11-23T08:00:00.123456789Z: Critical RUNTIME_DRIFT code in memory differs");
    JsonNode fields = body.get("output_fields");
    assertThat(fields.get("proc.pid").asInt()).isEqualTo(77);
    assertThat(fields.get("proc.exepath").asText()).isEqualTo("/usr/bin/tool");
    assertThat(fields.get("veriruntime.count").asLong()).isEqualTo(2);
    assertThat(fields.get("veriruntime.exe.sha256").asText()).isEqualTo("ab".repeat(32));
  }

  @Test
  void extraHeadersAreSent() {
    WebhookOptions options =
        fastRetries(server.uri(), WebhookPayload.EVENT, 8)
            .withHeaders(Map.of("Authorization", "Bearer t"));
    try (WebhookSink sink = new WebhookSink(options)) {
      sink.emit(sample());
      sink.flush().block(timeout());
      assertThat(sink.stats().delivered()).isEqualTo(1);
    }
    assertThat(server.requests().get(0).authorization()).isEqualTo("Bearer t");
  }

  @Test
  void bodyIsSentWithContentLengthNotChunked() {
    try (WebhookSink sink = new WebhookSink(fastRetries(server.uri(), WebhookPayload.EVENT, 8))) {
      sink.emit(sample());
      sink.flush().block(timeout());
    }
    LocalHttpServer.Request request = server.requests().get(0);
    assertThat(request.body()).isNotEmpty();
    assertThat(request.contentLength())
        .isEqualTo(Integer.toString(request.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(request.transferEncoding()).isNull();
  }
}
