package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiServerTest.Raw;
import dev.veriruntime.api.intake.AcceptedAlert;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.api.intake.AlertRejected.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /v1/alerts} through a real server on a Unix socket: receipts and every refusal. */
class AlertRouteTest {
  private static final int SELF = (int) ProcessHandle.current().pid();

  @TempDir Path dir;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private Path serve(AlertIntake intake) throws IOException {
    Path socket = dir.resolve("api.sock");
    closeables.add(
        ApiServer.builder(LocalCoreApi.builder().build())
            .socket(socket)
            .alertIntake(intake)
            .bind());
    return socket;
  }

  /** Falco's drop-and-execute fixture, about this JVM's pid. */
  private static String falcoAboutSelf() throws IOException {
    try (InputStream in =
        AlertRouteTest.class.getResourceAsStream(
            "/alerts/falco/drop-and-execute-new-binary.json")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .replace("\"proc.pid\":48213", "\"proc.pid\":" + SELF)
          .replace("\"proc.name\":\"kworkerd\"", "\"proc.name\":\"java\"");
    }
  }

  private static String post(String uri, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return "POST "
        + uri
        + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
        + bytes.length
        + "\r\nConnection: close\r\n\r\n"
        + body;
  }

  @Test
  void aFalcoAlertIsAcceptedWithAReceiptAndTheSenderNamed() throws Exception {
    AlertIntake intake = AlertIntake.builder().build();
    Path socket = serve(intake);
    Raw answer = Raw.send(socket, post("/v1/alerts?format=falco", falcoAboutSelf()));
    assertThat(answer.status()).as(answer.body()).isEqualTo(202);
    JsonNode receipt = answer.json();
    assertThat(receipt.path("action").asText()).isEqualTo("VERIFYING");
    assertThat(receipt.path("source").asText()).isEqualTo("falco");
    assertThat(receipt.path("rule").asText()).isEqualTo("Drop and execute new binary in container");
    assertThat(receipt.path("target").asText()).isEqualTo("pid " + SELF);
    assertThat(receipt.path("alertId").asText()).startsWith("sha256:");
    AcceptedAlert a = intake.accepted().blockFirst(Duration.ofSeconds(5));
    assertThat(a.peer()).matches("uid \\d+ pid " + SELF);
    // Without ?format= the body is read as Falco's; the repeat is folded into the first.
    Raw again = Raw.send(socket, post("/v1/alerts", falcoAboutSelf()));
    assertThat(again.status()).isEqualTo(202);
    assertThat(again.json().path("action").asText()).isEqualTo("FOLDED");
    assertThat(again.json().path("foldedInto").asText())
        .isEqualTo(receipt.path("alertId").asText());
  }

