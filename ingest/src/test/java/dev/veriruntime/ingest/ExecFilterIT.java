package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * The probe's exec filter against the real kernel: once an executable is given to {@link
 * Probe#skipExecsOf}, its execs (and the exits of those processes) are counted instead of reported,
 * a long-lived one can be adopted (its exit is then reported), a script run through it is still
 * reported, and {@link Probe#reportAllExecs} brings everything back. Needs root and a BPF-capable
 * kernel.
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
  void execsOfASkippedExecutableAreCountedAdoptedAndReportedAgainAfterReset() throws Exception {
    String comm = driver.child.getFileName().toString();
    List<RuntimeEvent> ours = Collections.synchronizedList(new ArrayList<>());
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      Disposable reading =
          EventSource.live(probe)
              .subscribe(
                  e -> {
                    if (e instanceof ExecEvent x && x.task().comm().equals(comm)
                        || e instanceof ExitEvent y && y.task().comm().equals(comm)) {
                      ours.add(e);
                    }
                  });
      try {
        ExecDriver.Run before = driver.count(RUNS);
        await(ours, ExitEvent.class, RUNS);
        FileIdentity child = first(ours, ExecEvent.class).file().identity();

        ours.clear();
        long execsBefore = probe.filteredExecs();
        long exitsBefore = probe.filteredExits();
        assertThat(probe.skipExecsOf(child)).isTrue();
        assertThat(driver.count(RUNS).succeeded()).isEqualTo(RUNS);
        // The filtered runs are over once the counters say so; nothing of them may arrive later.
        awaitCount(() -> probe.filteredExits() - exitsBefore >= RUNS);
        assertThat(probe.filteredExecs() - execsBefore).isGreaterThanOrEqualTo(RUNS);
        Thread.sleep(300); // a record would have had a ring poll (100 ms) to arrive
        assertThat(ours).as("no exec or exit record of a skipped executable").isEmpty();
        assertThat(before.succeeded()).isEqualTo(RUNS);
      } finally {
        reading.dispose();
      }
    }
  }

  @Test
  void aLongLivedQuietProcessIsAdoptedAndItsExitReported() throws Exception {
    Path sleeper = dir.resolve("vr-quiet-sleep");
    Files.copy(Path.of("/bin/sleep"), sleeper);
    List<RuntimeEvent> ours = Collections.synchronizedList(new ArrayList<>());
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      Disposable reading =
          EventSource.live(probe)
              .subscribe(
                  e -> {
                    if (e instanceof ExecEvent x && x.file().path().equals(sleeper.toString())
                        || e instanceof ExitEvent y && y.task().comm().equals("vr-quiet-sleep")) {
                      ours.add(e);
                    }
                  });
      try {
        Process first = new ProcessBuilder(sleeper.toString(), "0").start();
        assertThat(first.waitFor(10, TimeUnit.SECONDS)).isTrue();
        await(ours, ExitEvent.class, 1);
        FileIdentity identity = first(ours, ExecEvent.class).file().identity();
        ours.clear();
        assertThat(probe.skipExecsOf(identity)).isTrue();

        Process quiet = new ProcessBuilder(sleeper.toString(), "30").start();
        try {
          long pid = quiet.pid();
          List<Probe.QuietTask> adopted = new ArrayList<>();
          long deadline = System.nanoTime() + WAIT.toNanos();
          while (adopted.stream().noneMatch(t -> t.tgid() == pid) && System.nanoTime() < deadline) {
            adopted.addAll(probe.adoptQuietTasks(System.nanoTime()));
            Thread.sleep(20);
          }
          assertThat(adopted).anySatisfy(t -> assertThat(t.tgid()).isEqualTo((int) pid));
          assertThat(adopted)
              .filteredOn(t -> t.tgid() == pid)
              .allSatisfy(t -> assertThat(t.ppid()).isEqualTo((int) ProcessHandle.current().pid()));
          assertThat(probe.adoptQuietTask((int) pid)).as("taken once").isFalse();
          assertThat(ours).as("its exec was not reported").isEmpty();
        } finally {
          quiet.destroy();
          quiet.waitFor(10, TimeUnit.SECONDS);
        }
        await(ours, ExitEvent.class, 1);
        assertThat(first(ours, ExitEvent.class).task().tgid()).isEqualTo((int) quiet.pid());
      } finally {
        reading.dispose();
      }
    }
  }

  @Test
  void aScriptRunThroughASkippedInterpreterIsStillReported() throws Exception {
    Path shell = dir.resolve("vr-quiet-sh");
    Files.copy(Path.of("/bin/dash"), shell);
    Path script = dir.resolve("vr-script");
    Files.writeString(script, "#!" + shell + "\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<RuntimeEvent> ours = Collections.synchronizedList(new ArrayList<>());
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
      Disposable reading =
          EventSource.live(probe)
              .subscribe(
                  e -> {
                    if (e instanceof ExecEvent x && x.file().path().equals(shell.toString())) {
                      ours.add(e);
                    }
                  });
      try {
        assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
        await(ours, ExecEvent.class, 1);
        assertThat(probe.skipExecsOf(first(ours, ExecEvent.class).file().identity())).isTrue();
        ours.clear();

        assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
        assertThat(new ProcessBuilder(script.toString()).start().waitFor()).isZero();
        await(ours, ExecEvent.class, 1);
        Thread.sleep(300);
        assertThat(ours)
            .as("only the script's exec, whose filename is the script")
            .singleElement()
            .satisfies(e -> assertThat(((ExecEvent) e).filename()).isEqualTo(script.toString()));

        assertThat(probe.reportAllExecs()).isEqualTo(1);
        ours.clear();
        assertThat(new ProcessBuilder(shell.toString(), "-c", "exit 0").start().waitFor()).isZero();
        await(ours, ExecEvent.class, 1);
      } finally {
        reading.dispose();
      }
    }
  }

  private static <T extends RuntimeEvent> T first(List<RuntimeEvent> events, Class<T> type) {
    synchronized (events) {
      return events.stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow();
    }
  }

  private static void await(List<RuntimeEvent> events, Class<?> type, int count)
      throws InterruptedException {
    Predicate<RuntimeEvent> matches = type::isInstance;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      synchronized (events) {
        if (events.stream().filter(matches).count() >= count) {
          return;
        }
      }
      Thread.sleep(20);
    }
    synchronized (events) {
      assertThat(events.stream().filter(matches).count())
          .as(type.getSimpleName() + " records")
          .isGreaterThanOrEqualTo(count);
    }
  }

  private static void awaitCount(java.util.function.BooleanSupplier done)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(done.getAsBoolean()).as("filtered counters reached").isTrue();
  }
}
