package dev.veriruntime.agent;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The agent's timer thread, on which every periodic task's runs fall on one grid: the first run of
 * a task repeated at a fixed rate is put off to the next multiple of its period (of a second, for
 * longer periods) on the monotonic clock, so the tasks that run once a second (the run marker's
 * heartbeat, adoption of quiet processes, following the processes of open incidents, the gap check,
 * the aggregation window) run one after the other in one wake-up of the thread instead of each at
 * the phase it was started at. A wake-up of an idle thread costs more than most of these tasks'
 * work on a virtualised host (benchmarks/README.md, "Fixed costs: wake-ups"). A first run comes at
 * most one grid step later than asked; later runs keep the period.
 */
final class GridTimer extends ScheduledThreadPoolExecutor {
  /** The coarsest grid: periods of a second or more share it. */
  static final long GRID_NANOS = TimeUnit.SECONDS.toNanos(1);

  GridTimer(String name) {
    super(
        1,
        task -> {
          Thread t = new Thread(task, name);
          t.setDaemon(true);
          return t;
        });
    setRemoveOnCancelPolicy(true);
  }

  /** A Reactor scheduler over one such thread, named {@code name}. */
  static Scheduler scheduler(String name) {
    return Schedulers.fromExecutorService(new GridTimer(name), name);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(
      Runnable command, long initialDelay, long period, TimeUnit unit) {
    long periodNanos = unit.toNanos(period);
    long delay = alignedDelay(System.nanoTime(), unit.toNanos(initialDelay), periodNanos);
    return super.scheduleAtFixedRate(command, delay, periodNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * The delay from {@code now} to the first grid point at or after {@code now + delay}: the grid is
   * {@code period} if shorter than {@link #GRID_NANOS}, else that.
   */
  static long alignedDelay(long now, long delay, long period) {
    if (period <= 0) {
      return delay;
    }
    long grid = Math.min(period, GRID_NANOS);
    long first = now + Math.max(0, delay);
    long late = Math.floorMod(first, grid);
    return first - now + (late == 0 ? 0 : grid - late);
  }
}
