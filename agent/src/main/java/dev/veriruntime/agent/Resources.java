package dev.veriruntime.agent;

import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import reactor.core.scheduler.Scheduler;

/**
 * What the daemon owns, in the order it was built: everything with a thread, a file descriptor or a
 * BPF link is registered here the moment it exists, and {@link #closeAll} closes all of it in
 * reverse order, whether the daemon stops or its start-up fails half way.
 *
 * <pre>{@code
 * Resources resources = new Resources(err);
 * Scheduler timer = resources.register("timer", GridTimer.scheduler("veriruntime-timer"));
 * Probe probe = resources.register("probe", Probe.load(spec, settings));
 * ...
 * resources.closeAll(null); // the probe first, then the timer
 * }</pre>
 *
 * <p>A close that fails is printed once on {@code err} and does not stop the others from closing.
 * Not thread-safe: the daemon builds on one thread and closes once (it guards that itself).
 */
final class Resources {
  private final PrintStream err;
  private final Deque<Entry> open = new ArrayDeque<>();

  private record Entry(String name, AutoCloseable close) {}

  Resources(PrintStream err) {
    this.err = Objects.requireNonNull(err, "err");
  }

  /** Registers {@code resource}, closed with its own {@code close()}; returns it. */
  <T extends AutoCloseable> T register(String name, T resource) {
    open.push(new Entry(name, resource));
    return resource;
  }

  /** Registers {@code scheduler}, disposed on close (its threads end); returns it. */
  Scheduler register(String name, Scheduler scheduler) {
    open.push(new Entry(name, scheduler::dispose));
    return scheduler;
  }

  /** Registers {@code close} under {@code name}, for what needs more than one call to close. */
  void onClose(String name, AutoCloseable close) {
    open.push(new Entry(name, close));
  }

  /** The names of what is registered and not closed yet, the most recent first. */
  List<String> openNames() {
    return open.stream().map(Entry::name).toList();
  }

  /**
   * Closes everything registered, the most recent first. Each failure is printed once and then
   * suppressed into {@code into} (the error that aborted start-up); with {@code into} null, into
   * the first failure.
   *
   * @return the first close failure when {@code into} is null, with the later ones suppressed into
   *     it; otherwise null
   */
  Throwable closeAll(Throwable into) {
    Throwable first = null;
    while (!open.isEmpty()) {
      Entry e = open.pop();
      try {
        e.close().close();
      } catch (Exception | Error failure) {
        err.println("veriruntime: closing " + e.name() + " failed: " + failure);
        if (into != null) {
          into.addSuppressed(failure);
        } else if (first == null) {
          first = failure;
        } else {
          first.addSuppressed(failure);
        }
      }
    }
    err.flush();
    return first;
  }
}
