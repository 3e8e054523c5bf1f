package dev.veriruntime.ingest;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.record.MalformedRecordException;
import dev.veriruntime.ingest.record.RecordDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Flux;

/**
 * Where the pipeline gets {@link RuntimeEvent}s: the live kernel stream of a loaded {@link Probe}
 * (records decoded by {@link RecordDecoder}, losses as {@link LostEvent}), and the start-up scan of
 * already-running processes. Stateless.
 *
 * <pre>{@code
 * try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
 *   Flux<RuntimeEvent> events = Flux.concat(EventSource.startupScan(new ProcScanner()), EventSource.live(probe));
 *   ...
 * }
 * }</pre>
 *
 * <p>Subscribe to the scan before (or, as above, concatenated ahead of) the live stream: the probe
 * is attached from {@link Probe#load} on, so execs that happen during the scan wait in the kernel
 * ring and none falls between the two.
 */
public final class EventSource {
  /**
   * The most records in one batch of {@link #liveBatches}: a few hundred keeps one ring round in
   * one element under a storm while a batch stays small next to the pipeline's in-flight bound.
   */
  public static final int MAX_BATCH = 256;

  private EventSource() {}

  /**
   * Decoded events from the probe's ring as one list per ring round (at most {@link #MAX_BATCH}
   * each; a loss report is a list of its own), with the reader contract of {@link
   * RingBufferReader}: what the agent reads, so that the stages up to classification pay one signal
   * per round rather than per record.
   */
  public static Flux<List<RuntimeEvent>> liveBatches(Probe probe) {
    return RingBufferReader.batches(
        probe,
        decoder(),
        EventSource::lostEvent,
        RingBufferReader.DEFAULT_LOST_CHECK_INTERVAL,
        MAX_BATCH);
  }

  /**
   * Decoded events from the probe's ring with the reader contract of {@link RingBufferReader} (one
   * subscriber at a time, demand-driven, losses reported every second and at completion).
   */
  public static Flux<RuntimeEvent> live(Probe probe) {
    return live(probe, RingBufferReader.DEFAULT_LOST_CHECK_INTERVAL);
  }

  /** As {@link #live(Probe)} with a chosen loss-report interval. */
  public static Flux<RuntimeEvent> live(Probe probe, Duration lostCheckInterval) {
    return RingBufferReader.flux(probe, decoder(), EventSource::lostEvent, lostCheckInterval);
  }

  /** The start-up scan as events (cold: scans when subscribed). */
  public static Flux<RuntimeEvent> startupScan(ProcScanner scanner) {
    return scanner.events().cast(RuntimeEvent.class);
  }

  /**
   * The record decoder as the reader needs it: a malformed record becomes an {@link
   * UndecodableRecordException} keyed by the kind its header claims, so it is reported as lost for
   * that kind. A record whose kind cannot be read is reported as a lost EXEC: losing an exec is the
   * loss that degrades coverage most, so an unknown loss must not look smaller than that.
   */
  static Function<ByteBuffer, RuntimeEvent> decoder() {
    RecordDecoder decoder = new RecordDecoder();
    return record -> {
      try {
        return decoder.decode(record);
      } catch (MalformedRecordException e) {
        throw new UndecodableRecordException(claimedKind(record).code(), e.getMessage(), e);
      }
    };
  }

  private static EventKind claimedKind(ByteBuffer record) {
    if (record.remaining() < 4) {
      return EventKind.EXEC;
    }
    int code =
        Short.toUnsignedInt(
            record.duplicate().order(ByteOrder.nativeOrder()).getShort(record.position() + 2));
    return EventKind.fromCode(code).orElse(EventKind.EXEC);
  }

  /**
   * Counter keys are {@code enum vr_kind} codes; a key that is no kind is counted as EXEC (see
   * {@link #decoder()}).
   */
  static LostEvent lostEvent(LossWindow window) {
    Map<EventKind, Long> byKind = new EnumMap<>(EventKind.class);
    long[] lost = window.lostByKey();
    for (int key = 0; key < lost.length; key++) {
      if (lost[key] > 0) {
        byKind.merge(EventKind.fromCode(key).orElse(EventKind.EXEC), lost[key], Long::sum);
      }
    }
    return new LostEvent(window.startNanos(), window.endNanos(), byKind);
  }
}
