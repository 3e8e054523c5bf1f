package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * {@code veriruntime demo}: refusals anywhere; as root, the whole demo run in-process with {@code
 * --json}, each scenario's own alert checked against the files and processes it made.
 */
class DemoCommandTest {

  @Test
  void withoutKernelSupportTheDemoRefusesWithTheKernelUnsupportedCode() {
    DemoCommand demo = new DemoCommand(() -> Optional.of("kernel BTF is missing"));

    CliException refused = catchThrowableOfType(demo::call, CliException.class);

    assertThat(refused.exitCode()).isEqualTo(ExitCodes.KERNEL_UNSUPPORTED);
    assertThat(refused.getMessage())
        .isEqualTo("the demo needs root: cannot load the probe here: kernel BTF is missing");
  }

  @Test
  void aBadTimeoutIsAUsageError() {
    CliRun run = CliRun.of("demo", "--timeout", "soon");

    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(run.err())
        .startsWith("Invalid value for option '--timeout': not a duration: 'soon'");
  }

  @Test
  void everyScenarioRaisesItsAlertAndTheDemoCleansUpAfterItself() {
    KernelTests.assumeKernel();

    // A generous wait for a loaded CI machine: a passing scenario ends as soon as its alert is in.
    CliRun run = CliRun.of("demo", "--json", "--timeout", "30s");

    assertThat(run.exitCode())
        .as("exit code; stderr: %s; stdout: %s", run.err(), run.out())
        .isEqualTo(ExitCodes.OK);
    JsonNode root = run.json();
    assertThat(root.path("passed").asBoolean()).isTrue();
    List<JsonNode> scenarios =
        StreamSupport.stream(root.path("scenarios").spliterator(), false).toList();
    assertThat(scenarios)
        .extracting(s -> s.path("name").asText())
        .containsExactly("trusted-binary", "unknown-binary", "fileless-memfd", "ld-preload");
    assertThat(scenarios)
        .allSatisfy(s -> assertThat(s.path("status").asText()).as(s.toString()).isEqualTo("PASS"));

    JsonNode trusted = scenarios.get(0);
    assertThat(trusted.path("alert").isNull()).isTrue();
    assertThat(trusted.path("seen")).isEmpty();
    assertThat(trusted.path("note").asText())
        .startsWith("no alert about /usr/bin/true (the marker's alert arrived ");

    JsonNode unknown = scenarios.get(1).path("alert");
    assertThat(unknown.path("type").asText()).isEqualTo("UNKNOWN_EXECUTION");
    assertThat(unknown.path("path").asText()).matches(".*/veriruntime-demo[^/]*/unknown-true");
    assertThat(unknown.path("reason").asText())
        .startsWith("exec of " + unknown.path("path").asText() + ": no trusted reference");

    JsonNode memfd = scenarios.get(2).path("alert");
    assertThat(memfd.path("type").asText()).isEqualTo("RUNTIME_DRIFT");
    assertThat(memfd.path("finding").asText()).isEqualTo("MEMFD_EXECUTION");
    assertThat(memfd.path("path").asText()).contains("memfd:veriruntime-demo");

    JsonNode preload = scenarios.get(3).path("alert");
    assertThat(preload.path("type").asText()).isEqualTo("UNKNOWN_EXECUTION");
    assertThat(preload.path("path").asText())
        .matches(".*/veriruntime-demo[^/]*/libdemo-preload.so");
    assertThat(preload.path("reason").asText())
        .startsWith("executable mapping of " + preload.path("path").asText());

    // Each alert is about the scenario's own process, and none of them outlived the demo.
    List<Long> pids = new ArrayList<>();
    for (JsonNode alert : List.of(unknown, memfd, preload)) {
      assertThat(alert.path("pid").asLong()).isPositive();
      pids.add(alert.path("pid").asLong());
    }
    assertThat(pids).doesNotHaveDuplicates();
    assertThat(pids)
        .allSatisfy(
            pid -> assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty());
    assertThat(Path.of(unknown.path("path").asText()).getParent())
        .satisfies(dir -> assertThat(Files.exists(dir)).isFalse());
  }
}
