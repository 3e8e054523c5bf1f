package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.testing.Prerequisites;
import dev.veriruntime.verifier.testing.ScenarioPrograms;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's memfd helper (used where python3 is missing) is the scenario program every module's
 * tests build, copied into the jar at build time, and it names its memfd as the demo expects.
 */
class DemoMemfdHelperTest {
  @TempDir Path dir;

  private static byte[] resource(String name) throws Exception {
    try (InputStream in = DemoMemfdHelperTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void theDemoShipsTheOneScenarioSource() throws Exception {
    assertThat(resource("/demo/memfd_exec.c"))
        .isEqualTo(resource(ScenarioPrograms.RESOURCES + "memfd_exec.c"));
  }

  @Test
  void theHelperRunsItsPayloadFromAMemfdOfTheGivenName() throws Exception {
    Prerequisites.require(
        "gcc", ScenarioPrograms.gcc().isPresent() ? Optional.empty() : Optional.of("no gcc"));
    Path helper = ScenarioPrograms.compile(dir, "memfd_exec", "memfd-exec");
    // readlink reports the executable it runs as: the memfd, not /usr/bin/readlink.
    Process p =
        new ProcessBuilder(
                helper.toString(), "veriruntime-demo", "/usr/bin/readlink", "/proc/self/exe")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).as(out).isZero();
    assertThat(out).startsWith("/memfd:veriruntime-demo");
  }
}
