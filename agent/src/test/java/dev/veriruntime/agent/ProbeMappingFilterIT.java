package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.ProbeSpec;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.pipeline.MappingFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A followed process has every exec reported, quiet executable or not, and each of them comes back
 * to {@link MappingFilter#skipExecs}: within ten seconds of putting a file in the kernel's quiet
 * and watch maps the filter does not put it there again, and a reset makes it forget.
 */
class ProbeMappingFilterIT {
  @Test
  void aFileMadeQuietIsNotPutInTheKernelMapsAgainUntilReset() throws Exception {
    KernelTests.assumeKernel();
    ExecutableFile file = PipelineWarmUpTest.file(Path.of("/usr/bin/true"));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      MappingFilter filter =
          ProbeMappingFilter.of(
              probe,
              SelfWatch.NONE,
              new SimpleMeterRegistry(),
              new PrintStream(err, true, StandardCharsets.UTF_8));

      filter.skipExecs(file);
      // Straight to the probe, past the filter: the kernel forgets the file, the filter does not.
      assertThat(probe.reportAllExecs()).as("quiet after the first call").isEqualTo(1);

      filter.skipExecs(file);
      assertThat(probe.reportAllExecs()).as("not put there again").isZero();

      filter.reset();
      filter.skipExecs(file);
      assertThat(probe.reportAllExecs()).as("put there again after a reset").isEqualTo(1);
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
