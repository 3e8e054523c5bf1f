package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * As root: the agent's state directory on a small tmpfs, mounted in the agent's own private mount
 * namespace (the host's mounts are not touched). Filled up while a generator execs new unknown
 * binaries: the journal fails, which is reported once; the console keeps reporting every exec; the
 * agent keeps running; when space returns the journal records again and the recovery is reported
 * with the count of events it missed. Read-only at start: a clean refusal with exit code 23.
 */
class StateDirectoryFaultIT {
  @TempDir Path mnt;
  @TempDir Path bins;
  @TempDir Path copy;

  /** {@code watch} in a new mount namespace with a {@code size}-limited tmpfs at {@link #mnt}. */
  private List<String> inOwnTmpfs(String mountOptions, String before, List<String> watchArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.addAll(List.of("unshare", "-m", "--propagation", "private", "sh", "-c"));
    cmd.add(
        "mount -t tmpfs -o "
            + mountOptions
            + " veriruntime-test \"$0\" && "
            + before
            + " exec \"$@\"");
    cmd.add(mnt.toString());
    cmd.addAll(WatchProcess.command(watchArgs));
    return cmd;
  }

  /** Runs {@code script} inside the agent's mount namespace; returns its exit code. */
  private static int inAgentNamespace(WatchProcess agent, String script) throws Exception {
    Process p =
        new ProcessBuilder("nsenter", "-t", Long.toString(agent.pid()), "-m", "sh", "-c", script)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc = p.waitFor();
    System.err.println("[nsenter] " + script + " -> " + rc + " " + out.strip());
    return rc;
  }

  @Test
  void aFullStateDirectoryIsReportedOnceTheConsoleKeepsWorkingAndTheJournalRecovers()
      throws Exception {
    KernelTests.assumeKernel();
    Path state = mnt.resolve("state");
    List<String> watch =
        List.of(
            "--json",
            "--no-api",
            "--no-scan",
            "--state-dir",
            state.toString(),
            "--duration",
            "10m");
    try (WatchProcess agent = WatchProcess.start(inOwnTmpfs("size=2m,mode=0700", "", watch));
        UnknownBinaries load = new UnknownBinaries(bins, 100)) {
      agent.awaitWatching(Duration.ofMinutes(2));
      load.start();
      TimeUnit.SECONDS.sleep(3);
      // Fill what is left: cat stops at ENOSPC.
      Instant full = Instant.now();
      assertThat(
              inAgentNamespace(
                  agent, "cat /dev/zero > " + mnt.resolve("filler") + "; df -k " + mnt))
          .as("cat ends at ENOSPC")
          .isZero();
      JsonNode failing =
          agent
              .awaitEvent(e -> "sink-failing".equals(check(e)), Duration.ofSeconds(60))
              .orElseThrow(() -> new AssertionError("no sink-failing report: " + agent.stderr()));
      Instant reported = Instant.now();
      assertThat(failing.path("details").path("sink").asText()).isEqualTo("journal");
      assertThat(failing.path("reason").asText()).contains("No space left on device");
      // The console still reports execs that ran after the disk filled (however far behind a
      // loaded host keeps the agent), while the journal keeps failing without a second report.
      int firstAfterFull = load.execs().size();
      String genPrefix = bins.resolve("gen-").toString();
      JsonNode later =
          agent
              .awaitEvent(
                  e ->
                      "UNKNOWN_EXECUTION".equals(e.path("type").asText())
                          && e.path("exe").path("path").asText().startsWith(genPrefix)
                          && Integer.parseInt(
                                  e.path("exe").path("path").asText().substring(genPrefix.length()))
                              >= firstAfterFull,
                  Duration.ofSeconds(120))
              .orElseThrow(
                  () -> new AssertionError("no exec after the disk filled reached the console"));
      Instant consoleAfterFull = Instant.parse(later.path("time").asText());
      TimeUnit.SECONDS.sleep(10); // two more drop-report windows on a full disk
      List<JsonNode> events = agent.events();
      assertThat(events.stream().filter(e -> "sink-failing".equals(check(e))))
          .as("the condition is reported once")
          .hasSize(1);
      long ranWhileFull = load.execs().size() - firstAfterFull;
      long consoleWhileFull =
          load.execs().stream()
              .skip(firstAfterFull)
              .filter(x -> hasUnknown(events, x.path()))
              .count();
      assertThat(agent.process().isAlive()).isTrue();

      assertThat(inAgentNamespace(agent, "rm " + mnt.resolve("filler"))).isZero();
      Instant freed = Instant.now();
      JsonNode recovered =
          agent
              .awaitEvent(e -> "sink-recovered".equals(check(e)), Duration.ofSeconds(120))
              .orElseThrow(() -> new AssertionError("no sink-recovered report"));
      Instant recoveredAt = Instant.now();
      long undelivered = recovered.path("details").path("undelivered").asLong();
      assertThat(undelivered).isPositive();
      System.out.printf(
          "StateDirectoryFaultIT figures: full->reported %d ms, full->first later exec on the"
              + " console %d ms, freed->recovered %d ms, undelivered %d, console events while full"
              + " %d of %d execs%n",
          Duration.between(full, reported).toMillis(),
          Duration.between(full, consoleAfterFull).toMillis(),
          Duration.between(freed, recoveredAt).toMillis(),
          undelivered,
          consoleWhileFull,
          ranWhileFull);
      TimeUnit.SECONDS.sleep(3);

      // The journal on the tmpfs, copied out while the agent is frozen (no write half done).
      agent.signal("STOP");
      try {
        agent.awaitAllThreadsStopped(Duration.ofSeconds(5));
        assertThat(inAgentNamespace(agent, "cp -a " + state + "/. " + copy)).isZero();
      } finally {
        agent.signal("CONT");
      }
      CliRun verify = CliRun.of("journal", "verify", copy.toString());
      assertThat(verify.exitCode()).as("journal verify: %s%s", verify.out(), verify.err()).isZero();
      assertThat(KillRestartIT.journalEvents(copy))
          .as("the journal itself records that it missed events")
          .anyMatch(e -> "sink-recovered".equals(check(e)));
      assertThat(agent.stop(Duration.ofSeconds(60))).isIn(0, 143);
    }
  }

  @Test
  void aReadOnlyStateDirectoryIsACleanRefusalAtStart() throws Exception {
    KernelTests.assumeKernel();
    Path state = mnt.resolve("state");
    List<String> watch =
        List.of("--json", "--no-api", "--no-scan", "--state-dir", state.toString());
    try (WatchProcess agent =
        WatchProcess.start(
            inOwnTmpfs(
                "size=1m,mode=0700",
                "mkdir -m 0700 \"$0/state\" && mount -o remount,ro \"$0\" &&",
                watch))) {
      assertThat(agent.process().waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(agent.process().exitValue()).as(agent.stderr()).isEqualTo(23);
      String err = agent.stderr().strip();
      assertThat(err.lines().filter(l -> l.startsWith("veriruntime: cannot open")))
          .singleElement()
          .asString()
          .contains("Read-only file system");
      assertThat(err).doesNotContain("\tat ");
    }
  }

  private static String check(JsonNode e) {
    return e.path("details").path("check").asText();
  }

  private static boolean hasUnknown(List<JsonNode> events, String path) {
    return events.stream()
        .anyMatch(
            e ->
                "UNKNOWN_EXECUTION".equals(e.path("type").asText())
                    && path.equals(e.path("exe").path("path").asText()));
  }
}
