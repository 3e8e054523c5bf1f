package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Build lineage end to end, as root: the real probe, pipeline, console and journal. A program
 * compiled with the host's gcc inside a lineage root runs without any event and is journaled as
 * trusted by lineage with its chain; a {@code cp} of it is an UNKNOWN_EXECUTION whose coverage says
 * why lineage does not apply; a copy patched after linking is not trusted either.
 */
class LineageIT {
  @TempDir Path dir;
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void compiledInsideARootRunsQuietlyACopyIsUnknown() throws Exception {
    KernelTests.assumeKernel();
    Path gcc = Path.of("/usr/bin/gcc");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(gcc), "gcc is not installed");
    Path build = Files.createDirectories(dir.resolve("build"));
    Path journal = dir.resolve("journal");
    Files.writeString(
        build.resolve("hello.c"), "#include <stdio.h>\nint main(void){puts(\"hi\");return 0;}\n");
    Policy policy = Policy.defaults();
    policy.aggregation.windowSeconds = 2;
    // Other tests on this host produce events too: ours must not wait behind a console rate.
    policy.sinks.console.rate = 100_000;
    policy.sinks.console.burst = 100_000;
    policy.lineage.roots.add(build.toString());
    EventLines lines = new EventLines();
    Daemon daemon =
        Daemon.start(
            new Daemon.Settings(policy, ReferenceStore.empty(), true, dir, journal, true, false),
            // Other sessions' exec storms share this host's kernel: a roomier ring loses less.
            ProbeSettings.forCurrentProcess().withRingBufferBytes(64 << 20),
            new PrintStream(lines, true, StandardCharsets.UTF_8),
            System.err);
    Thread runner = new Thread(() -> daemon.run(null), "watch-under-test");
    runner.start();
    Path hello = build.resolve("hello");
    Path copy = build.resolve("hello-copy");
    Path patched = build.resolve("hello-patched");
    try {
      run(build, "gcc", "-o", "hello", "hello.c");
      run(build, hello.toString());
      run(build, "cp", "hello", "hello-copy");
      run(build, copy.toString());
      run(build, "gcc", "-o", "hello-patched", "hello.c");
      Files.write(patched, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
      run(build, patched.toString());
      awaitEvent(lines, unknown(copy));
      awaitEvent(lines, unknown(patched));
    } finally {
      daemon.stop();
      runner.join(Duration.ofSeconds(30).toMillis());
      daemon.close();
    }

    List<JsonNode> events = lines.all();
    if (events.stream().noneMatch(unknown(copy)) || events.stream().noneMatch(unknown(patched))) {
      // A shared host: say what the agent did report, to tell interference from a defect.
      events.forEach(
          e ->
              System.err.println(
                  "event: "
                      + e.path("type").asText()
                      + " "
                      + e.path("exe").path("path").asText()
                      + " "
                      + e.path("reason").asText()));
      notes(journal).forEach(n -> System.err.println("note: " + n.path("summary").asText()));
      // Records the kernel could not store are reported (VERIFICATION_DEGRADED, details.lost):
      // then our execs may be among them, and the test says nothing about lineage.
      org.junit.jupiter.api.Assumptions.assumeTrue(
          events.stream()
              .noneMatch(e -> e.path("details").path("lost").path("kernel.exec").asLong(0) > 0),
          "the kernel lost exec records meanwhile (other sessions' exec storms): inconclusive");
    }
    assertThat(events)
        .as("no event about the program the toolchain built")
        .noneMatch(e -> hello.toString().equals(e.path("exe").path("path").asText()));
    JsonNode copied = events.stream().filter(unknown(copy)).findFirst().orElseThrow();
    assertThat(copied.path("coverage").path("LINEAGE").path("status").asText())
        .isEqualTo("NOT_VERIFIED");
    assertThat(copied.path("coverage").path("LINEAGE").path("reason").asText())
        .contains("no verified toolchain process wrote this file");
    JsonNode changed = events.stream().filter(unknown(patched)).findFirst().orElseThrow();
    assertThat(changed.path("coverage").path("LINEAGE").path("reason").asText())
        .contains("changed by something else");

    List<JsonNode> notes = notes(journal);
    JsonNode trusted =
        notes.stream()
            .filter(n -> n.path("detail").path("path").asText().equals(hello.toString()))
            .findFirst()
            .orElseThrow();
    assertThat(trusted.path("detail").path("outcome").asText()).isEqualTo("TRUSTED");
    assertThat(trusted.path("detail").path("verdict").asText()).isEqualTo("VERIFIED");
    assertThat(trusted.path("summary").asText()).contains("not a signature");
    List<String> chain = new ArrayList<>();
    trusted.path("detail").path("chain").forEach(s -> chain.add(s.path("exe").asText()));
    assertThat(chain).anyMatch(exe -> exe.contains("gcc"));
    assertThat(chain.get(chain.size() - 1)).as("the writer").contains("ld");
    assertThat(trusted.path("detail").path("toolchain").size()).isGreaterThanOrEqualTo(2);
    assertThat(notes)
        .anyMatch(
            n ->
                n.path("detail").path("path").asText().equals(copy.toString())
                    && n.path("detail").path("outcome").asText().equals("NO_LINEAGE"));
  }

  private static Predicate<JsonNode> unknown(Path exe) {
    return e ->
        "UNKNOWN_EXECUTION".equals(e.path("type").asText())
            && exe.toString().equals(e.path("exe").path("path").asText());
  }

  private static void run(Path cwd, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(command), output).isZero();
  }

  private List<JsonNode> notes(Path journal) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(journal)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(f)) {
          JsonNode n = json.readTree(line);
          if ("note".equals(n.path("kind").asText())
              && "lineage".equals(n.path("note").path("topic").asText())) {
            out.add(n.path("note"));
          }
        }
      }
    }
    return out;
  }

  private static void awaitEvent(EventLines lines, Predicate<JsonNode> wanted) throws Exception {
    Instant deadline = Instant.now().plusSeconds(120);
    while (Instant.now().isBefore(deadline)) {
      if (lines.all().stream().anyMatch(wanted)) {
        return;
      }
      Thread.sleep(50); // waiting on real external processes, not on a Reactor timer
    }
  }
}
