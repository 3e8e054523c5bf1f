package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.HostFiles;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * The probe's exec filter against the real kernel: once an executable is given to {@link
 * Probe#skipExecsOf} (and the libraries it maps to {@link Probe#skipMappingsOf}, as the agent
 * does), its execs and the exits of those processes are counted instead of reported; a long-lived
 * one can be adopted (its exit is then reported); one that is reported for something else is
 * announced first by a late exec record; a script run through it is still reported; the execs of an
 * executable given to {@link Probe#countExecsOf} are counted in its entry; {@link
 * Probe#reportAllExecs} brings everything back. Needs root and a BPF-capable kernel.
 */
class ExecFilterIT {
  static final int RUNS = 20;
  static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir static Path dir;
  static ExecDriver driver;

  @BeforeAll
  static void build() throws Exception {
    KernelTests.assumeKernel();
    driver = ExecDriver.build(dir);
  }

  @Test
  void execsOfASkippedExecutableAndTheirExitsAreCountedNotReported() throws Exception {
    String comm = driver.child.getFileName().toString();
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder ours = new Recorder(probe, comm)) {
      assertThat(driver.count(1).succeeded()).isEqualTo(1);
      ours.await(ExitEvent.class, 1);
      ours.quietAsTheAgentWould();

      long execsBefore = probe.filteredExecs();
      long exitsBefore = probe.filteredExits();
      assertThat(driver.count(RUNS).succeeded()).isEqualTo(RUNS);
      awaitTrue(() -> probe.filteredExits() - exitsBefore >= RUNS);
      assertThat(probe.filteredExecs() - execsBefore).isGreaterThanOrEqualTo(RUNS);
      Thread.sleep(1_300); // a record would have had the reader's longest poll (1 s) to arrive
      assertThat(ours.events()).as("no record at all of a quiet run").isEmpty();

      assertThat(probe.reportAllExecs()).isEqualTo(1);
      assertThat(driver.count(1).succeeded()).isEqualTo(1);
      ours.await(ExecEvent.class, 1);
      ours.await(ExitEvent.class, 1);
    }
  }

  @Test
  void execsOfACountedExecutableAreCountedInItsEntryNotReported() throws Exception {
    String comm = driver.child.getFileName().toString();
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder ours = new Recorder(probe, comm)) {
      assertThat(driver.count(1).succeeded()).isEqualTo(1);
      ours.await(ExitEvent.class, 1);
      FileIdentity file = ours.first(ExecEvent.class).file().identity();
      ours.quietAsTheAgentWould(probe::countExecsOf);

      long execsBefore = probe.filteredExecs();
      long start = System.nanoTime();
      assertThat(driver.count(RUNS).succeeded()).isEqualTo(RUNS);
      awaitTrue(() -> probe.execCount(file).orElseThrow().execs() >= RUNS);
      Probe.ExecCount count = probe.execCount(file).orElseThrow();
      assertThat(count.execs()).isEqualTo(RUNS);
      assertThat(count.firstNanos()).isBetween(start, count.lastNanos());
      assertThat(count.lastNanos()).isLessThan(System.nanoTime());
      assertThat(ProcessHandle.of(count.lastPid())).as("the last child has ended").isEmpty();
      assertThat(probe.filteredExecs() - execsBefore).isGreaterThanOrEqualTo(RUNS);
      Thread.sleep(1_300); // a record would have had the reader's longest poll (1 s) to arrive
      assertThat(ours.events()).as("no record at all of a counted run").isEmpty();

      assertThat(probe.countExecsOf(file)).isTrue();
      assertThat(probe.execCount(file).orElseThrow().execs()).as("kept").isEqualTo(RUNS);
      assertThat(probe.stopCountingExecsOf(file)).isTrue();
      assertThat(probe.execCount(file)).isEmpty();
      assertThat(driver.count(1).succeeded()).isEqualTo(1);
      ours.await(ExecEvent.class, 1);
    }
  }

  @Test
  void aLongLivedQuietProcessIsAdoptedAndItsExitReported() throws Exception {
    Path sleeper = dir.resolve("vr-quiet-sleep");
    Files.copy(Path.of("/bin/sleep"), sleeper);
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder ours = new Recorder(probe, "vr-quiet-sleep")) {
      assertThat(new ProcessBuilder(sleeper.toString(), "0").start().waitFor()).isZero();
      ours.await(ExitEvent.class, 1);
      ours.quietAsTheAgentWould();

      Process quiet = new ProcessBuilder(sleeper.toString(), "30").start();
      int pid = (int) quiet.pid();
      try {
        List<Probe.QuietTask> adopted = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (adopted.stream().noneMatch(t -> t.tgid() == pid) && System.nanoTime() < deadline) {
          adopted.addAll(probe.adoptQuietTasks(System.nanoTime()));
          Thread.sleep(20);
        }
        assertThat(adopted)
            .filteredOn(t -> t.tgid() == pid)
            .singleElement()
            .satisfies(t -> assertThat(t.ppid()).isEqualTo((int) ProcessHandle.current().pid()));
        assertThat(probe.adoptQuietTask(pid)).as("taken once").isFalse();
        assertThat(ours.events()).as("its exec was not reported").isEmpty();
      } finally {
        quiet.destroy();
        quiet.waitFor(10, TimeUnit.SECONDS);
      }
      ours.await(ExitEvent.class, 1);
      assertThat(ours.first(ExitEvent.class).task().tgid()).isEqualTo(pid);
    }
  }

  @Test
  void aQuietProcessReportedForSomethingElseIsAnnouncedFirstByALateExec() throws Exception {
    Path shell = dir.resolve("vr-late-sh");
    Files.copy(Path.of("/bin/dash"), shell);
    Path watched = dir.resolve("vr-watched");
    Files.writeString(watched, "x");
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder ours = new Recorder(probe, "vr-late-sh")) {
      assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
      ours.await(ExitEvent.class, 1);
      ours.quietAsTheAgentWould();
      assertThat(
              probe.watchWrites(HostFiles.identity(watched), 0, EnumSet.of(WatchReason.VERIFIED)))
          .isTrue();

      Process writer = new ProcessBuilder(shell.toString(), "-c", "exec 3>> " + watched).start();
      assertThat(writer.waitFor()).isZero();
      ours.await(ExitEvent.class, 1);
      List<RuntimeEvent> seen = ours.events();
      assertThat(seen)
          .as("late exec, the write, then the exit")
          .extracting(e -> e.getClass().getSimpleName())
          .containsExactly("ExecEvent", "FileWriteEvent", "ExitEvent");
      ExecEvent late = (ExecEvent) seen.get(0);
      assertThat(late.task().tgid()).isEqualTo((int) writer.pid());
      assertThat(late.file().path()).isEqualTo(shell.toString());
      assertThat(late.filename()).as("the path stands in").isEqualTo(shell.toString());
      assertThat(late.late()).isTrue();
    }
  }

  @Test
  void aScriptRunThroughASkippedInterpreterIsStillReported() throws Exception {
    Path shell = dir.resolve("vr-quiet-sh");
    Files.copy(Path.of("/bin/dash"), shell);
    Path script = dir.resolve("vr-script");
    Files.writeString(script, "#!" + shell + "\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder ours = new Recorder(probe, "vr-quiet-sh", "vr-script")) {
      assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
      ours.await(ExitEvent.class, 1);
      ours.quietAsTheAgentWould();

      assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
      assertThat(new ProcessBuilder(script.toString()).start().waitFor()).isZero();
      ours.await(ExitEvent.class, 1);
      Thread.sleep(300);
      assertThat(ours.events())
          .as("the plain shell run stays quiet; the script's exec is reported")
          .filteredOn(ExecEvent.class::isInstance)
          .singleElement()
          .satisfies(
              e -> {
                assertThat(((ExecEvent) e).filename()).isEqualTo(script.toString());
                assertThat(((ExecEvent) e).late()).isFalse();
                assertThat(((ExecEvent) e).file().path()).isEqualTo(shell.toString());
              });
    }
  }

  private static void awaitTrue(BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(done.getAsBoolean()).as("filtered counters reached").isTrue();
  }

  /** The exec, mapping, write and exit records of processes with the given comms. */
  private static final class Recorder implements AutoCloseable {
    private final Probe probe;
    private final List<RuntimeEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final Disposable reading;

    Recorder(Probe probe, String... comms) {
      this.probe = probe;
      List<String> names = List.of(comms);
      this.reading =
          EventSource.live(probe)
              .subscribe(
                  e -> task(e).filter(t -> names.contains(t.comm())).ifPresent(t -> events.add(e)));
    }

    private static Optional<TaskContext> task(RuntimeEvent e) {
      if (e instanceof ExecEvent x) {
        return Optional.of(x.task());
      } else if (e instanceof ExecMappingEvent m) {
        return Optional.of(m.task());
      } else if (e instanceof FileWriteEvent w) {
        return Optional.of(w.task());
      } else if (e instanceof ExitEvent x) {
        return Optional.of(x.task());
      }
      return Optional.empty();
    }

    /**
     * Skips the execs of the executable seen and the mappings of every library it mapped, then
     * forgets what was recorded.
     */
    void quietAsTheAgentWould() {
      quietAsTheAgentWould(probe::skipExecsOf);
    }

    /** The same, with {@code quiet} (skip or count) for the executable's execs. */
    void quietAsTheAgentWould(Predicate<FileIdentity> quiet) {
      assertThat(quiet.test(first(ExecEvent.class).file().identity())).isTrue();
      for (RuntimeEvent e : events()) {
        if (e instanceof ExecMappingEvent m) {
          probe.skipMappingsOf(m.file().identity());
        }
      }
      events.clear();
    }

    List<RuntimeEvent> events() {
      synchronized (events) {
        return List.copyOf(events);
      }
    }

    <T extends RuntimeEvent> T first(Class<T> type) {
      return events().stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
    }

    void await(Class<?> type, int count) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (count(type) < count && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(count(type)).as(type.getSimpleName() + " records").isGreaterThanOrEqualTo(count);
    }

    private long count(Class<?> type) {
      return events().stream().filter(type::isInstance).count();
    }

    @Override
    public void close() {
      reading.dispose();
    }
  }
}
