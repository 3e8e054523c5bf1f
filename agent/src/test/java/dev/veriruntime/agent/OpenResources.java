package dev.veriruntime.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What this JVM has open that a daemon could have left behind: live threads, file descriptors (by
 * what they point at) and, among them, BPF links. {@link #leftSince} lists what is open now and was
 * not at the earlier snapshot.
 */
record OpenResources(Set<Thread> threads, Map<String, Integer> descriptors, int bpfLinks) {
  /**
   * Threads of Reactor's process-wide schedulers and of reactor-netty's shared event loops (the
   * Prometheus sink's HTTP server and the webhook client run on them): shared by everything in the
   * JVM, started on first use and never owned (nor disposed) by a daemon.
   */
  private static final List<String> SHARED_POOLS =
      List.of("parallel-", "boundedElastic-", "reactor-http-");

  static OpenResources now() {
    Map<String, Integer> descriptors = new HashMap<>();
    int links = 0;
    for (Path fd : list(Path.of("/proc/self/fd"))) {
      String target;
      try {
        target = Files.readSymbolicLink(fd).toString();
      } catch (IOException e) {
        continue; // the directory stream's own descriptor, closed meanwhile
      }
      if (target.startsWith("/sys/fs/cgroup/")) {
        // The JVM's container support: its compiler threads read the cgroup's memory files
        // (memory.stat, memory.limit_in_bytes) while they compile, open for a moment.
        continue;
      }
      // By kind: a socket closed and another opened is no leak, though their inodes differ.
      descriptors.merge(target.replaceFirst(":\\[\\d+\\]$", ""), 1, Integer::sum);
      if (isBpfLink(fd.getFileName().toString())) {
        links++;
      }
    }
    return new OpenResources(Thread.getAllStackTraces().keySet(), descriptors, links);
  }

  /** BPF links only: their fdinfo has a {@code link_id}, programs and maps do not. */
  static int countBpfLinks() {
    return now().bpfLinks();
  }

  /**
   * What is open now and was not at {@code before}: new threads still alive after a grace period (a
   * disposed scheduler's threads end shortly after), new descriptors and BPF links. Empty when
   * nothing was left behind.
   */
  List<String> leftSince(OpenResources before) throws InterruptedException {
    List<String> left = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (Thread t : threads) {
      if (before.threads.contains(t) || SHARED_POOLS.stream().anyMatch(t.getName()::startsWith)) {
        continue;
      }
      t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      if (t.isAlive()) {
        left.add("thread " + t.getName());
      }
    }
    OpenResources after = now();
    after.descriptors.forEach(
        (target, count) -> {
          int extra = count - before.descriptors.getOrDefault(target, 0);
          if (extra > 0) {
            left.add(extra + " descriptor(s) on " + target);
          }
        });
    if (after.bpfLinks > before.bpfLinks) {
      left.add((after.bpfLinks - before.bpfLinks) + " BPF link(s)");
    }
    return left;
  }

  private static boolean isBpfLink(String fd) {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/fdinfo", fd))) {
      return lines.anyMatch(l -> l.startsWith("link_id:"));
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
