package dev.veriruntime.api.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.api.intake.AlertRejected.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The two formats read from fixtures (src/test/resources/alerts), and every malformed shape. */
class AlertParsersTest {

  static byte[] fixture(String name) throws IOException {
    try (InputStream in = AlertParsersTest.class.getResourceAsStream("/alerts/" + name)) {
      assertThat(in).as("fixture " + name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void falcoDropAndExecuteNamesThePidThePathAndTheContainer() throws Exception {
    byte[] body = fixture("falco/drop-and-execute-new-binary.json");
    Alert a = AlertParsers.parse(AlertFormat.FALCO, body);
    assertThat(a.source()).isEqualTo("falco");
    assertThat(a.rule()).isEqualTo("Drop and execute new binary in container");
    assertThat(a.priority()).isEqualTo("Critical");
    assertThat(a.time()).isEqualTo(Instant.parse("2026-12-03T14:02:11.418723097Z"));
    assertThat(a.pid()).isEqualTo(48213);
    assertThat(a.path()).isEqualTo("/tmp/.x/kworkerd");
    assertThat(a.processName()).isEqualTo("kworkerd");
    assertThat(a.containerId()).isEqualTo("3ad7b26ded6d");
    assertThat(a.inContainer()).isTrue();
    assertThat(a.hostname()).isEqualTo("node-7");
    assertThat(a.tags()).contains("mitre_persistence", "TA0003");
    assertThat(a.label()).isEqualTo("Falco rule 'Drop and execute new binary in container'");
    // Falco itself sends no uuid: the id is the body's digest, the same for a replay.
    assertThat(a.id()).startsWith("sha256:").hasSize("sha256:".length() + 32);
    assertThat(AlertParsers.parse(AlertFormat.FALCO, body).id()).isEqualTo(a.id());
  }

  @Test
  void falcosidekickSendsItsUuidAndMayNameNoPid() throws Exception {
    Alert a =
        AlertParsers.parse(
            AlertFormat.FALCO, fixture("falco/drop-and-execute-new-binary-falcosidekick.json"));
    assertThat(a.id()).isEqualTo("8f7c4e0a-2b1d-4c61-9a3e-5d2f0b9e7c11");
    assertThat(a.pid()).isNull();
    assertThat(a.path()).isEqualTo("/tmp/.x/kworkerd");
    assertThat(a.inContainer()).isTrue();
  }

  @Test
  void falcoHostAlertIsNotInAContainer() throws Exception {
    Alert a =
        AlertParsers.parse(
            AlertFormat.FALCO, fixture("falco/read-sensitive-file-untrusted-host.json"));
    assertThat(a.containerId()).isEqualTo("host");
    assertThat(a.inContainer()).isFalse();
    assertThat(a.pid()).isEqualTo(3120);
    assertThat(a.path()).isEqualTo("/usr/local/bin/sysupd");
    assertThat(a.priority()).isEqualTo("Warning");
  }

  @Test
  void falcoShellInContainer() throws Exception {
    Alert a =
        AlertParsers.parse(AlertFormat.FALCO, fixture("falco/terminal-shell-in-container.json"));
    assertThat(a.rule()).isEqualTo("Terminal shell in container");
    assertThat(a.pid()).isEqualTo(48377);
    assertThat(a.processName()).isEqualTo("bash");
  }

  @Test
  void falcoMemfdExecutableHasNoPathButItsPid() throws Exception {
    Alert a =
        AlertParsers.parse(AlertFormat.FALCO, fixture("falco/fileless-execution-via-memfd.json"));
    assertThat(a.pid()).isEqualTo(3377);
    assertThat(a.path()).as("memfd:payload names no file").isNull();
  }

  @Test
  void edrWithPidAndPath() throws Exception {
    Alert a = AlertParsers.parse(AlertFormat.EDR, fixture("edr/pid-and-path.json"));
    assertThat(a.source()).isEqualTo("acme-edr");
    assertThat(a.id()).isEqualTo("A-2026-0017");
    assertThat(a.pid()).isEqualTo(48213);
    assertThat(a.path()).isEqualTo("/usr/local/bin/sysupd");
    assertThat(a.priority()).isEqualTo("high");
    assertThat(a.label())
        .isEqualTo("EDR alert 'Credential file read by unsigned binary' from acme-edr");
  }

  @Test
  void edrWithPathOnlyAndANumericId() throws Exception {
    Alert a = AlertParsers.parse(AlertFormat.EDR, fixture("edr/path-only.json"));
    assertThat(a.id()).isEqualTo("917");
    assertThat(a.pid()).isNull();
    assertThat(a.rule()).isNull();
    assertThat(a.label()).isEqualTo("EDR alert 917 from soc-script");
  }

  @Test
  void malformedBodiesAreRefusedWithTheReason() {
    assertMalformed(AlertFormat.FALCO, "", "empty");
    assertMalformed(AlertFormat.FALCO, "{\"rule\": ", "malformed JSON");
    assertMalformed(AlertFormat.FALCO, "[1,2]", "JSON object, got array");
    assertMalformed(AlertFormat.FALCO, "{\"rule\":\"x\"} {}", "malformed JSON");
    assertMalformed(
        AlertFormat.FALCO, "{\"output_fields\":{\"proc.pid\":1}}", "missing field rule");
    assertMalformed(AlertFormat.FALCO, "{\"rule\":\"x\"}", "without an output_fields object");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"x\",\"output_fields\":{\"proc.name\":\"a\"}}",
        "names neither proc.pid nor proc.exepath");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"x\",\"output_fields\":{\"proc.pid\":-4}}",
        "proc.pid must be a positive integer");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"x\",\"output_fields\":{\"proc.pid\":1.5}}",
        "proc.pid must be a positive integer");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"x\",\"time\":\"yesterday\",\"output_fields\":{\"proc.pid\":1}}",
        "RFC 3339");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"a\\u0007b\",\"output_fields\":{\"proc.pid\":1}}",
        "control characters");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"" + "r".repeat(300) + "\",\"output_fields\":{\"proc.pid\":1}}",
        "longer than 256");
    assertMalformed(
        AlertFormat.FALCO,
        "{\"rule\":\"x\",\"tags\":\"t\",\"output_fields\":{\"proc.pid\":1}}",
        "tags must be an array");
    assertMalformed(AlertFormat.EDR, "{\"id\":\"1\",\"pid\":1}", "missing field source");
    assertMalformed(AlertFormat.EDR, "{\"source\":\"s\",\"pid\":1}", "missing field id");
    assertMalformed(AlertFormat.EDR, "{\"source\":\"s\",\"id\":\"1\"}", "names a pid or");
    assertMalformed(
        AlertFormat.EDR, "{\"source\":\"s\",\"id\":\"1\",\"path\":\"bin/x\"}", "absolute path");
    assertMalformed(
        AlertFormat.EDR, "{\"source\":\"a b\",\"id\":\"1\",\"pid\":1}", "source must be");
    assertMalformed(
        AlertFormat.EDR, "{\"source\":\"s\",\"id\":\"1\",\"pid\":\"many\"}", "pid must be");
  }

  private static void assertMalformed(AlertFormat format, String body, String because) {
    assertThatThrownBy(
            () -> AlertParsers.parse(format, body.getBytes(StandardCharsets.UTF_8)), body)
        .isInstanceOf(AlertRejected.class)
        .hasMessageContaining(because)
        .extracting(e -> ((AlertRejected) e).reason())
        .isEqualTo(Reason.MALFORMED);
  }
}
