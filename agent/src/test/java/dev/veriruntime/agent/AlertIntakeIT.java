package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiClient;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import dev.veriruntime.verifier.testing.Prerequisites;
import dev.veriruntime.verifier.testing.ScenarioPrograms;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: a real agent with its control API and journal; a trusted program runs and
 * another process patches its code through /proc/PID/mem; then Falco's alert (the Drop-and-execute
 * fixture, as Falco's http output sends it) names that pid on {@code POST /v1/alerts}. The agent
 * verifies the process at once and reports RUNTIME_DRIFT naming the alert, with the alert's source
 * and id in the event and in the journal. Prints the latency from receipt to verdict with the load.
 */
class AlertIntakeIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String RULE = "Drop and execute new binary in container";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path work;

  private static Path patchable;
  private static Path patcher;
  private static Path journalDir;
  private static EventLines events;
  private static Daemon daemon;
  private static Thread runner;
  private static ApiClient api;
  private final List<Process> started = new ArrayList<>();

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    Prerequisites.require(
        "gcc", ScenarioPrograms.gcc().isPresent() ? Optional.empty() : Optional.of("no gcc"));
    Path build = Files.createDirectories(work.resolve("build"));
    patchable = ScenarioPrograms.compile(build, "patchable", "alert-patchable");
    patcher = ScenarioPrograms.compile(build, "patcher", "alert-patcher");
    Path manifest = work.resolve("trusted.intoto.json");
    // The program itself is trusted: what the alert's verification finds is the patch alone.
    Files.write(
        manifest, new ManifestBuilder(ManifestPredicate.TYPE).add(patchable).build().toJsonBytes());
    ReferenceStore references =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED)
            .loadAll(List.of(manifest));
    Policy policy = Policy.defaults();
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    events = new EventLines();
    Path state = Files.createDirectories(work.resolve("state"));
    journalDir = state;
    Path socket = work.resolve("api.sock");
    daemon =
        Daemon.start(
            new Daemon.Settings(policy, references, true, state, journalDir, true, false, socket),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            System.err);
    api = ApiClient.connect(socket);
    runner = new Thread(() -> daemon.run(null), "alert-intake-agent");
    runner.start();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    if (api != null) {
      api.close();
    }
    if (daemon != null) {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }
  }

  @org.junit.jupiter.api.AfterEach
  void killStarted() throws InterruptedException {
    for (Process p : started) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void falcoAlertNamingAPatchedProcessIsRuntimeDriftLinkedToTheAlert() throws Exception {
    Path victim =
        Files.copy(patchable, work.resolve("alert-victim"), StandardCopyOption.COPY_ATTRIBUTES);
    Process target = start(victim.toString());
    String[] ready = readyFields(target);
    String address = ready[2];
    Process patching =
        start(
            Files.copy(patcher, work.resolve("alert-writer"), StandardCopyOption.COPY_ATTRIBUTES)
                .toString(),
            "procmem",
            Long.toString(target.pid()),
            address);
    assertThat(patching.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(patching.exitValue()).as("the patch succeeded").isZero();

    byte[] alert = falcoAlert((int) target.pid(), victim);
    JsonNode receipt = api.submitAlert("falco", alert);
    assertThat(receipt.path("action").asText()).isEqualTo("VERIFYING");
    assertThat(receipt.path("target").asText()).isEqualTo("pid " + target.pid());
    String alertId = receipt.path("alertId").asText();

    JsonNode drift =
        await(
            "RUNTIME_DRIFT answering alert " + alertId,
            e ->
                e.path("type").asText().equals("RUNTIME_DRIFT")
                    && e.path("pid").asLong() == target.pid()
                    && e.path("details").path("alert").path("id").asText().equals(alertId));
    assertThat(drift.path("reason").asText())
        .startsWith(
            "Falco rule '"
                + RULE
                + "' → RUNTIME_DRIFT: running process "
                + victim
                + ": MEMORY_CODE failed: 1 mapping(s) modified in memory; first: code at 0x"
                + address);
    JsonNode asked = drift.path("details").path("alert");
    assertThat(asked.path("source").asText()).isEqualTo("falco");
    assertThat(asked.path("rule").asText()).isEqualTo(RULE);
    assertThat(asked.path("format").asText()).isEqualTo("falco");
    assertThat(drift.path("details").path("finding").asText()).isEqualTo("CODE_MODIFIED");
    // It is in an incident: its own, or the one the write already opened (then as UPDATED).
    assertThat(drift.path("incident").path("state").asText()).isIn("OPENED", "UPDATED");

    // The same alert again within the fold window: folded, not verified again.
    JsonNode again = api.submitAlert("falco", alert);
    assertThat(again.path("action").asText()).isEqualTo("FOLDED");
    assertThat(again.path("foldedInto").asText()).isEqualTo(alertId);

    // The journal holds the answer (a note) and the event, both with the alert's source and id.
    JsonNode note =
        awaitJournal(
            "the note answering " + alertId,
            l ->
                l.path("kind").asText().equals("note")
                    && l.path("note")
                        .path("detail")
                        .path("alert")
                        .path("id")
                        .asText()
                        .equals(alertId));
    assertThat(note.path("note").path("topic").asText()).isEqualTo("alert");
    assertThat(note.path("note").path("detail").path("outcome").asText())
        .isEqualTo("RUNTIME_DRIFT");
    assertThat(note.path("note").path("detail").path("alert").path("source").asText())
        .isEqualTo("falco");
    assertThat(note.path("note").path("detail").path("event").asText())
        .isEqualTo(drift.path("id").asText());
    assertThat(note.path("note").path("detail").path("verdict").path("verdict").asText())
        .isEqualTo("FAILED");
    awaitJournal(
        "the event answering " + alertId,
        l ->
            l.path("kind").asText().equals("event")
                && l.path("event").path("details").path("alert").path("id").asText().equals(alertId)
                && l.path("event").path("type").asText().equals("RUNTIME_DRIFT"));

    double first = asked.path("verdictMillis").asDouble();
    // The same verification asked directly (GET /v1/process/PID), timed by the caller: the
    // baseline the intake's latency compares with on this machine at this load.
    long t0 = System.nanoTime();
    JsonNode direct = api.verifyProcess((int) target.pid());
    double directMillis = (System.nanoTime() - t0) / 1e6;
    assertThat(direct.path("verdict").asText()).isEqualTo("FAILED");
    // A burst of ten alerts of other rules about the same process: each verified in turn.
    AlertIntake intake = daemon.alertIntake().orElseThrow();
    long before = intake.latency().count();
    for (int i = 0; i < 10; i++) {
      ObjectNode other = (ObjectNode) JSON.readTree(alert);
      other.put("rule", "Burst rule " + i);
      assertThat(api.submitAlert("falco", JSON.writeValueAsBytes(other)).path("action").asText())
          .isEqualTo("VERIFYING");
    }
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (intake.latency().count() < before + 10 && System.nanoTime() < deadline) {
      Thread.sleep(50); // the agent verifies on real time
    }
    assertThat(intake.latency().count()).isEqualTo(before + 10);
    System.out.printf(
        "alert intake latency (received -> verdict): first %.1f ms (VerifyProcess asked directly:"
            + " %.1f ms); all %d alerts: mean %.1f ms, max %.1f ms; load average %s%n",
        first,
        directMillis,
        intake.latency().count(),
        intake.latency().mean(TimeUnit.MILLISECONDS),
        intake.latency().max(TimeUnit.MILLISECONDS),
        Files.readString(Path.of("/proc/loadavg")).strip());
  }

  @Test
  void edrAlertNamingAnUnknownFileIsUnknownExecutionLinkedToTheAlert() throws Exception {
    Path dropped =
        Files.copy(patcher, work.resolve("alert-dropped"), StandardCopyOption.COPY_ATTRIBUTES);
    byte[] alert =
        JSON.writeValueAsBytes(
            JSON.createObjectNode()
                .put("source", "acme-edr")
                .put("id", "A-2026-0042")
                .put("path", dropped.toString())
                .put("rule", "Unsigned binary written to disk")
                .put("severity", "high"));
    JsonNode receipt = api.submitAlert("edr", alert);
    assertThat(receipt.path("target").asText()).isEqualTo(dropped.toString());
    JsonNode unknown =
        await(
            "UNKNOWN_EXECUTION answering A-2026-0042",
            e ->
                e.path("type").asText().equals("UNKNOWN_EXECUTION")
                    && e.path("details").path("alert").path("id").asText().equals("A-2026-0042"));
    assertThat(unknown.path("reason").asText())
        .startsWith(
            "EDR alert 'Unsigned binary written to disk' from acme-edr → UNKNOWN_EXECUTION: "
                + dropped
                + ": no trusted reference for sha256 ");
    assertThat(unknown.path("pid").isMissingNode() || unknown.path("pid").isNull()).isTrue();
    assertThat(unknown.path("details").path("alert").path("source").asText()).isEqualTo("acme-edr");
    System.out.printf(
        "alert intake latency (received -> verdict), VerifyBinary of a %d-byte file: %.1f ms;"
            + " load average %s%n",
        Files.size(dropped),
        unknown.path("details").path("alert").path("verdictMillis").asDouble(),
        Files.readString(Path.of("/proc/loadavg")).strip());
  }

  /** Falco's Drop-and-execute fixture about {@code pid} running {@code exe}, on the host. */
  private static byte[] falcoAlert(int pid, Path exe) throws IOException {
    try (InputStream in =
        AlertIntakeIT.class.getResourceAsStream("/alerts/falco/drop-and-execute-new-binary.json")) {
      ObjectNode root = (ObjectNode) JSON.readTree(in);
      ObjectNode fields = (ObjectNode) root.get("output_fields");
      fields.put("proc.pid", pid);
      fields.put("proc.exepath", exe.toString());
      fields.put("proc.name", exe.getFileName().toString());
      fields.put("container.id", "host");
      // Falco runs on this host (an alert about another host's pid is refused).
      root.put("hostname", java.net.InetAddress.getLocalHost().getHostName());
      return JSON.writeValueAsBytes(root);
    }
  }

  private Process start(String... command) throws IOException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    started.add(p);
    return p;
  }

  private static String[] readyFields(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertThat(line).as("ready line of pid " + p.pid()).startsWith("ready " + p.pid() + " ");
    return line.split(" ");
  }

  private static JsonNode await(String what, Predicate<JsonNode> wanted)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode e : events.all()) {
        if (wanted.test(e)) {
          return e;
        }
      }
      Thread.sleep(50); // waiting on real processes and the real kernel
    }
    return fail(
        "no "
            + what
            + " within "
            + WAIT.toSeconds()
            + " s; events:\n"
            + events.all().stream().map(JsonNode::toString).collect(Collectors.joining("\n")));
  }

  /** The first journal line {@code wanted} accepts; the journal sink syncs in batches. */
  private static JsonNode awaitJournal(String what, Predicate<JsonNode> wanted) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode line : journalLines()) {
        if (wanted.test(line)) {
          return line;
        }
      }
      Thread.sleep(100); // the journal is written by the agent's own threads
    }
    return fail("no " + what + " in the journal within " + WAIT.toSeconds() + " s");
  }

  private static List<JsonNode> journalLines() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(journalDir)) {
      for (Path f :
          files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).sorted().toList()) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
    }
    return out;
  }
}
