package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end, as root: the real probe and daemon over a fake dpkg info directory. A "package" file
 * whose bytes (version B) differ from its record (version A) is a VERIFY_FAILED; once the record is
 * rewritten to B's checksum, as dpkg does a moment after renaming the new file into place, the
 * daemon reloads the database, the process still running B goes quiet, and the next exec of B
 * raises nothing.
 */
class PackageUpgradeIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void aFileThatMatchesItsNewPackageRecordIsQuietAfterTheReload() throws Exception {
    KernelTests.assumeKernel();
    byte[] versionA = Files.readAllBytes(Path.of("/usr/bin/sleep"));
    byte[] versionB = Arrays.copyOf(versionA, versionA.length + 1); // one more byte: still runs
    Path tool = Files.createDirectories(dir.resolve("root/usr/bin")).resolve("tool");
    Files.write(tool, versionB);
    assertThat(tool.toFile().setExecutable(true)).isTrue();
    Path info = Files.createDirectories(dir.resolve("dpkg/info"));
    writeRecord(info, tool, md5(versionA));

    Policy policy = Policy.defaults();
    policy.packageDatabaseDir = info.toString();
    policy.reattestation.enabled = false;
    // Nothing but our file is in this database, so everything else the machine runs is reported.
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    EventLines events = new EventLines();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(log, true, StandardCharsets.UTF_8);
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(policy, ReferenceStore.empty(), true, dir, dir, false, false),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            err);
    Thread runner = new Thread(() -> daemon.run(null), "package-upgrade-agent");
    runner.start();
    Process running = null;
    Process again = null;
    try {
      running = new ProcessBuilder(tool.toString(), "60").start();
      long pid = running.pid();
      await(
          "VERIFY_FAILED of " + tool,
          () ->
              events.all().stream()
                  .anyMatch(e -> failedTool(e, tool) && e.path("pid").asLong() == pid));

      writeRecord(info, tool, md5(versionB));
      // The reload is counted when the database is swapped; its revalidation (cached verdicts
      // dropped, running processes checked again) ends with the log line, so wait for that.
      await(
          "a package database reload and its revalidation",
          () -> log.toString(StandardCharsets.UTF_8).contains("package database reloaded: "));

      again = new ProcessBuilder(tool.toString(), "0").start();
      assertThat(again.waitFor(10, TimeUnit.SECONDS)).isTrue();
      // An unknown file run after it: once its event is out, the exec of tool has been handled too
      // (a cache hit answers before a hash).
      Path marker =
          Files.copy(
              Path.of("/usr/bin/true"), dir.resolve("marker"), StandardCopyOption.COPY_ATTRIBUTES);
      new ProcessBuilder(marker.toString()).start().waitFor(10, TimeUnit.SECONDS);
      try {
        await(
            "UNKNOWN_EXECUTION of " + marker,
            () ->
                events.all().stream()
                    .anyMatch(e -> marker.toString().equals(e.path("exe").path("path").asText())));
      } catch (AssertionError e) {
        throw new AssertionError(
            e.getMessage()
                + "; "
                + events.all().size()
                + " events, those naming the marker: "
                + events.all().stream().filter(ev -> ev.toString().contains("marker")).toList(),
            e);
      }
    } finally {
      for (Process p : Arrays.asList(running, again)) {
        if (p != null) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
      daemon.stop();
      runner.join(WAIT.toMillis());
      daemon.close();
      System.err.print(log.toString(StandardCharsets.UTF_8));
    }

    // Pending aggregates were flushed at stop: every exec of tool that raised an event is counted.
    List<JsonNode> aboutTool =
        events.all().stream()
            .filter(e -> tool.toString().equals(e.path("exe").path("path").asText()))
            .toList();
    assertThat(aboutTool).as("events about " + tool).allMatch(e -> failedTool(e, tool));
    assertThat(aboutTool.stream().mapToLong(e -> e.path("count").asLong()).sum())
        .as("only the exec before the reload")
        .isEqualTo(1);
    assertThat(aboutTool.get(0).path("reason").asText()).contains("candidate tampering");
    String lines = log.toString(StandardCharsets.UTF_8);
    assertThat(lines)
        .contains("package database reloaded: 1 files, 1 changed in 1 package(s) (tool)")
        .contains("1 running process(es) verified again, 1 now quiet, 0 still finding(s)");
    assertThat(
            daemon
                .metrics()
                .registry()
                .counter("veriruntime.package.database.files.changed")
                .count())
        .isGreaterThanOrEqualTo(1);
  }

  /**
   * dpkg upgrading the JVM the agent runs on: the test's info directory records the JVM first with
   * another checksum (dpkg renamed the new files into place, their records are not written yet),
   * then with its own, as dpkg does a moment later. At that reload the agent says its JVM was
   * upgraded by its package, and that it runs the previous version until restarted: not tampering,
   * and not left to the periodic check.
   */
  @Test
  void theAgentsOwnJvmUpgradedByItsPackageIsSaidAtTheReloadNotAsTampering() throws Exception {
    KernelTests.assumeKernel();
    Path jvm = Path.of("/proc/self/exe").toRealPath();
    Path info = Files.createDirectories(dir.resolve("dpkg/info"));
    writeRecord(info, "openjdk-test-jre-headless", jvm, "0".repeat(32));

    Policy policy = Policy.defaults();
    policy.packageDatabaseDir = info.toString();
    policy.reattestation.enabled = false;
    policy.sinks.console.rate = 10_000;
    policy.sinks.console.burst = 10_000;
    EventLines events = new EventLines();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(log, true, StandardCharsets.UTF_8);
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(policy, ReferenceStore.empty(), true, dir, dir, false, false),
            ProbeSettings.forCurrentProcess(),
            new PrintStream(events, true, StandardCharsets.UTF_8),
            err);
    Thread runner = new Thread(() -> daemon.run(null), "own-upgrade-agent");
    runner.start();
    JsonNode upgraded;
    long latency;
    try {
      await(
          "the start-up self-check naming the JVM's old record",
          () ->
              events.all().stream()
                  .anyMatch(
                      e ->
                          "SELF_INTEGRITY_FAILURE".equals(e.path("type").asText())
                              && e.path("reason").asText().startsWith("jvm " + jvm + ": differs")));
      Instant recorded = Instant.now();
      writeRecord(info, "openjdk-test-jre-headless", jvm, md5(Files.readAllBytes(jvm)));
      await(
          "the JVM upgrade said at the reload",
          () -> events.all().stream().anyMatch(PackageUpgradeIT::ownUpgrade));
      upgraded = events.all().stream().filter(PackageUpgradeIT::ownUpgrade).findFirst().get();
      latency =
          Duration.between(recorded, Instant.parse(upgraded.path(EventLines.RECEIVED).asText()))
              .toMillis();
    } finally {
      daemon.stop();
      runner.join(WAIT.toMillis());
      daemon.close();
      System.err.print(log.toString(StandardCharsets.UTF_8));
    }
    System.out.printf(
        "latency from dpkg's new record of the agent's JVM -> upgrade event %d ms%n", latency);
    assertThat(upgraded.path("type").asText()).isEqualTo("VERIFICATION_DEGRADED");
    assertThat(upgraded.path("reason").asText())
        .isEqualTo(
            "agent jvm "
                + jvm
                + " was upgraded by its package (matches package openjdk-test-jre-headless); the"
                + " running agent still runs the previous version, which no package record"
                + " describes now: restart it");
    assertThat(events.all())
        .as("no tampering reported at the reload")
        .noneMatch(
            e ->
                "SELF_INTEGRITY_FAILURE".equals(e.path("type").asText())
                    && "package-upgrade".equals(e.path("details").path("check").asText()));
  }

  private static boolean ownUpgrade(JsonNode e) {
    return "package-upgrade".equals(e.path("details").path("check").asText())
        && "jvm".equals(e.path("details").path("component").asText());
  }

  private static boolean failedTool(JsonNode e, Path tool) {
    return "VERIFY_FAILED".equals(e.path("type").asText())
        && tool.toString().equals(e.path("exe").path("path").asText());
  }

  /** As dpkg does: a new {@code PACKAGE.md5sums} renamed into the info directory. */
  private static void writeRecord(Path info, Path file, String md5) throws Exception {
    writeRecord(info, "tool", file, md5);
  }

  private static void writeRecord(Path info, String pkg, Path file, String md5) throws Exception {
    Path tmp =
        Files.writeString(
            info.resolveSibling(pkg + ".md5sums.new"),
            md5 + "  " + file.toString().substring(1) + "\n");
    Files.move(
        tmp,
        info.resolve(pkg + ".md5sums"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static String md5(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
  }

  private static void await(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (done.getAsBoolean()) {
        return;
      }
      Thread.sleep(
          50); // waiting on the real kernel and the daemon's real clock, not on a Reactor timer
    }
    fail("no " + what + " within " + WAIT.toSeconds() + " s");
  }
}
