package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.ingest.kernel.BpfException;
import dev.veriruntime.ingest.record.WireFormat;
import dev.veriruntime.ingest.testing.KernelTests;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * Followed processes and untracked forks against the real kernel: a process the agent follows
 * ({@link Probe#follow}) has its exec of a quiet executable reported at once, and so have the
 * children it forks; an unfollowed process's exec of the same executable is still counted, not
 * reported; a full follow map refuses (and counts) what it cannot hold; and the exits of forks that
 * never exec'd are counted, not reported. Needs root and a BPF-capable kernel.
 */
class ExecFollowIT {
  static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir static Path dir;
  static Path quietShell;
  static Path parentShell;

  @BeforeAll
  static void copyShells() throws Exception {
    KernelTests.assumeKernel();
    // Two copies of one shell: the child is made quiet, the parent (another identity) is not.
    quietShell = dir.resolve("vr-fol-quiet");
    Files.copy(Path.of("/bin/dash"), quietShell);
    parentShell = dir.resolve("vr-fol-parent");
    Files.copy(Path.of("/bin/dash"), parentShell);
  }

  @Test
  void aFollowedProcessAndItsChildrenHaveTheirQuietExecsReportedAnUnfollowedOneNot()
      throws Exception {
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder quiet = new Recorder(probe, "vr-fol-quiet")) {
      makeQuiet(probe, quiet);
      long followedBefore = probe.taskCounts()[WireFormat.TaskCounts.FOLLOWED_EXECS];
      long inheritedBefore = probe.taskCounts()[WireFormat.TaskCounts.INHERITED];
      long filteredBefore = probe.filteredExecs();

      // Each parent forks a child that runs the quiet shell, then runs it itself (exec).
      String script = "read x; " + quietShell + " -c 'exit 0'; exec " + quietShell + " -c 'exit 0'";
      Process followed = new ProcessBuilder(parentShell.toString(), "-c", script).start();
      Process unfollowed = new ProcessBuilder(parentShell.toString(), "-c", script).start();
      int pid = (int) followed.pid();
      assertThat(probe.follow(pid, EnumSet.of(FollowReason.INCIDENT))).isTrue();
      assertThat(probe.followed()).containsEntry(pid, Set.of(FollowReason.INCIDENT));
      go(unfollowed);
      go(followed);

      quiet.await(ExecEvent.class, 2);
      awaitTrue(() -> probe.filteredExecs() - filteredBefore >= 2, "the unfollowed run filtered");
      Thread.sleep(300); // a record of the unfollowed run would have had a ring poll to arrive
      List<ExecEvent> execs = quiet.all(ExecEvent.class);
      assertThat(execs)
          .as("the followed process's own exec and its child's, nothing of the other")
          .hasSize(2)
          .allSatisfy(e -> assertThat(e.filename()).isEqualTo(quietShell.toString()));
      assertThat(execs).filteredOn(e -> e.task().tgid() == pid).singleElement();
      assertThat(execs)
          .filteredOn(e -> e.task().tgid() != pid)
          .singleElement()
          .satisfies(e -> assertThat(e.ppid()).as("forked by the followed process").isEqualTo(pid));
      long[] counts = probe.taskCounts();
      assertThat(counts[WireFormat.TaskCounts.FOLLOWED_EXECS] - followedBefore).isEqualTo(2);
      assertThat(counts[WireFormat.TaskCounts.INHERITED] - inheritedBefore)
          .isGreaterThanOrEqualTo(1);

      assertThat(followed.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(unfollowed.waitFor(10, TimeUnit.SECONDS)).isTrue();
      awaitTrue(() -> !probe.followed().containsKey(pid), "forgotten at its exit");
    }
  }

  @Test
  void anIncidentIsInheritedForThreeGenerationsOnly() throws Exception {
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder quiet = new Recorder(probe, "vr-fol-quiet")) {
      makeQuiet(probe, quiet);
      long pastBefore = probe.incidentDepthEnds();
      long filteredBefore = probe.filteredExecs();

      // Each level forks a child that runs the quiet shell one level deeper, down to level 5.
      String level = "if [ \"$D\" -lt 5 ]; then D=$((D+1)) \"$Q\" -c \"$S\"; fi; exit 0";
      ProcessBuilder pb = new ProcessBuilder(parentShell.toString(), "-c", "read x; " + level);
      pb.environment().putAll(Map.of("D", "0", "Q", quietShell.toString(), "S", level));
      Process followed = pb.start();
      int pid = (int) followed.pid();
      assertThat(probe.follow(pid, EnumSet.of(FollowReason.INCIDENT))).isTrue();
      go(followed);
      assertThat(followed.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(followed.exitValue()).isZero();

      awaitTrue(() -> probe.filteredExecs() - filteredBefore >= 2, "levels 4 and 5 filtered");
      quiet.await(ExecEvent.class, 3);
      Thread.sleep(300); // a record of level 4 or 5 would have had a ring poll to arrive
      List<ExecEvent> execs = quiet.all(ExecEvent.class);
      assertThat(execs)
          .as("the child, grandchild and great-grandchild of the incident's process")
          .hasSize(3);
      assertThat(execs.get(0).ppid()).isEqualTo(pid);
      assertThat(execs.get(1).ppid()).isEqualTo(execs.get(0).task().tgid());
      assertThat(execs.get(2).ppid()).isEqualTo(execs.get(1).task().tgid());
      assertThat(probe.incidentDepthEnds() - pastBefore)
          .as("level 4's fork did not inherit (level 5's parent was not followed)")
          .isEqualTo(1);
      assertThatThrownBy(() -> probe.follow(pid, EnumSet.of(FollowReason.INCIDENT), 4))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void unfollowingStopsReportingAndAFullMapRefusesAndCountsWhatItDrops() throws Exception {
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder quiet = new Recorder(probe, "vr-fol-quiet")) {
      makeQuiet(probe, quiet);
      String script = "read x; " + quietShell + " -c 'exit 0'";
      Process parent = new ProcessBuilder(parentShell.toString(), "-c", script).start();
      int pid = (int) parent.pid();
      assertThat(probe.follow(pid, EnumSet.of(FollowReason.INCIDENT, FollowReason.LINEAGE)))
          .isTrue();
      assertThat(probe.unfollow(pid, EnumSet.of(FollowReason.INCIDENT))).isTrue();
      assertThat(probe.followed()).containsEntry(pid, Set.of(FollowReason.LINEAGE));

      // Fill the map with pids no process has (above Linux's PID_MAX_LIMIT of 2^22).
      assertThatThrownBy(
              () -> {
                for (int fake = 1 << 23; ; fake++) {
                  probe.follow(fake, EnumSet.of(FollowReason.INCIDENT));
                }
              })
          .isInstanceOf(BpfException.class)
          .satisfies(e -> assertThat(((BpfException) e).errno()).isEqualTo(7 /* E2BIG */));
      assertThat(probe.followed()).hasSize(WireFormat.Maps.FOLLOW_TASKS_MAX);
      long droppedBefore = probe.taskCounts()[WireFormat.TaskCounts.FOLLOW_DROPPED];
      go(parent);
      assertThat(parent.waitFor(10, TimeUnit.SECONDS)).isTrue();
      awaitTrue(
          () -> probe.taskCounts()[WireFormat.TaskCounts.FOLLOW_DROPPED] > droppedBefore,
          "the child refused by the full map counted");
      Thread.sleep(300);
      assertThat(quiet.all(ExecEvent.class))
          .as("the child that could not inherit stays quiet")
          .isEmpty();

      assertThat(probe.unfollow(pid, EnumSet.of(FollowReason.LINEAGE)))
          .as("already forgotten at its exit")
          .isFalse();
    }
  }

  @Test
  void exitsOfForksThatNeverExecAreCountedNotReported() throws Exception {
    try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
        Recorder parents = new Recorder(probe, "vr-fol-parent")) {
      long before = probe.taskCounts()[WireFormat.TaskCounts.UNTRACKED_EXITS];
      // Five subshells: forks of the shell that run no other program.
      Process p =
          new ProcessBuilder(
                  parentShell.toString(), "-c", "for i in 1 2 3 4 5; do (exit 0); done; exit 0")
              .start();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
      parents.await(ExitEvent.class, 1);
      awaitTrue(
          () -> probe.taskCounts()[WireFormat.TaskCounts.UNTRACKED_EXITS] - before >= 5,
          "five untracked exits counted");
      Thread.sleep(300);
      assertThat(parents.all(ExitEvent.class))
          .as("the exit of the shell, none of its subshells")
          .singleElement()
          .satisfies(x -> assertThat(x.task().tgid()).isEqualTo((int) p.pid()));
      assertThat(parents.all(ExecEvent.class)).singleElement();
    }
  }

  /** Runs the quiet shell once, then lets the probe skip its execs and its libraries' mappings. */
  private static void makeQuiet(Probe probe, Recorder quiet) throws Exception {
    assertThat(new ProcessBuilder(quietShell.toString(), "-c", "exit 0").start().waitFor())
        .isZero();
    quiet.await(ExitEvent.class, 1);
    assertThat(probe.skipExecsOf(quiet.all(ExecEvent.class).get(0).file().identity())).isTrue();
    for (RuntimeEvent e : quiet.events()) {
      if (e instanceof ExecMappingEvent m) {
        probe.skipMappingsOf(m.file().identity());
      }
    }
    quiet.clear();
  }

  private static void go(Process p) throws Exception {
    try (OutputStream in = p.getOutputStream()) {
      in.write("go\n".getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void awaitTrue(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(done.getAsBoolean()).as(what).isTrue();
  }

  /** The exec, mapping and exit records of processes with one comm. */
  private static final class Recorder implements AutoCloseable {
    private final List<RuntimeEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final Disposable reading;

    Recorder(Probe probe, String comm) {
      this.reading =
          EventSource.live(probe)
              .subscribe(e -> task(e).filter(t -> comm.equals(t.comm())).ifPresent(t -> add(e)));
    }

    private void add(RuntimeEvent e) {
      events.add(e);
    }

    private static Optional<TaskContext> task(RuntimeEvent e) {
      if (e instanceof ExecEvent x) {
        return Optional.of(x.task());
      } else if (e instanceof ExecMappingEvent m) {
        return Optional.of(m.task());
      } else if (e instanceof ExitEvent x) {
        return Optional.of(x.task());
      }
      return Optional.empty();
    }

    List<RuntimeEvent> events() {
      synchronized (events) {
        return List.copyOf(events);
      }
    }

    <T extends RuntimeEvent> List<T> all(Class<T> type) {
      return events().stream().filter(type::isInstance).map(type::cast).toList();
    }

    void clear() {
      events.clear();
    }

    void await(Class<?> type, int count) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (all(type.asSubclass(RuntimeEvent.class)).size() < count
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(all(type.asSubclass(RuntimeEvent.class)))
          .as(type.getSimpleName() + " records")
          .hasSizeGreaterThanOrEqualTo(count);
    }

    @Override
    public void close() {
      reading.dispose();
    }
  }
}
