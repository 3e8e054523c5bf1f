package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.verifier.process.ProcFs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Keeps the probe following every process with an open incident: each exec of such a process, and
 * of every process it forks from then on, is reported at once even when the executable is a quiet
 * one (see {@code Probe.follow}), so what an incident's process runs next has its exec record and
 * parent chain without waiting for adoption. Each {@link #refresh} follows the processes whose
 * incident opened since the last one, with their descendants alive now down to {@link
 * Probe#INCIDENT_GENERATIONS} generations (the kernel adds later children itself, to the same
 * depth), and stops following those whose incidents are closed. Incidents open after their group
 * window, so a process is followed within about a group window plus {@code period} of its first
 * finding.
 *
 * <p>Thread-safe ({@link #refresh} is synchronized); a probe error is printed once and otherwise
 * ignored (the process is then followed by adoption, as before).
 */
final class FollowedProcesses {
  /** At most this many descendants of one process are followed at once from /proc. */
  static final int MAX_DESCENDANTS = 1024;

  /** What the probe offers: {@code Probe.follow} and {@code Probe.unfollow}. */
  interface Follower {
    /**
     * @param generation forks below the process with the incident (0: that process), at most {@link
     *     Probe#INCIDENT_GENERATIONS}
     */
    boolean follow(int pid, Set<FollowReason> reasons, int generation);

    boolean unfollow(int pid, Set<FollowReason> reasons);
  }

  private static final Set<FollowReason> INCIDENT = EnumSet.of(FollowReason.INCIDENT);
  private static final Set<FollowReason> INCIDENT_DESCENDANT =
      EnumSet.of(FollowReason.INCIDENT, FollowReason.INHERITED);

  private final Follower follower;
  private final Supplier<Set<Integer>> incidentPids;
  private final Supplier<Map<Integer, List<Integer>>> tree;
  private final PrintStream err;
  private final AtomicBoolean warned = new AtomicBoolean();
  private final Set<Integer> following = new HashSet<>();

  /**
   * @param incidentPids the processes with an open incident now
   * @param tree the children of every process now, by parent pid (read only when a process is newly
   *     followed)
   */
  FollowedProcesses(
      Follower follower,
      Supplier<Set<Integer>> incidentPids,
      Supplier<Map<Integer, List<Integer>>> tree,
      PrintStream err) {
    this.follower = follower;
    this.incidentPids = incidentPids;
    this.tree = tree;
    this.err = err;
  }

  /** Refreshes every {@code period} on {@code timer}; dispose to stop. */
  Disposable start(Duration period, Scheduler timer) {
    return timer.schedulePeriodically(
        this::refresh, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Follows the processes whose incident is new, forgets those whose incidents are closed. */
  synchronized void refresh() {
    try {
      Set<Integer> open = incidentPids.get();
      Map<Integer, List<Integer>> children = null;
      for (Integer pid : open) {
        if (!following.contains(pid)) {
          if (children == null) {
            children = tree.get();
          }
          follow(pid, children);
        }
      }
      for (var it = following.iterator(); it.hasNext(); ) {
        int pid = it.next();
        if (!open.contains(pid)) {
          it.remove();
          // Its descendants stay followed until they exit: they ran under the incident.
          follower.unfollow(pid, INCIDENT);
        }
      }
    } catch (RuntimeException e) {
      if (warned.compareAndSet(false, true)) {
        err.println(
            "veriruntime: cannot follow processes with an open incident in the kernel (their"
                + " execs of quiet executables are seen by adoption): "
                + e.getMessage());
      }
    }
  }

  /** The pids followed for their incident now. */
  synchronized Set<Integer> following() {
    return Set.copyOf(following);
  }

  private void follow(int pid, Map<Integer, List<Integer>> children) {
    if (!follower.follow(pid, INCIDENT, 0)) {
      return;
    }
    following.add(pid);
    List<List<Integer>> generations = descendants(pid, children);
    for (int g = 0; g < generations.size(); g++) {
      for (int child : generations.get(g)) {
        follower.follow(child, INCIDENT_DESCENDANT, g + 1);
      }
    }
    // A pid whose process is gone by now would keep a kernel entry until the pid is reused: the
    // incident closes at its exit, and the next refresh unfollows it.
  }

  /**
   * The descendants of {@code pid} that inherit its incident, by generation (children first), at
   * most {@link #MAX_DESCENDANTS} in all.
   */
  private static List<List<Integer>> descendants(int pid, Map<Integer, List<Integer>> children) {
    List<List<Integer>> generations = new ArrayList<>();
    Set<Integer> seen = new HashSet<>(Set.of(pid));
    List<Integer> parents = List.of(pid);
    int found = 0;
    while (generations.size() < Probe.INCIDENT_GENERATIONS && !parents.isEmpty()) {
      List<Integer> next = new ArrayList<>();
      for (int parent : parents) {
        for (int child : children.getOrDefault(parent, List.of())) {
          if (found < MAX_DESCENDANTS && seen.add(child)) {
            next.add(child);
            found++;
          }
        }
      }
      generations.add(next);
      parents = next;
    }
    return generations;
  }

  /** Every process's children by parent pid, from the ppid in each {@code /proc/PID/stat}. */
  static Map<Integer, List<Integer>> procTree() {
    Map<Integer, List<Integer>> tree = new HashMap<>();
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : procs) {
        try {
          // Latin-1: a name (comm) that is no UTF-8 must not drop the process from the tree.
          String stat = new String(ProcFs.read(p.resolve("stat")), StandardCharsets.ISO_8859_1);
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3);
          tree.computeIfAbsent(Integer.parseInt(fields[1]), k -> new ArrayList<>())
              .add(Integer.parseInt(p.getFileName().toString()));
        } catch (IOException | RuntimeException e) {
          // gone meanwhile, or not a process directory
        }
      }
    } catch (IOException e) {
      return Map.of();
    }
    return tree;
  }
}