  @Test
  void theClientSubmitsToo() throws Exception {
    AlertIntake intake = AlertIntake.builder().build();
    Path socket = serve(intake);
    try (ApiClient client = ApiClient.connect(socket, Duration.ofSeconds(10))) {
      JsonNode receipt =
          client.submitAlert(
              "edr",
              ("{\"source\":\"acme\",\"id\":\"A-1\",\"pid\":" + SELF + "}")
                  .getBytes(StandardCharsets.UTF_8));
      assertThat(receipt.path("alertId").asText()).isEqualTo("A-1");
      ApiException e =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              () -> client.submitAlert("edr", "{}".getBytes(StandardCharsets.UTF_8)),
              ApiException.class);
      assertThat(e.code()).isEqualTo(ApiException.Code.BAD_REQUEST);
      assertThat(e.getMessage()).contains("missing field source");
    }
  }

  @Test
  void badInputIsRefusedWithTheReasonAndCounted() throws Exception {
    AlertIntake intake = AlertIntake.builder().maxBodyBytes(4096).rate(1, 2, 100).build();
    Path socket = serve(intake);
    record Case(String request, int status, String error, String reason, String message) {}
    String chunked =
        "POST /v1/alerts?format=edr HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            + "Connection: close\r\n\r\n"
            + "1000\r\n"
            + "x".repeat(4096)
            + "\r\n1000\r\n"
            + "x".repeat(4096)
            + "\r\n0\r\n\r\n";
    List<Case> cases =
        List.of(
            new Case(
                post("/v1/alerts?format=falco", "{\"rule\":"),
                400,
                "BAD_REQUEST",
                "MALFORMED",
                "malformed JSON"),
            new Case(
                post("/v1/alerts?format=splunk", "{}"),
                400,
                "BAD_REQUEST",
                "UNKNOWN_FORMAT",
                "unknown alert format \"splunk\""),
            new Case(
                post("/v1/alerts?format=edr", "{\"source\":\"s\",\"id\":\"1\",\"pid\":2147483647}"),
                404,
                "NOT_FOUND",
                "NO_SUCH_TARGET",
                "is not running"),
            new Case(
                post(
                    "/v1/alerts?format=edr",
                    "{\"source\":\"s\",\"id\":\"1\",\"path\":\"/nonexistent/veriruntime\"}"),
                404,
                "NOT_FOUND",
                "NO_SUCH_TARGET",
                "does not exist"),
            new Case(
                "POST /v1/alerts?format=edr HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                    + "Connection: close\r\n\r\nxx",
                413,
                "BAD_REQUEST",
                "TOO_LARGE",
                "100000 bytes is over the limit of 4096"),
            new Case(chunked, 413, "BAD_REQUEST", "TOO_LARGE", "over the limit of 4096"));
    for (Case c : cases) {
      Raw answer = Raw.send(socket, c.request);
      assertThat(answer.status()).as(c.request.substring(0, 40)).isEqualTo(c.status);
      assertThat(answer.json().path("error").asText()).isEqualTo(c.error);
      assertThat(answer.json().path("reason").asText()).isEqualTo(c.reason);
      assertThat(answer.json().path("message").asText()).contains(c.message);
    }
    Raw get = Raw.get(socket, "/v1/alerts");
    assertThat(get.status()).isEqualTo(405);
    assertThat(get.header("allow")).isEqualTo("POST");

    // A flood from one source: its burst (2) passes, the rest is 429 with Retry-After.
    List<Integer> statuses = new ArrayList<>();
    Raw last = null;
    for (int i = 0; i < 5; i++) {
      last =
          Raw.send(
              socket,
              post(
                  "/v1/alerts?format=edr",
                  "{\"source\":\"loud\",\"id\":\""
                      + i
                      + "\",\"pid\":"
                      + SELF
                      + ",\"rule\":\"r"
                      + i
                      + "\"}"));
      statuses.add(last.status());
    }
    assertThat(statuses).containsExactly(202, 202, 429, 429, 429);
    assertThat(last.header("retry-after")).isEqualTo("1");
    assertThat(last.json().path("error").asText()).isEqualTo("UNAVAILABLE");
    assertThat(last.json().path("reason").asText()).isEqualTo("RATE_LIMITED");

    assertThat(intake.rejectedCount(Reason.MALFORMED)).isEqualTo(1);
    assertThat(intake.rejectedCount(Reason.UNKNOWN_FORMAT)).isEqualTo(1);
    assertThat(intake.rejectedCount(Reason.NO_SUCH_TARGET)).isEqualTo(2);
    assertThat(intake.rejectedCount(Reason.TOO_LARGE)).isEqualTo(2);
    assertThat(intake.rejectedCount(Reason.RATE_LIMITED)).isEqualTo(3);
    assertThat(Raw.get(socket, "/v1/health").status()).as("still serving").isIn(200, 503);
  }

  @Test
  void withoutAnIntakeTheRouteIsUnavailable() throws Exception {
    Path socket = serve(null);
    Raw answer = Raw.send(socket, post("/v1/alerts?format=falco", "{}"));
    assertThat(answer.status()).isEqualTo(503);
    assertThat(answer.json().path("message").asText()).contains("not enabled");
  }
}
