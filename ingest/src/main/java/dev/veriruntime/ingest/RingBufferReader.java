package dev.veriruntime.ingest;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * Turns a probe's kernel ring buffer into a {@link Flux}: one dedicated platform thread per
 * subscription polls the ring (100 ms timeout), consumes every available record in a batch, and
 * decodes each one inside libbpf's callback, where the record memory is valid. A record the probe
 * submitted without a wake-up is consumed with the next one that wakes the reader, or when the poll
 * times out, so it waits at most the poll timeout.
 *
 * <h2>Backpressure (the rule)</h2>
 *
 * Records are taken from the ring only against downstream demand. When downstream is slow the
 * reader stops consuming and waits (it does not poll); the kernel ring fills up; the probe counts,
 * per CPU, every record it could not reserve. Every {@code lostCheckInterval} (default 1 s), and
 * once more at completion, the reader reads those counters and emits one loss event with the delta
 * since the last report ({@link LossWindow}) — losses are never silent. Records the decoder rejects
 * are counted in the same report (see {@link UndecodableRecordException}). A loss event waits for
 * demand like any other, except the final one at completion, which is buffered so it is never
 * dropped.
 *
 * <h2>Threads and lifecycle</h2>
 *
 * Events are emitted on the reader thread ({@code veriruntime-ring-<probe>}); downstream work that
 * can block should {@code publishOn} its own scheduler, or it holds the reader (which is then the
 * rule above, not a bug). A probe has at most one active reader: a second concurrent subscription
 * errors with {@link IllegalStateException}. Cancelling stops the thread and unmaps the ring; the
 * probe stays loaded. {@link Probe#close()} completes the Flux after a final drain and loss report.
 * Errors from the ring surface as {@code onError}.
 *
 * <pre>{@code
 * Flux<RuntimeEvent> events = RingBufferReader.events(probe);
 * events.publishOn(Schedulers.boundedElastic()).subscribe(pipeline::accept);
 * }</pre>
 *
 * @param <T> the decoded event type
 */
public final class RingBufferReader<T> {
  /** How often the kernel loss counters are read. */
  public static final Duration DEFAULT_LOST_CHECK_INTERVAL = Duration.ofSeconds(1);

  private static final System.Logger LOG = System.getLogger(RingBufferReader.class.getName());
  private static final int POLL_MILLIS = 100;

  private final RecordSource source;
  private final Function<ByteBuffer, T> decoder;
  private final Function<LossWindow, T> lostEvent;
  private final long lostCheckNanos;
  private final FluxSink<T> sink;
  private volatile boolean stopping;
  private volatile Thread thread;
  private long undecodable;
  private long[] pendingLost = new long[1];
  private long windowStart;

  private RingBufferReader(
      RecordSource source,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval,
      FluxSink<T> sink) {
    this.source = source;
    this.decoder = decoder;
    this.lostEvent = lostEvent;
    this.lostCheckNanos = lostCheckInterval.toNanos();
    this.sink = sink;
  }

  /**
   * Decoded records of a probe, with loss reports.
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

  static <T> Flux<T> flux(
      RecordSource source,
      Function<ByteBuffer, T> decoder,
      Function<LossWindow, T> lostEvent,
      Duration lostCheckInterval) {
    Objects.requireNonNull(decoder, "decoder");
    Objects.requireNonNull(lostEvent, "lostEvent");
    if (lostCheckInterval.isNegative() || lostCheckInterval.isZero()) {
      throw new IllegalArgumentException("lost check interval must be positive");
    }
    return Flux.create(
        sink -> {
          RingBufferReader<T> reader =
              new RingBufferReader<>(source, decoder, lostEvent, lostCheckInterval, sink);
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
    try (RecordSource.Stream ring = source.open(this::onRecord)) {
      windowStart = System.nanoTime();
      long nextLostCheck = windowStart + lostCheckNanos;
      while (!stopping) {
        long now = System.nanoTime();
        if (now - nextLostCheck >= 0) {
          addLost(source.claimLost());
          nextLostCheck = now + lostCheckNanos;
        }
        if (sink.requestedFromDownstream() <= 0) {
          // No demand: leave records in the kernel ring (see class javadoc) and sleep until a
          // request.
          LockSupport.parkNanos(this, Math.max(0, nextLostCheck - now));
          continue;
        }
        if (emitLoss(false)) {
          continue;
        }
        int waitMillis =
            (int)
                Math.max(
                    1, Math.min(POLL_MILLIS, TimeUnit.NANOSECONDS.toMillis(nextLostCheck - now)));
        if (ring.poll(waitMillis) == 0) {
          // Quiet records (see the probe's VR_QUIET) wake nobody: take them when the wait ran out.
          ring.consume();
        }
      }
      if (!sink.isCancelled()) {
        // Closing: hand over what is already in the ring while there is demand (bounded rounds, as
        // producers may still be writing), then the last loss report.
        for (int round = 0;
            round < 8 && sink.requestedFromDownstream() > 0 && ring.consume() > 0;
            round++) {
          // each round consumes everything committed so far
        }
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

  private boolean onRecord(ByteBuffer record) {
    T event;
    try {
      event = decoder.apply(record);
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
      return sink.requestedFromDownstream() > 0;
    }
    sink.next(event);
    return sink.requestedFromDownstream() > 0;
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
      sink.next(lostEvent.apply(window));
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
