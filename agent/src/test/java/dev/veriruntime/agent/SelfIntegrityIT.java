package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.ProbeTampering;
import dev.veriruntime.ingest.ProgramAttachment;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: a real agent whose own-file set includes a copy made for the test (the real
 * jar and JVM are never opened for writing); another process opening that file for writing is a
 * SELF_INTEGRITY_FAILURE naming the writer within 2 s. So is a write into the policy file the agent
 * was started with, or into a reference file that policy names. The rows in docs/scenarios.md carry
 * the latencies printed here. Last, a probe program detached while the agent runs is a
 * SELF_INTEGRITY_FAILURE within 2 s (the test that damages the probe runs last).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SelfIntegrityIT {
  private static final Duration WITHIN = Duration.ofSeconds(2);

  @TempDir static Path work;

  private static Path ownFile;
  private static Path policyFile;
  private static Path referenceFile;
  private static EventLines events;
  private static Daemon daemon;
  private static Thread runner;
  private static final CountDownLatch watching = new CountDownLatch(1);

  /** The agent's stderr, passed on to ours; opens {@link #watching} at its "watching" line. */
  private static final OutputStream stderr =
      new OutputStream() {
        private final StringBuilder line = new StringBuilder();

        @Override
        public synchronized void write(int b) {
          System.err.write(b);
          if (b == '\n') {
            if (line.toString().startsWith("veriruntime: watching (pid")) {
              watching.countDown();
            }
            line.setLength(0);
          } else {
            line.append((char) b);
          }
        }
      };

  @BeforeAll
  static void startAgent() throws Exception {
    KernelTests.assumeKernel();
    ownFile = work.resolve("veriruntime-copy.jar");
    Files.write(ownFile, new byte[] {'P', 'K', 3, 4});
    // As `watch --policy FILE` runs it: a policy file that names a reference file.
    referenceFile = work.resolve("trusted.intoto.json");
    Files.write(
        referenceFile,
        new ManifestBuilder(ManifestPredicate.TYPE).add(ownFile).build().toJsonBytes());
    policyFile = work.resolve("policy.yaml");
    Files.writeString(policyFile, "references: [" + referenceFile + "]\n");
    Policy policy = Policy.load(policyFile);
    ReferenceStore references =
        new ReferenceLoader(TrustedKeys.empty(), SignaturePolicy.ALLOW_UNSIGNED)
            .loadAll(policy.references.stream().map(Path::of).toList());
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    events = new EventLines();
    Path state = Files.createDirectories(work.resolve("state"));
    daemon =
        Daemon.start(
            new Daemon.Settings(policy, references, true, state, state, false, false),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8),
            Daemon.StartupHook.NONE,
            List.of(ownFile));
    runner = new Thread(() -> daemon.run(null), "self-integrity-agent");
    runner.start();
    // Measured from a running pipeline, not from one still subscribing.
    assertThat(watching.await(30, TimeUnit.SECONDS)).as("agent watching").isTrue();
  }

  @AfterAll
  static void stopAgent() throws Exception {
    if (daemon != null) {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }
  }

  @Test
  void ownFileOpenedForWritingIsSelfIntegrityFailureNamingTheWriterWithinTwoSeconds()
      throws Exception {
    String before = sha(ownFile);
    Instant opened = Instant.now();
    // Opened for appending, nothing written: the open is the signal.
    Process writer =
        new ProcessBuilder("/bin/sh", "-c", "exec 3>> " + ownFile)
            .redirectErrorStream(true)
            .start();
    assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
    JsonNode e =
        await(
            ev ->
                ev.path("type").asText().equals("SELF_INTEGRITY_FAILURE")
                    && ev.path("details").path("writerPid").asLong() == writer.pid());
    long latency = Duration.between(opened, Instant.parse(e.path("time").asText())).toMillis();
    System.out.printf(
        "latency from starting the writer of an own file -> SELF_INTEGRITY_FAILURE %d ms%n",
        latency);
    String shell = Path.of("/bin/sh").toRealPath().toString();
    assertThat(e.path("reason").asText())
        .isEqualTo(
            "agent file "
                + ownFile
                + " opened for writing by pid "
                + writer.pid()
                + " ("
                + shell
                + ")");
    assertThat(e.path("details").path("file").asText()).isEqualTo(ownFile.toString());
    assertThat(e.path("details").path("writerExe").asText()).isEqualTo(shell);
    assertThat(latency).isLessThanOrEqualTo(WITHIN.toMillis());
    assertThat(sha(ownFile)).as("the open wrote nothing").isEqualTo(before);
  }

  @Test
  void policyFileOpenedForWritingIsSelfIntegrityFailureWithinTwoSeconds() throws Exception {
    Instant opened = Instant.now();
    Process writer = start("exec 3>> " + policyFile);
    JsonNode e = awaitWriteBy(writer);
    long latency = latencyMillis(opened, e);
    System.out.printf(
        "latency from starting the writer of the policy file -> SELF_INTEGRITY_FAILURE %d ms%n",
        latency);
    assertThat(e.path("details").path("file").asText()).isEqualTo(policyFile.toString());
    assertThat(e.path("reason").asText()).startsWith("agent file " + policyFile + " opened");
  }

  @Test
  void referenceFileRewrittenIsSelfIntegrityFailureWithinTwoSeconds() throws Exception {
    Instant opened = Instant.now();
    // A byte appended: the reference the agent trusts no longer says what it loaded.
    Process writer = start("printf ' ' >> " + referenceFile);
    JsonNode e = awaitWriteBy(writer);
    long latency = latencyMillis(opened, e);
    System.out.printf(
        "latency from starting the writer of a reference file -> SELF_INTEGRITY_FAILURE %d ms%n",
        latency);
    assertThat(e.path("details").path("file").asText()).isEqualTo(referenceFile.toString());
  }

  /**
   * The agent's link of {@code vr_exit} (process ends; the other tests here need none of it) is
   * first asked to detach from outside, as an attacker with root would, with {@code bpftool link
   * detach}; this kernel refuses that for raw tracepoint links (EOPNOTSUPP), so it is then detached
   * from inside the agent's process. Either way the link is gone and the agent must say so.
   */
  @Test
  @Order(Integer.MAX_VALUE)
  void probeProgramDetachedWhileTheAgentRunsIsSelfIntegrityFailureWithinTwoSeconds()
      throws Exception {
    String program = "vr_exit";
    ProgramAttachment exit =
        daemon.probe().attachReport().attached().stream()
            .filter(a -> a.program().equals(program))
            .findFirst()
            .orElseThrow();
    Path bpftool = Path.of("/usr/sbin/bpftool");
    Long linkId = null;
    if (Files.isExecutable(bpftool)) {
      linkId = linkOf(bpftool, exit.kernelId());
      assertThat(linkId).as("bpftool lists the agent's link of " + program).isNotNull();
    }
    Instant detached = Instant.now();
    boolean fromOutside = false;
    if (linkId != null) {
      Process p =
          new ProcessBuilder(bpftool.toString(), "link", "detach", "id", linkId.toString())
              .redirectErrorStream(true)
              .start();
      String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      fromOutside = p.waitFor() == 0;
      System.out.printf("bpftool link detach id %d: %s%n", linkId, fromOutside ? "done" : said);
    }
    if (!fromOutside) {
      detached = Instant.now();
      assertThat(ProbeTampering.detach(daemon.probe(), program)).isTrue();
    }
    if (linkId != null) {
      assertThat(linkOf(bpftool, exit.kernelId())).as("the link is gone").isNull();
    }
    JsonNode e =
        await(
            ev ->
                ev.path("type").asText().equals("SELF_INTEGRITY_FAILURE")
                    && ev.path("details").path("component").asText().equals("probe"));
    long latency = latencyMillis(detached, e);
    System.out.printf(
        "latency from detaching %s (%s) -> SELF_INTEGRITY_FAILURE %d ms%n",
        program, fromOutside ? "bpftool" : "inside the agent", latency);
    assertThat(e.path("reason").asText())
        .isEqualTo(
            "probe: probe programs no longer attached with their load-time tags: " + program);
    assertThat(latency).isLessThanOrEqualTo(WITHIN.toMillis());
  }

  /** The id of the BPF link running program {@code progId}, as {@code bpftool link} lists it. */
  private static Long linkOf(Path bpftool, int progId) throws Exception {
    Process p =
        new ProcessBuilder(bpftool.toString(), "--json", "link", "show")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    JsonNode links = new ObjectMapper().readTree(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).isZero();
    for (JsonNode l : links) {
      if (l.path("prog_id").asInt() == progId) {
        return l.path("id").asLong();
      }
    }
    return null;
  }

  private static Process start(String script) throws Exception {
    Process writer = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
    assertThat(writer.waitFor(10, TimeUnit.SECONDS)).isTrue();
    return writer;
  }

  private static JsonNode awaitWriteBy(Process writer) throws InterruptedException {
    return await(
        ev ->
            ev.path("type").asText().equals("SELF_INTEGRITY_FAILURE")
                && ev.path("details").path("writerPid").asLong() == writer.pid());
  }

  private static long latencyMillis(Instant since, JsonNode e) {
    return Duration.between(since, Instant.parse(e.path("time").asText())).toMillis();
  }

  private static String sha(Path p) throws Exception {
    return dev.veriruntime.verifier.hash.Sha256.hex(p);
  }

  private static JsonNode await(Predicate<JsonNode> wanted) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode e : events.all()) {
        if (wanted.test(e)) {
          return e;
        }
      }
      Thread.sleep(20); // waiting on a real process and the real kernel, not a Reactor timer
    }
    return fail("no SELF_INTEGRITY_FAILURE naming the writer within 30 s; seen: " + events.all());
  }
}
