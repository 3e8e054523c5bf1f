package dev.veriruntime.ingest;

import dev.veriruntime.ingest.kernel.ThreadPriority;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * Turns a probe's kernel ring buffer into a {@link Flux} of batches: one dedicated platform thread
 * per subscription polls the ring, consumes every available record in a round, and decodes each one
 * inside the ring's record handler, where the record buffer is valid. The records decoded in one
 * round are emitted as one {@code List} (at most {@code maxBatch} records; a longer round is
 * emitted as several lists), so downstream pays one signal per round, not per record. A record the
 * probe submitted without a wake-up is consumed with the next one that wakes the reader, or when
 * the poll times out: at the next loss check or after {@value #POLL_MILLIS} ms, whichever comes
 * first.
 *
 * <p>A poll waits that long because waking an idle thread is what an idle reader costs: each
 * wake-up took 0.25–0.4 ms of CPU on a loaded 2-vCPU guest (benchmarks/README.md, "Fixed costs:
 * wake-ups"), whatever the thread then did. Stopping does not wait for the timeout: it releases the
 * wait ({@link RecordSource.Stream#release}).
 *
 * <h2>Wake-ups</h2>
 *
 * Under an exec storm nearly every record would wake the reader on its own (the probe forces a
 * wake-up per record), and each wake-up costs a round trip through epoll for one or two records. So
 * when rounds that find records come faster than one per half {@link #COALESCE}, the ring is busy:
 * the reader takes the next round without waiting on epoll, no earlier than {@value
 * #COALESCE_MICROS} µs after the previous one, so a busy ring is read in larger batches at most
 * every {@value #COALESCE_MICROS} µs. A round that finds nothing sends the reader back to epoll. On
 * a calm host (or one with fewer than a few thousand wake-ups a second) every record is taken at
 * once; in a storm a record waits at most {@value #COALESCE_MICROS} µs more.
 *
 * <p>The probe's reader ({@link #batches(Probe, Function, Function, Duration, int)}) does not
 * coalesce yet ({@link #PROBE_COALESCE} is zero): at the 1,500–2,000 exec/s a loaded 2-core host
 * reached, it measured slightly more reader wake-ups per exec with it (0.70–0.75) than without
 * (0.57–0.65) and no less reader CPU; it stays off until a storm on a quiet host shows it pays.
 *
 * <h2>Backpressure (the rule)</h2>
 *
 * Records are taken from the ring only against downstream demand (one batch per requested element).
 * When downstream is slow the reader stops consuming and waits (it does not poll); the kernel ring
 * fills up; the probe counts, per CPU, every record it could not reserve. Every {@code
 * lostCheckInterval} (default 1 s), and once more at completion, the reader reads those counters
 * and emits one loss event with the delta since the last report ({@link LossWindow}), as a batch of
 * its own — losses are never silent. Records the decoder rejects are counted in the same report
 * (see {@link UndecodableRecordException}) and the rest of their batch goes on. A loss event waits
 * for demand like any other, except the final one at completion, which is buffered so it is never
 * dropped.
 *
 * <h2>Threads and lifecycle</h2>
 *
 * Events are emitted on the reader thread ({@code veriruntime-ring-<probe>}). A probe's reader is a
 * real-time thread (SCHED_FIFO at priority {@value #PROBE_RT_PRIORITY}, the lowest) when the
 * process may make it one, as the agent as root can; otherwise it runs at nice {@value
 * #PROBE_NICE}, the way auditd boosts itself, and says so once (and without CAP_SYS_NICE, as
 * created). Under an exec storm the host has many runnable processes, and at the default weight the
 * reader waited its turn behind them (exec → verdict p50 ~0.9 ms, p99 90–130 ms during a max-rate
 * storm on a 2-core host; at nice -4, p50 ~0.05 ms). It takes no more CPU for it; it runs sooner.
 * Nice -4 still left a calm host's tail: the scheduler often woke the reader on the CPU of the
 * process that had just exec'd and let that process run on until it exited (its slice is 1.4 ms on
 * 2 CPUs) while the other CPU idled, so one exec in ten to twenty of a short-lived binary waited
 * 0.5–2 ms; a real-time reader preempts it at once (benchmarks/README.md has the A/B). The threads
 * a real-time reader starts (a scheduler's worker created on its first task from this thread) run
 * at the default policy and nice value (reset-on-fork): hashing a large file on a worker must not
 * run real-time; those of a reader at nice -4 inherit it. Downstream work that can block should
 * {@code publishOn} its own scheduler, or it holds the reader (which is then the rule above, not a
 * bug). A probe has at most one active reader: a second concurrent subscription errors with {@link
 * IllegalStateException}. Cancelling stops the thread and unmaps the ring; the probe stays loaded.
 * {@link Probe#close()} completes the Flux after a final drain and loss report. Errors from the
 * ring surface as {@code onError}. A batch belongs to the subscriber once emitted (a new list per
 * batch, never reused).
 *
 * <pre>{@code
 * Flux<List<RuntimeEvent>> batches = RingBufferReader.batches(probe, decoder, lostEvent, interval, 256);
 * batches.publishOn(Schedulers.boundedElastic()).subscribe(pipeline::accept);
 * }</pre>
 *
 * @param <T> the decoded event type
 */
public final class RingBufferReader<T> {
  /** How often the kernel loss counters are read. */
  public static final Duration DEFAULT_LOST_CHECK_INTERVAL = Duration.ofSeconds(1);

  private static final System.Logger LOG = System.getLogger(RingBufferReader.class.getName());

  /** The longest wait for the ring; the loss check every second usually ends it first. */
  static final int POLL_MILLIS = 1000;

  static final long COALESCE_MICROS = 500;

  /** Least time between two rounds while the ring is busy (see "Wake-ups"). */
  static final Duration COALESCE = Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(COALESCE_MICROS));

  /** The coalescing window of a probe's reader: off (see "Wake-ups"). */
  static final Duration PROBE_COALESCE = Duration.ZERO;

  /**
   * The nice value of a probe's reader thread (see "Threads and lifecycle"), and of whatever holds
   * a lock the reader needs.
   */
  public static final int PROBE_NICE = -4;

  /** The real-time (SCHED_FIFO) priority of a probe's reader thread: the lowest. */
  static final int PROBE_RT_PRIORITY = 1;

  private final RecordSource source;
  private final Function<ByteBuffer, T> decoder;
  private final Function<LossWindow, T> lostEvent;
  private final long lostCheckNanos;
  private final FluxSink<List<T>> sink;
  private final int maxBatch;
  private final long coalesceNanos;
  private final boolean raised;
  private List<T> batch;
  private volatile boolean stopping;
  private volatile Thread thread;
  private volatile RecordSource.Stream stream;
  private long undecodable;
  private long[] pendingLost = new long[1];
  private long windowStart;
  // Reader-thread state between rounds: when the loss counters are read next, the start of the
  // last round that found records, and whether the ring looked busy then.
  private long nextLostCheck;
  private long lastRound;
  private boolean busy;

  private RingBufferReader(
      RecordSource source,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval,
      int maxBatch,
      Duration coalesce,
      boolean raised,
      FluxSink<List<T>> sink) {
    this.source = source;
    this.decoder = decoder;
    this.lostEvent = lostEvent;
    this.lostCheckNanos = lostCheckInterval.toNanos();
    this.maxBatch = maxBatch;
    this.coalesceNanos = coalesce.toNanos();
    this.raised = raised;
    this.sink = sink;
    this.batch = new ArrayList<>(Math.min(maxBatch, 64));
  }

  /**
   * Decoded records of a probe, with loss reports, one record per element (one round trip through
   * Reactor per record: for tools and tests; the agent reads {@link #batches}).
   *
   * @param decoder decodes one record; called on the reader thread with a buffer valid only during
   *     the call (little-endian, position 0, limit = record length); a thrown RuntimeException
   *     counts the record as lost ({@link UndecodableRecordException} says under which key)
   * @param lostEvent builds the event reporting a window with at least one lost record
   * @param lostCheckInterval how often kernel loss counters are read
   */
  public static <T> Flux<T> flux(
      Probe probe,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval) {
    return flux(probe.recordSource(), decoder, lostEvent, lostCheckInterval);
  }

  /**
   * Decoded records of a probe, with loss reports, as one list per ring round (see the class
   * javadoc); same parameters as {@link #flux}.
   *
   * @param maxBatch the most records in one list (≥ 1)
   */
  public static <T> Flux<List<T>> batches(
      Probe probe,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval,
      int maxBatch) {
    return batches(
        probe.recordSource(),
        decoder,
        lostEvent,
        lostCheckInterval,
        maxBatch,
        PROBE_COALESCE,
        true);
  }

  static <T> Flux<T> flux(
      RecordSource source,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval) {
    // One record per batch keeps the per-record demand contract (a request of n takes n records).
    return batches(source, decoder, lostEvent, lostCheckInterval, 1, Duration.ZERO, false)
        .map(b -> b.get(0));
  }

  /**
   * The reader thread raised as a probe's (see "Threads and lifecycle") when {@code raised},
   * otherwise as created.
   */
  static <T> Flux<List<T>> batches(
      RecordSource source,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval,
      int maxBatch,
      Duration coalesce,
      boolean raised) {
    Objects.requireNonNull(decoder, "decoder");
    Objects.requireNonNull(lostEvent, "lostEvent");
    if (lostCheckInterval.isNegative() || lostCheckInterval.isZero()) {
      throw new IllegalArgumentException("lost check interval must be positive");
    }
    if (maxBatch < 1) {
      throw new IllegalArgumentException("max batch must be at least 1");
    }
    return Flux.create(
        sink -> {
          RingBufferReader<T> reader =
              new RingBufferReader<>(
                  source, decoder, lostEvent, lostCheckInterval, maxBatch, coalesce, raised, sink);
          try {
            source.register(reader);
          } catch (RuntimeException e) {
            sink.error(e);
            return;
          }
          sink.onRequest(n -> reader.wake());
          sink.onCancel(reader::stop);
          reader.start();
        },
        FluxSink.OverflowStrategy.BUFFER);
  }

  private void start() {
    Thread t = new Thread(this::run, "veriruntime-ring-" + source.name());
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  private void run() {
    if (raised) {
      raise();
    }
    try (RecordSource.Stream ring = source.open(this::onRecord)) {
      stream = ring;
      windowStart = System.nanoTime();
      nextLostCheck = windowStart + lostCheckNanos;
      lastRound = windowStart;
      // One round per call: the JIT compiles a method after a few thousand calls, but a loop that
      // runs for the thread's lifetime only by on-stack replacement, after tens of thousands of
      // iterations (the first two to three minutes of an exec storm ran interpreted).
      while (!stopping && round(ring)) {
        // next round
      }
      if (!sink.isCancelled()) {
        // Closing: hand over what is already in the ring while there is demand (bounded rounds, as
        // producers may still be writing), then the last loss report.
        for (int round = 0;
            round < 8 && sink.requestedFromDownstream() > 0 && ring.consume() > 0;
            round++) {
          flush(); // each round consumes everything committed so far
        }
        flush();
        addLost(source.claimLost());
        emitLoss(true);
        sink.complete();
      }
    } catch (Throwable t) {
      sink.error(t);
    } finally {
      source.unregister(this);
    }
  }

  /**
   * One round: reads the loss counters when due, waits for demand, emits a pending loss report, or
   * takes what the ring holds (after epoll, or after the coalescing window while busy) and emits
   * it. Returns false when the reader was stopped while it waited.
   */
  private boolean round(RecordSource.Stream ring) {
    long now = System.nanoTime();
    if (now - nextLostCheck >= 0) {
      addLost(source.claimLost());
      nextLostCheck = now + lostCheckNanos;
    }
    if (sink.requestedFromDownstream() <= 0) {
      // No demand: leave records in the kernel ring (see class javadoc) and sleep until a request.
      LockSupport.parkNanos(this, Math.max(0, nextLostCheck - now));
      return true;
    }
    if (emitLoss(false)) {
      return true;
    }
    int found;
    if (busy) {
      // Busy ring: wait out the rest of the coalescing window, then take what came meanwhile
      // without going through epoll (see "Wake-ups").
      long wait = lastRound + coalesceNanos - now;
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
        if (stopping) {
          return false;
        }
      }
      now = System.nanoTime();
      found = ring.consume();
    } else {
      int waitMillis =
          (int)
              Math.max(
                  1, Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(nextLostCheck - now)));
      found = ring.poll(waitMillis);
      if (found == 0) {
        // Quiet records (see the probe's VR_QUIET) wake nobody: take them when the wait ran out.
        found = ring.consume();
      }
      now = System.nanoTime();
    }
    flush();
    busy = busyAfter(busy, found, now - lastRound, coalesceNanos);
    if (found > 0) {
      lastRound = now;
    }
    return true;
  }

  /**
   * Decodes one record into the current batch. Returns whether the ring may hand more: a full batch
   * is emitted at once, and taking more needs demand for the next one.
   */
  private boolean onRecord(ByteBuffer record) {
    try {
      batch.add(decoder.apply(record));
    } catch (RuntimeException e) {
      if (undecodable++ == 0) {
        LOG.log(
            System.Logger.Level.WARNING,
            "undecodable record from probe "
                + source.name()
                + " (counted as lost): "
                + e.getMessage());
      }
      int key = e instanceof UndecodableRecordException u ? Math.max(0, u.lossKey()) : 0;
      if (key >= pendingLost.length) {
        pendingLost = java.util.Arrays.copyOf(pendingLost, key + 1);
      }
      pendingLost[key]++;
    }
    if (batch.size() >= maxBatch) {
      flush();
      return sink.requestedFromDownstream() > 0;
    }
    return true;
  }

  /** Real-time, else nice {@value #PROBE_NICE}, else as created; says once what it could not. */
  private void raise() {
    Optional<String> notRealtime = ThreadPriority.setRealtime(PROBE_RT_PRIORITY);
    if (notRealtime.isEmpty()) {
      return;
    }
    Optional<String> notNice = ThreadPriority.setNice(PROBE_NICE);
    LOG.log(
        System.Logger.Level.INFO,
        "ring reader "
            + source.name()
            + notNice
                .map(why -> " keeps the default priority: " + notRealtime.get() + "; " + why)
                .orElse(" runs at nice " + PROBE_NICE + ", not real-time: " + notRealtime.get()));
  }

  /**
   * Whether the next round waits out the coalescing window and skips epoll (see "Wake-ups"): a
   * round that found records less than half a window after the previous one that did makes the ring
   * busy (wake-ups faster than one per half window), and it stays busy while its rounds find
   * records; an empty round ends it.
   */
  static boolean busyAfter(boolean busy, int found, long sincePreviousNanos, long coalesceNanos) {
    if (found <= 0 || coalesceNanos <= 0) {
      return false;
    }
    return busy || sincePreviousNanos < coalesceNanos / 2;
  }

  /** Emits the records decoded so far as one batch (nothing when there are none). */
  private void flush() {
    if (!batch.isEmpty()) {
      List<T> full = batch;
      batch = new ArrayList<>(Math.min(maxBatch, Math.max(full.size(), 4)));
      sink.next(full);
    }
  }

  private void addLost(long[] delta) {
    if (delta.length > pendingLost.length) {
      pendingLost = java.util.Arrays.copyOf(pendingLost, delta.length);
    }
    for (int key = 0; key < delta.length; key++) {
      pendingLost[key] += delta[key];
    }
  }

  /** Emits the pending loss report if anything was lost (and there is demand, unless forced). */
  private boolean emitLoss(boolean force) {
    boolean any = false;
    for (long lost : pendingLost) {
      any |= lost > 0;
    }
    if (any && (force || sink.requestedFromDownstream() > 0)) {
      long end = System.nanoTime();
      LossWindow window = new LossWindow(windowStart, end, pendingLost);
      pendingLost = new long[pendingLost.length];
      windowStart = end;
      sink.next(List.of(lostEvent.apply(window)));
      return true;
    }
    return false;
  }

  private void wake() {
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t);
    }
  }

  private void stop() {
    stopping = true;
    wake();
    RecordSource.Stream ring = stream;
    if (ring != null) {
      ring.release();
    }
  }

  /** Asks the reader to finish (drain, final loss report, complete) and waits for its thread. */
  void stopAndJoin() {
    stop();
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
