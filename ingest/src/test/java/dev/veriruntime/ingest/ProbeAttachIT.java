package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.kernel.Tracefs;
import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every program of the product probe attaches on this host, whether or not tracefs is mounted (CI
 * runs the kernel tests both ways), the syscall programs one way or the other but never both. The
 * program list comes from the object itself, so a program added later is covered too.
 */
class ProbeAttachIT {
  private static final ProbeSpec.SyscallHooks HOOKS = ProbeSpec.VERIRUNTIME_WIRING.syscallHooks();

  @Test
  void everyProgramIsAttachedTheSyscallProgramsToTheirSyscallsTracepoints() throws Exception {
    KernelTests.assumeKernel();
    ProbeSpec spec = ProbeSpec.veriRuntime();
    List<String> programs = spec.programs().stream().map(ProbeSpec.ProgramSpec::name).toList();
    String mountsBefore = Files.readString(Path.of("/proc/self/mountinfo"));
    boolean tracefsBefore = Tracefs.mountedOnHost();
    try (Probe probe = Probe.load(spec, ProbeSettings.forCurrentProcess())) {
      AttachReport report = probe.attachReport();
      System.out.println(
          "tracefs "
              + (tracefsBefore ? "mounted" : "not mounted")
              + ": "
              + report.summary()
              + "\n"
              + report.describe());
      assertThat(report.failed()).as(report.summary()).isEmpty();
      assertThat(report.standby())
          .extracting(ProgramAttachment::program)
          .containsExactlyInAnyOrder(HOOKS.rawEnter(), HOOKS.rawExit());
      assertThat(report.attached())
          .extracting(ProgramAttachment::program)
          .containsExactlyInAnyOrderElementsOf(
              programs.stream()
                  .filter(p -> !p.equals(HOOKS.rawEnter()) && !p.equals(HOOKS.rawExit()))
                  .toList());
      assertThat(report.attached()).allSatisfy(p -> assertThat(p.kernelId()).isPositive());
      assertThat(pointsOf(report, HOOKS.enter()))
          .containsExactlyElementsOf(
              HOOKS.enterSyscalls().stream().map(s -> "syscalls/sys_enter_" + s).toList());
      // x86-64 has every syscall of the list, open and creat included.
      assertThat(pointsOf(report, HOOKS.exit()))
          .containsExactlyElementsOf(
              HOOKS.exitSyscalls().stream().map(s -> "syscalls/sys_exit_" + s).toList());
      assertThat(report.summary()).isEqualTo("all " + (programs.size() - 2) + " programs attached");
      assertMappingsAreReported(probe);
    }
    // The tracefs the probe used, when the host had none, was in a namespace of its own.
    assertThat(Tracefs.mountedOnHost()).isEqualTo(tracefsBefore);
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).isEqualTo(mountsBefore);
  }

  @Test
  void askedForTheRawSyscallTracepointsTheProbeUsesThemInstead() throws Exception {
    KernelTests.assumeKernel();
    ProbeSpec spec = ProbeSpec.veriRuntime();
    try (Probe probe = Probe.load(spec, ProbeSettings.forCurrentProcess().withRawSyscallHooks())) {
      AttachReport report = probe.attachReport();
      assertThat(report.failed()).as(report.summary()).isEmpty();
      assertThat(report.standby())
          .extracting(ProgramAttachment::program)
          .containsExactlyInAnyOrder(HOOKS.enter(), HOOKS.exit());
      assertThat(report.standby())
          .allSatisfy(p -> assertThat(p.error()).contains("raw syscall tracepoints were asked"));
      assertThat(report.attached())
          .extracting(ProgramAttachment::program)
          .contains(HOOKS.rawEnter(), HOOKS.rawExit());
      assertThat(pointsOf(report, HOOKS.rawExit())).containsExactly("sys_exit");
      assertThat(report.summary())
          .isEqualTo("all " + (spec.programs().size() - 2) + " programs attached");
      assertMappingsAreReported(probe);
    }
  }

  @Test
  void onlyTheSyscallProgramsNeedTracefsAndTheyHaveARawAlternative() {
    // tp/ and tracepoint sections resolve their event through tracefs; BTF-typed and raw
    // tracepoints attach by name without it. Pure: reads the object, no kernel needed.
    ProbeSpec spec = ProbeSpec.veriRuntime();
    assertThat(spec.programs())
        .filteredOn(p -> !p.name().equals(HOOKS.enter()) && !p.name().equals(HOOKS.exit()))
        .extracting(ProbeSpec.ProgramSpec::section)
        .allSatisfy(section -> assertThat(section).matches("(tp_btf|raw_tp)/.+"));
    assertThat(spec.programs())
        .filteredOn(p -> p.name().equals(HOOKS.rawEnter()) || p.name().equals(HOOKS.rawExit()))
        .extracting(ProbeSpec.ProgramSpec::section)
        .containsExactlyInAnyOrder("tp_btf/sys_enter", "tp_btf/sys_exit");
  }

  private static List<String> pointsOf(AttachReport report, String program) {
    return report.attached().stream()
        .filter(p -> p.program().equals(program))
        .findFirst()
        .orElseThrow()
        .attachPoints();
  }

  /**
   * A program run while the probe is attached is seen mapping libc executable: the mmap's exit,
   * through whichever syscall program is attached.
   */
  private static void assertMappingsAreReported(Probe probe) throws Exception {
    Path dir = Files.createTempDirectory("vrattach");
    try {
      Path binary = dir.resolve("vratt" + ProcessHandle.current().pid());
      Files.copy(Path.of("/bin/true"), binary);
      Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwx------"));
      String comm = binary.getFileName().toString();
      List<ExecMappingEvent> seen = Collections.synchronizedList(new ArrayList<>());
      var decode = EventSource.decoder();
      var subscription =
          RingBufferReader.flux(
                  probe,
                  decode,
                  EventSource::lostEvent,
                  RingBufferReader.DEFAULT_LOST_CHECK_INTERVAL)
              .subscribe(
                  e -> {
                    if (e instanceof ExecMappingEvent m && m.task().comm().equals(comm)) {
                      seen.add(m);
                    }
                  });
      try {
        Process child = new ProcessBuilder(binary.toString()).start();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline
            && seen.stream().noneMatch(m -> m.file().path().endsWith("/libc.so.6"))) {
          Thread.sleep(20);
        }
      } finally {
        subscription.dispose();
      }
      assertThat(seen)
          .as("executable mappings of %s", comm)
          .anySatisfy(m -> assertThat(m.file().path()).endsWith("/libc.so.6"));
    } finally {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.delete(f);
        }
      }
      Files.delete(dir);
    }
  }
}
