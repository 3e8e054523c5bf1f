package dev.veriruntime.sinks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The {@link Sink} contract implemented once: a buffer bounded by {@code capacity}, drained in
 * batches of at most {@code batchSize} on one scheduler, with at most one batch in flight so order
 * is kept. Subclasses implement {@link #deliver} (one event) and optionally {@link #completeBatch}
 * (e.g. one fsync per batch) and {@link #closeResources}.
 *
 * <p>Accounting: an event counts against {@code capacity} from {@code emit} until it is delivered
 * or failed, so queued plus in-flight events never exceed {@code capacity}. An event is counted
 * delivered only after {@link #completeBatch} of its batch succeeded; if {@code completeBatch}
 * fails, the whole batch counts as failed (the downstream did not confirm it).
 *
 * <p>Thread safety: {@code emit}, {@code flush}, {@code stats} and {@code close} are safe from any
 * thread. {@code deliver}, {@code completeBatch} and {@code closeResources} are never called
 * concurrently with each other; they run on the drain scheduler (or, for asynchronous deliveries,
 * wherever the returned {@code Mono} completes).
 */
public abstract class BoundedSink implements Sink {
  /** How long {@link #close()} waits for pending events before giving up on them. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final String name;
  private final int capacity;
  private final int batchSize;
  private final Scheduler scheduler;
  private final boolean ownsScheduler;
  private final Duration closeTimeout;
  private final boolean pipelined;

  private final ConcurrentLinkedQueue<SecurityEvent> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ConcurrentLinkedQueue<FlushWaiter> waiters = new ConcurrentLinkedQueue<>();
  private volatile String lastFailure;

  private record FlushWaiter(long target, MonoSink<Void> sink) {}

  /**
   * @param name the sink's name (metrics, degraded reports)
   * @param capacity bound on queued plus in-flight events, at least 1
   * @param batchSize most events handed to the downstream between two {@link #completeBatch} calls
   * @param scheduler where draining runs; {@code null} means a dedicated single thread owned (and
   *     disposed on close) by this sink
   * @param closeTimeout how long {@link #close()} waits for pending events
   */
  protected BoundedSink(
      String name, int capacity, int batchSize, Scheduler scheduler, Duration closeTimeout) {
    this(name, capacity, batchSize, scheduler, closeTimeout, false);
  }

  /**
   * @param pipelined {@code true}: every delivery of a batch is started at once, in order, on one
   *     thread (the drain thread, or the one that completed {@link #beforeBatch}), and the batch
   *     completes when all of them have; for downstreams that keep the order of what they were
   *     handed and pipeline it themselves (Kafka's producer). {@code false}: each delivery starts
   *     after the previous one completed.
   * @see #BoundedSink(String, int, int, Scheduler, Duration)
   */
  protected BoundedSink(
      String name,
      int capacity,
      int batchSize,
      Scheduler scheduler,
      Duration closeTimeout,
      boolean pipelined) {
    this.pipelined = pipelined;
    this.name = Objects.requireNonNull(name, "name");
    if (capacity < 1 || batchSize < 1) {
      throw new IllegalArgumentException("capacity and batchSize must be >= 1");
    }
    this.capacity = capacity;
    this.batchSize = batchSize;
    this.ownsScheduler = scheduler == null;
    this.scheduler =
        scheduler != null ? scheduler : Schedulers.newSingle("veriruntime-sink-" + name, true);
    this.closeTimeout = Objects.requireNonNull(closeTimeout, "closeTimeout");
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final boolean emit(SecurityEvent event) {
    Objects.requireNonNull(event, "event");
    if (closed.get()) {
      dropped.incrementAndGet();
      return false;
    }
    int p;
    do {
      p = pending.get();
      if (p >= capacity) {
        dropped.incrementAndGet();
        return false;
      }
    } while (!pending.compareAndSet(p, p + 1));
    accepted.incrementAndGet();
    queue.offer(event);
    signal();
    return true;
  }

  @Override
  public final Mono<Void> flush() {
    return Mono.create(
        sink -> {
          long target = accepted.get();
          if (settled() >= target) {
            sink.success();
            return;
          }
          waiters.add(new FlushWaiter(target, sink));
          // The last batch may have settled between the check and the add.
          completeWaiters();
        });
  }

  @Override
  public final SinkStats stats() {
    return new SinkStats(
        name,
        accepted.get(),
        delivered.get(),
        dropped.get(),
        failed.get(),
        pending.get(),
        capacity,
        lastFailure);
  }

  /** Whether {@link #close()} has been called. */
  protected final boolean isClosed() {
    return closed.get();
  }

  /** The scheduler draining runs on, for subclasses that need timers (retry backoff, timeouts). */
  protected final Scheduler scheduler() {
    return scheduler;
  }

  /** Records the reason of a failure shown in {@link SinkStats#lastFailure()}. */
  protected final void noteFailure(Throwable error) {
    String message = error.getMessage();
    lastFailure = error.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /**
   * Hands one event to the downstream. The returned {@code Mono} completes when the downstream took
   * it, or errors (the event then counts as failed, and the rest of the batch is still attempted).
   * Must not block for long on the drain thread: slow downstreams make the buffer fill and drop,
   * which is intended, but a hang stalls the sink forever; bound network waits with timeouts.
   */
  protected abstract Mono<Void> deliver(SecurityEvent event);

  /**
   * Called before each batch is handed over, e.g. to wait until a connection exists: the batch's
   * deliveries start on the thread that completes it, and an error fails the whole batch. Default:
   * nothing.
   */
  protected Mono<Void> beforeBatch() {
    return Mono.empty();
  }

  /** Called after each batch, e.g. to fsync; an error fails the whole batch. Default: nothing. */
  protected Mono<Void> completeBatch() {
    return Mono.empty();
  }

  /** Releases files, sockets, servers after the final flush. Default: nothing. Must not throw. */
  protected void closeResources() {}

  @Override
  public final void close() {
    close(closeTimeout);
  }

  @Override
  public final void close(Duration wait) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      // toFuture, not block(): close may be called from a Reactor thread where block() is refused.
      flush().toFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      noteFailure(new IllegalStateException("close timed out with " + pending.get() + " pending"));
    } finally {
      try {
        closeResources();
      } finally {
        if (ownsScheduler) {
          scheduler.dispose();
        }
      }
    }
  }

  private long settled() {
    return delivered.get() + failed.get();
  }

  private void signal() {
    if (draining.compareAndSet(false, true)) {
      schedule();
    }
  }

  private void schedule() {
    try {
      scheduler.schedule(this::drainOnce);
    } catch (RejectedExecutionException e) {
      // Scheduler disposed (sink closing): what is still queued can never be delivered.
      noteFailure(e);
      failRemaining();
      draining.set(false);
    }
  }

  private void drainOnce() {
    List<SecurityEvent> batch = new ArrayList<>(Math.min(batchSize, 64));
    SecurityEvent e;
    while (batch.size() < batchSize && (e = queue.poll()) != null) {
      batch.add(e);
    }
    if (batch.isEmpty()) {
      draining.set(false);
      // An emit may have enqueued after our poll but seen draining == true: pick it up.
      if (!queue.isEmpty() && draining.compareAndSet(false, true)) {
        schedule();
      }
      return;
    }
    runBatch(batch)
        .subscribe(
            ok -> settle(batch.size(), ok),
            error -> {
              noteFailure(error);
              settle(batch.size(), 0);
            });
  }

  private Mono<Integer> runBatch(List<SecurityEvent> batch) {
    Function<SecurityEvent, Mono<Boolean>> attempt =
        event ->
            Mono.defer(() -> deliver(event))
                .thenReturn(Boolean.TRUE)
                .onErrorResume(
                    error -> {
                      noteFailure(error);
                      return Mono.just(Boolean.FALSE);
                    });
    Flux<SecurityEvent> events = Flux.fromIterable(batch);
    // Pipelined: all inner deliveries are subscribed at once and in order (concurrency = batch
    // size), so the downstream is handed the whole batch on this thread before any answer comes.
    Flux<Boolean> outcomes =
        pipelined
            ? events.flatMapSequential(attempt, Math.max(1, batch.size()), 1)
            : events.concatMap(attempt);
    return Mono.defer(this::beforeBatch)
        .thenMany(outcomes)
        .filter(Boolean::booleanValue)
        .count()
        .flatMap(ok -> Mono.defer(this::completeBatch).thenReturn(ok.intValue()));
  }

  private void settle(int size, int ok) {
    delivered.addAndGet(ok);
    failed.addAndGet(size - ok);
    pending.addAndGet(-size);
    completeWaiters();
    if (queue.isEmpty()) {
      // Idle: release the drain instead of hopping threads to find nothing (and so a sink closed
      // by a completed flush does not schedule onto its disposed scheduler).
      draining.set(false);
      if (!queue.isEmpty() && draining.compareAndSet(false, true)) {
        schedule();
      }
    } else {
      schedule();
    }
  }

  private void failRemaining() {
    int n = 0;
    while (queue.poll() != null) {
      n++;
    }
    if (n > 0) {
      failed.addAndGet(n);
      pending.addAndGet(-n);
      completeWaiters();
    }
  }

  private void completeWaiters() {
    long s = settled();
    for (FlushWaiter w : waiters) {
      if (w.target() <= s && waiters.remove(w)) {
        w.sink().success();
      }
    }
  }
}
