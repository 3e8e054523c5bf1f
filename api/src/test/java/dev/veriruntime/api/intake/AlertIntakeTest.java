package dev.veriruntime.api.intake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.intake.AlertReceipt.Action;
import dev.veriruntime.api.intake.AlertRejected.Reason;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * The intake against the real /proc (this JVM is the live process; pid {@link #NO_PID} runs
 * nowhere), with a hand-driven nano clock for rates and folds.
 */
class AlertIntakeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SELF = (int) ProcessHandle.current().pid();
  private static final int NO_PID = Integer.MAX_VALUE;

  @TempDir Path dir;

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  private AlertIntake.Builder intake() {
    return AlertIntake.builder()
        .clocks(Clock.fixed(Instant.parse("2026-12-03T15:00:00Z"), ZoneOffset.UTC), nanos::get)
        .meterRegistry(meters);
  }

  /** The Drop-and-execute fixture, about {@code pid}, {@code path} and {@code container}. */
  private static byte[] falco(String rule, Integer pid, String name, String path, String container)
      throws Exception {
    ObjectNode root =
        (ObjectNode)
            JSON.readTree(AlertParsersTest.fixture("falco/drop-and-execute-new-binary.json"));
    root.put("rule", rule);
    ObjectNode fields = (ObjectNode) root.get("output_fields");
    if (pid == null) {
      fields.remove("proc.pid");
    } else {
      fields.put("proc.pid", pid);
    }
    fields.put("proc.name", name);
    fields.put("proc.exepath", path);
    fields.put("container.id", container);
    return JSON.writeValueAsBytes(root);
  }

  private static byte[] edr(String source, String id, int pid) {
    return ("{\"source\":\"" + source + "\",\"id\":\"" + id + "\",\"pid\":" + pid + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aRunningPidIsVerifiedAsAProcess() throws Exception {
    AlertIntake in = intake().build();
    AlertReceipt r =
        in.submit(
            "falco",
            falco(
                "Drop and execute new binary in container",
                SELF,
                "java",
                "/nonexistent/x",
                "3ad7b26ded6d"),
            "uid 0 pid 1");
    assertThat(r.action()).isEqualTo(Action.VERIFYING);
    assertThat(r.target()).isEqualTo("pid " + SELF);
    assertThat(r.source()).isEqualTo("falco");
    StepVerifier.create(in.accepted().take(1))
        .assertNext(
            a -> {
              assertThat(a.target()).isInstanceOf(AlertTarget.Process.class);
              assertThat(((AlertTarget.Process) a.target()).pid()).isEqualTo(SELF);
              assertThat(((AlertTarget.Process) a.target()).startTicks()).isPositive();
              assertThat(a.alert().id()).isEqualTo(r.alertId());
              assertThat(a.peer()).isEqualTo("uid 0 pid 1");
            })
        .verifyComplete();
    assertThat(in.acceptedCount()).isEqualTo(1);
    assertThat(meters.counter(AlertIntake.ALERTS, "outcome", "accepted", "reason", "none").count())
        .isEqualTo(1.0);
  }

  @Test
  void theSameRuleAboutTheSameTargetIsFoldedWithinTheWindow() throws Exception {
    AlertIntake in = intake().foldWindow(Duration.ofSeconds(60)).build();
    byte[] alert = falco("Terminal shell in container", SELF, "java", null, "host");
    AlertReceipt first = in.submit("falco", alert, "p");
    // Another body (another time) of the same rule and target: a new id, folded into the first.
    byte[] again =
        new String(alert, StandardCharsets.UTF_8)
            .replace("2026-12-03T14:02:11", "2026-12-03T14:02:12")
            .getBytes(StandardCharsets.UTF_8);
    AlertReceipt second = in.submit("falco", again, "p");
    AlertReceipt third = in.submit("falco", again, "p");
    assertThat(second.action()).isEqualTo(Action.FOLDED);
    assertThat(second.alertId()).isNotEqualTo(first.alertId());
    assertThat(second.foldedInto()).isEqualTo(first.alertId());
    assertThat(third.repeats()).isEqualTo(2);
    // Another rule about the same process asks another question.
    AlertReceipt other =
        in.submit("falco", falco("Read sensitive file untrusted", SELF, "java", null, "host"), "p");
    assertThat(other.action()).isEqualTo(Action.VERIFYING);
    // After the window the same rule is verified again.
    nanos.addAndGet(Duration.ofSeconds(61).toNanos());
    assertThat(in.submit("falco", again, "p").action()).isEqualTo(Action.VERIFYING);
    assertThat(in.foldedCount()).isEqualTo(2);
    assertThat(in.acceptedCount()).isEqualTo(3);
  }

  @Test
  void aGonePidWithAHostPathVerifiesTheFile() throws Exception {
    Path file = Files.write(dir.resolve("tool"), new byte[] {1, 2, 3});
    AlertIntake in = intake().build();
    AlertReceipt r =
        in.submit(
            "falco",
            falco("Read sensitive file untrusted", NO_PID, "tool", file.toString(), "host"),
            "p");
    assertThat(r.target()).isEqualTo(file.toString());
    StepVerifier.create(in.accepted().take(1))
        .assertNext(a -> assertThat(a.target()).isEqualTo(new AlertTarget.Binary(file.toString())))
        .verifyComplete();
  }

  @Test
  void aReusedPidIsNotTheAlertsProcess() throws Exception {
    Path file = Files.write(dir.resolve("nginx"), new byte[] {1});
    AlertIntake in = intake().build();
    // The pid runs "java" now, the alert named "nginx": its file is verified instead.
    AlertReceipt r = in.submit("falco", falco("r", SELF, "nginx", file.toString(), "host"), "p");
    assertThat(r.target()).isEqualTo(file.toString());
    assertRejected(
        in,
        "falco",
        falco("r2", SELF, "nginx", null, "host"),
        Reason.NO_SUCH_TARGET,
        "now runs \"java\", not \"nginx\"");
  }

  @Test
  void targetsThatDoNotExistOrCannotBeReachedAreRefused() throws Exception {
    AlertIntake in = intake().build();
    assertRejected(
        in,
        "falco",
        falco("r", NO_PID, "x", "/nonexistent/veriruntime/x", "host"),
        Reason.NO_SUCH_TARGET,
        "pid " + NO_PID + " is not running, and /nonexistent/veriruntime/x does not exist");
    assertRejected(
        in,
        "edr",
        edr("acme", "1", NO_PID),
        Reason.NO_SUCH_TARGET,
        "is not running and the alert names no path");
    assertRejected(
        in,
        "falco",
        falco(
            "Drop and execute new binary in container",
            NO_PID,
            "x",
            "/usr/bin/env",
            "3ad7b26ded6d"),
        Reason.UNRESOLVABLE_TARGET,
        "/usr/bin/env is a path inside container 3ad7b26ded6d");
    assertThat(in.rejectedCount(Reason.NO_SUCH_TARGET)).isEqualTo(2);
    assertThat(in.rejectedCount(Reason.UNRESOLVABLE_TARGET)).isEqualTo(1);
    assertThat(
            meters
                .counter(AlertIntake.ALERTS, "outcome", "rejected", "reason", "no_such_target")
                .count())
        .isEqualTo(2.0);
  }

  @Test
  void anAlertAboutAnotherHostIsRefused() throws Exception {
    AlertIntake in = intake().hostName("build-3.example.net").build();
    byte[] alert = falco("r", SELF, "java", null, "host");
    // The fixture's hostname is node-7: its pid is node-7's, not ours.
    assertRejected(
        in,
        "falco",
        alert,
        Reason.UNRESOLVABLE_TARGET,
        "the alert is about host node-7; this agent runs on build-3.example.net");
    assertThat(AlertIntake.sameHost("build-3.example.net", "BUILD-3")).isTrue();
    assertThat(AlertIntake.sameHost("build-3", "build-30")).isFalse();
    AlertIntake here = intake().hostName("node-7.cluster.local").build();
    assertThat(here.submit("falco", alert, "p").action()).isEqualTo(Action.VERIFYING);
  }

  @Test
  void unknownFormatsMalformedAndOversizedBodiesAreRefusedAndCounted() throws Exception {
    AlertIntake in = intake().maxBodyBytes(1024).build();
    assertRejected(in, "splunk", edr("s", "1", SELF), Reason.UNKNOWN_FORMAT, "formats: falco, edr");
    assertRejected(
        in, "falco", "{nope".getBytes(StandardCharsets.UTF_8), Reason.MALFORMED, "malformed JSON");
    assertRejected(in, "edr", new byte[1025], Reason.TOO_LARGE, "over the limit of 1024 bytes");
    assertThat(in.tooLarge(1 << 20).reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(in.rejectedCount(Reason.TOO_LARGE)).isEqualTo(2);
    assertThat(in.rejectedCount(Reason.UNKNOWN_FORMAT)).isEqualTo(1);
    assertThat(in.rejectedCount(Reason.MALFORMED)).isEqualTo(1);
    assertThat(in.acceptedCount()).isZero();
  }

  @Test
  void aFloodIsRefusedPerSourceAndInAll() throws Exception {
    AlertIntake in = intake().rate(1, 3, 5).build();
    for (int i = 0; i < 3; i++) {
      in.submit("edr", edr("loud", "L" + i, SELF), "p");
    }
    assertRejected(
        in, "edr", edr("loud", "L3", SELF), Reason.RATE_LIMITED, "too many alerts from loud");
    // Another source has its own budget...
    in.submit("edr", edr("quiet", "Q0", SELF), "p");
    in.submit("edr", edr("quiet2", "Q1", SELF), "p");
    // ...but all sources share one: invented source names do not multiply it.
    assertRejected(in, "edr", edr("new-name", "N0", SELF), Reason.RATE_LIMITED, "over its rate");
    nanos.addAndGet(Duration.ofSeconds(1).toNanos());
    in.submit("edr", edr("loud", "L4", SELF), "p");
    assertThat(in.rejectedCount(Reason.RATE_LIMITED)).isEqualTo(2);
  }

  @Test
  void acceptedAlertsWaitInABoundedQueueAndTheExcessIsBusy() throws Exception {
    AlertIntake in = intake().queue(1).build();
    in.submit("edr", edr("a", "1", SELF), "p");
    // Nobody verifies yet: the one place is taken.
    assertRejected(in, "edr", edr("b", "2", SELF), Reason.BUSY, "wait for verification");
    StepVerifier.create(in.accepted().take(1))
        .assertNext(a -> assertThat(a.alert().id()).isEqualTo("1"))
        .verifyComplete();
    assertThat(in.rejectedCount(Reason.BUSY)).isEqualTo(1);
  }

  @Test
  void latencyIsFromReceiptToVerdict() throws Exception {
    AlertIntake in = intake().build();
    in.submit("edr", edr("a", "1", SELF), "p");
    AcceptedAlert a = in.accepted().blockFirst(Duration.ofSeconds(5));
    nanos.addAndGet(Duration.ofMillis(42).toNanos());
    assertThat(in.verdictReached(a)).isEqualTo(Duration.ofMillis(42));
    assertThat(in.latency().count()).isEqualTo(1);
  }

  private static void assertRejected(
      AlertIntake in, String format, byte[] body, Reason reason, String because) {
    assertThatThrownBy(() -> in.submit(format, body, "p"))
        .isInstanceOf(AlertRejected.class)
        .hasMessageContaining(because)
        .extracting(e -> ((AlertRejected) e).reason())
        .isEqualTo(reason);
  }
}
