package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.KernelTests;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every program of the product probe attaches on this host, whether or not tracefs is mounted (CI
 * runs the kernel tests both ways). The program list comes from the object itself, so a program
 * added later is covered too.
 */
class ProbeAttachIT {

  @Test
  void everyProgramOfTheProbeIsAttached() {
    KernelTests.assumeKernel();
    ProbeSpec spec = ProbeSpec.veriRuntime();
    List<String> programs = spec.programs().stream().map(ProbeSpec.ProgramSpec::name).toList();
    try (Probe probe = Probe.load(spec, ProbeSettings.forCurrentProcess())) {
      AttachReport report = probe.attachReport();
      System.out.println(
          "tracefs "
              + (AttachRemedy.tracefsMounted() ? "mounted" : "not mounted")
              + ": "
              + report.summary());
      assertThat(report.failed()).as(report.summary()).isEmpty();
      assertThat(report.attached())
          .extracting(ProgramAttachment::program)
          .containsExactlyInAnyOrderElementsOf(programs);
      assertThat(report.attached()).allSatisfy(p -> assertThat(p.kernelId()).isPositive());
      assertThat(report.summary()).isEqualTo("all " + programs.size() + " programs attached");
    }
  }

  @Test
  void noProgramOfTheProbeNeedsTracefs() {
    // tp/ and tracepoint/ sections resolve their event through tracefs; BTF-typed and raw
    // tracepoints attach by name without it. Pure: reads the object, no kernel needed.
    assertThat(ProbeSpec.veriRuntime().programs())
        .extracting(ProbeSpec.ProgramSpec::section)
        .allSatisfy(section -> assertThat(section).matches("(tp_btf|raw_tp)/.+"));
  }
}
