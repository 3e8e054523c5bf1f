package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.testing.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify-process} and {@code state} against a live {@code sleep} (root reads other
 * processes).
 */
class VerifyProcessCommandIT {
  @TempDir Path dir;
  private Process sleep;

  @BeforeEach
  void start() throws Exception {
    Prerequisites.require("root (to read another process's memory)", Prerequisites.rootMissing());
    sleep = new ProcessBuilder("sleep", "60").start();
    // Wait until the exec happened: /proc/PID/exe names sleep rather than this JVM's child stub.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!Files.readSymbolicLink(Path.of("/proc/" + sleep.pid() + "/exe"))
        .toString()
        .endsWith("/sleep")) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.onSpinWait();
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (sleep != null) {
      sleep.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
  }

  private Path signedRefsForEveryMappedFile() throws Exception {
    assertThat(
            CliRun.of("refs", "keygen", "--type", "ed25519", "--out", dir.resolve("k").toString())
                .exitCode())
        .isZero();
    Set<String> files = new LinkedHashSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/" + sleep.pid() + "/maps"))) {
      String[] f = line.split("\\s+", 6);
      if (f[1].charAt(2) == 'x' && f.length == 6 && f[5].startsWith("/")) {
        files.add(f[5]);
      }
    }
    Path out = dir.resolve("refs.dsse.json");
    List<String> args =
        new ArrayList<>(
            List.of(
                "refs", "sign", "--key", dir.resolve("k.key").toString(), "--out", out.toString()));
    files.forEach(f -> args.addAll(List.of("--subject", f)));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    return out;
  }

  @Test
  void trustedProcessIsVerifiedWithTheVerifyBinaryJsonKeysPlusPid() throws Exception {
    Path refs = signedRefsForEveryMappedFile();
    CliRun run =
        CliRun.of(
            "verify-process",
            Long.toString(sleep.pid()),
            "--refs",
            refs.toString(),
            "--trusted-key",
            dir.resolve("k.pub").toString(),
            "--json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
    JsonNode json = run.json();
    assertThat(json.get("pid").asLong()).isEqualTo(sleep.pid());
    assertThat(json.get("verdict").asText()).isEqualTo("VERIFIED");
    assertThat(json.get("path").asText()).endsWith("/sleep");
    assertThat(json.get("sha256").asText()).hasSize(64);
    assertThat(json.get("coverage").fieldNames())
        .toIterable()
        .containsExactly(
            "DISK_HASH", "ELF_HEADER", "ELF_SECTIONS", "MEMORY_MAP", "MEMORY_CODE", "SIGNATURE");
    json.get("coverage").forEach(s -> assertThat(s.get("status").asText()).isEqualTo("VERIFIED"));
    assertThat(json.get("findings").isArray()).isTrue();
    assertThat(json.get("codeBytesCompared").asLong()).isPositive();
  }

  @Test
  void reportWritesTheChainWithTheSignerAndTheTrustedKeyFileIntoOneFile() throws Exception {
    Path refs = signedRefsForEveryMappedFile();
    Path html = dir.resolve("report.html");
    Path key = dir.resolve("k.pub");
    CliRun run =
        CliRun.of(
            "report",
            "--pid",
            Long.toString(sleep.pid()),
            "--html",
            html.toString(),
            "--refs",
            refs.toString(),
            "--trusted-key",
            key.toString());
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
    assertThat(run.out()).startsWith("wrote " + html + ": pid " + sleep.pid() + " VERIFIED");
    String page = Files.readString(html);
    assertThat(page)
        .contains("\"trustedKeyFile\":\"" + key + "\"", "\"signed\":true", "\"mappedFiles\":[{")
        .doesNotContain("<script src", "<link");
    CliRun.of("report", "--pid", "2147483000", "--html", html.toString())
        .refused(ExitCodes.NO_SUCH_PROCESS);
    CliRun.of("report", "--pid", "nope", "--html", html.toString()).refused(ExitCodes.USAGE);
    CliRun.of(
            "report",
            "--pid",
            Long.toString(sleep.pid()),
            "--html",
            dir.resolve("no/such/dir/r.html").toString())
        .refused(ExitCodes.OUTPUT_UNWRITABLE);
  }

  @Test
  void unknownProcessExitsThreeAndFindingsCarryTypeAndReason() {
    // Without references and without the package database nothing knows /usr/bin/sleep.
    CliRun run =
        CliRun.of("verify-process", Long.toString(sleep.pid()), "--json", "--no-package-database");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.VERDICT_UNKNOWN);
    JsonNode findings = run.json().get("findings");
    assertThat(findings).isNotEmpty();
    findings.forEach(
        f -> {
          assertThat(f.get("type").asText()).isNotEmpty();
          assertThat(f.get("reason").asText()).isNotEmpty();
        });

    CliRun text = CliRun.of("verify-process", Long.toString(sleep.pid()), "--no-package-database");
    assertThat(text.out())
        .startsWith("UNKNOWN  pid " + sleep.pid())
        .contains("MEMORY_CODE   VERIFIED");
  }

  @Test
  void missingPidAndKernelThreadAreOneLineErrors() {
    CliRun.of("verify-process", "2147483000").refused(ExitCodes.NO_SUCH_PROCESS);
    CliRun.of("verify-process", "2").refused(ExitCodes.USAGE);
    CliRun.of("verify-process", "not-a-pid").refused(ExitCodes.USAGE);
    CliRun.of("verify-process", "-5").refused(ExitCodes.USAGE);
  }

  @Test
  void stateListsRunningProcessesWithVerdictCoverageAndTime() {
    CliRun run = CliRun.of("state", "--json", "--no-package-database");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode processes = run.json().get("processes");
    JsonNode mine = null;
    for (JsonNode p : processes) {
      if (p.get("pid").asLong() == sleep.pid()) {
        mine = p;
      }
    }
    assertThat(mine).as("sleep %d listed", sleep.pid()).isNotNull();
    assertThat(mine.get("verdict").asText()).isEqualTo("UNKNOWN");
    assertThat(mine.get("checkedAt").asText()).isNotEmpty();
    assertThat(mine.get("coverage").size()).isEqualTo(6);
    assertThat(mine.get("reattested").asBoolean()).as("verified as it runs").isTrue();
    assertThat(run.json().get("kernelThreads").asInt()).isPositive();
    assertThat(processes)
        .as("kernel threads are counted, not listed")
        .noneMatch(p -> p.get("pid").asInt() == 2);
  }

  @Test
  void stateFiltersByVerdict() {
    CliRun run =
        CliRun.of("state", "--json", "--no-package-database", "--verdict", "FAILED,UNKNOWN");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode processes = run.json().get("processes");
    assertThat(processes).anyMatch(p -> p.get("pid").asLong() == sleep.pid());
    assertThat(processes)
        .allMatch(p -> List.of("FAILED", "UNKNOWN").contains(p.get("verdict").asText()));
    CliRun bad = CliRun.of("state", "--verdict", "GREEN");
    assertThat(bad.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(bad.err()).contains("'GREEN'", "VERIFIED, UNKNOWN, FAILED, DEGRADED");
  }
}
