package dev.veriruntime.api;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The {@link EventFeed} of a daemon: live events {@link #publish published} by the daemon, each
 * with its journal sequence number, fanned out to every subscription's own bounded queue; the past
 * read from a {@link History} (the evidence journal). A subscription that resumes after seq S gets
 * every event the history holds after S, then the live ones, without a gap or a duplicate:
 *
 * <ul>
 *   <li>{@link #publish} is called only once an event is durable in the history, and registration
 *       reads {@link History#durableSeq()} under the same lock, so every event is either durable
 *       when the subscription starts (it is replayed, up to that seq) or published after it (it is
 *       queued; queued events at or below that seq are skipped);
 *   <li>when S asks for more than the history kept (S + 1 is older than its oldest record), or for
 *       events it never wrote (S beyond its end: another or a reset journal), the first item is a
 *       {@link EventFeed.Gap} saying so.
 * </ul>
 *
 * <h2>Backpressure</h2>
 *
 * {@link #publish} never blocks and never waits for a reader: it offers the event to each
 * subscription's queue (at most {@code queueCapacity} events). A subscription whose queue is full
 * is cut off at once: its queue is released, its reader gets a {@link EventFeed.CutOff} with the
 * reason and the seq to resume after, {@link #cutOffs()} counts it and {@code onCutOff} is told
 * (the daemon reports it as lost coverage). Memory is bounded by {@code maxSubscriptions ×
 * queueCapacity} events whatever readers do.
 *
 * <p>Thread safe. {@link #publish} is meant to be called from one thread (a sink's drain thread),
 * in seq order.
 *
 * <pre>{@code
 * EventHub hub = new EventHub(types, history, 4096, 32, n -> ledger.add("stream", n));
 * hub.publish(seq, "UNKNOWN_EXECUTION", json); // after the journal made seq durable
 * GrpcServer.builder(api).feed(hub)...
 * }</pre>
 */
public final class EventHub implements EventFeed {

  /** Where the past comes from: the evidence journal, read without the daemon's write lock. */
  public interface History {
    /** The last sequence number that is durable (readable by {@link #replay}); 0 if none. */
    long durableSeq();

    /** The oldest sequence number the history still holds; {@code durableSeq() + 1} if empty. */
    long firstKept();

    /**
     * The events with {@code after < seq <= through}, in order, read lazily. The stream is closed
     * by the caller.
     */
    Stream<EventFeed.Event> replay(long after, long through);

    /** No history: a daemon without a journal. Live events only, numbered from 1 at start. */
    static History none() {
      return NoHistory.INSTANCE;
    }
  }

  private enum NoHistory implements History {
    INSTANCE;

    @Override
    public long durableSeq() {
      return 0;
    }

    @Override
    public long firstKept() {
      return Long.MAX_VALUE;
    }

    @Override
    public Stream<EventFeed.Event> replay(long after, long through) {
      return Stream.empty();
    }
  }

  private final Set<String> types;
  private final History history;
  private final int queueCapacity;
  private final int maxSubscriptions;
  private final LongConsumer onCutOff;
  private final Object lock = new Object();
  private final List<Sub> subscriptions = new ArrayList<>();
  private long cutOffs;
  private long lastPublished;

  /**
   * @param types the event type names subscriptions may filter on
   * @param history the past; {@link History#none()} without a journal
   * @param queueCapacity live events a subscription may have waiting before it is cut off
   * @param maxSubscriptions subscriptions open at once; more are refused {@code UNAVAILABLE}
   * @param onCutOff told (on the publishing thread, must not block) of each cut-off, with the
   *     number of live events the reader lost by it (its queue and the event that did not fit; it
   *     can replay them from the journal)
   */
  public EventHub(
      Set<String> types,
      History history,
      int queueCapacity,
      int maxSubscriptions,
      LongConsumer onCutOff) {
    if (queueCapacity < 1 || maxSubscriptions < 1) {
      throw new IllegalArgumentException("queueCapacity and maxSubscriptions must be >= 1");
    }
    this.types = Set.copyOf(types);
    this.history = Objects.requireNonNull(history, "history");
    this.queueCapacity = queueCapacity;
    this.maxSubscriptions = maxSubscriptions;
    this.onCutOff = Objects.requireNonNull(onCutOff, "onCutOff");
  }

  @Override
  public Set<String> types() {
    return types;
  }

  /**
   * One event, durable in the history (when there is one) as {@code seq}. Never blocks.
   *
   * @param seq its journal sequence number (0 without a journal)
   */
  public void publish(long seq, String type, String json) {
    EventFeed.Event event = new EventFeed.Event(seq, type, json);
    List<Sub> toSignal = new ArrayList<>();
    List<Long> lost = new ArrayList<>();
    synchronized (lock) {
      lastPublished = Math.max(lastPublished, seq);
      Iterator<Sub> it = subscriptions.iterator();
      while (it.hasNext()) {
        Sub s = it.next();
        if (!s.wants(type)) {
          continue;
        }
        if (!s.queue.offer(event)) {
          lost.add(s.queue.size() + 1L);
          s.cut(queueCapacity);
          it.remove();
          cutOffs++;
        }
        toSignal.add(s);
      }
    }
    for (long n : lost) {
      onCutOff.accept(n);
    }
    for (Sub s : toSignal) {
      s.onAvailable.run();
    }
  }

  /** Subscriptions cut off since start. */
  public long cutOffs() {
    synchronized (lock) {
      return cutOffs;
    }
  }

  /** Subscriptions open now. */
  public int subscriptions() {
    synchronized (lock) {
      return subscriptions.size();
    }
  }

  @Override
  public Subscription subscribe(OptionalLong since, Set<String> wanted, Runnable onAvailable)
      throws ApiException {
    Objects.requireNonNull(onAvailable, "onAvailable");
    for (String t : wanted) {
      if (!types.contains(t)) {
        throw new ApiException(
            ApiException.Code.BAD_REQUEST,
            "unknown event type \""
                + t
                + "\" (types: "
                + String.join(", ", new TreeSet<>(types))
                + ")");
      }
    }
    synchronized (lock) {
      if (subscriptions.size() >= maxSubscriptions) {
        throw new ApiException(
            ApiException.Code.UNAVAILABLE,
            "too many event streams open (" + maxSubscriptions + "), try again later");
      }
      long durable = Math.max(history.durableSeq(), lastPublished);
      long firstKept = Math.min(history.firstKept(), durable + 1);
      Sub s = new Sub(since, Set.copyOf(wanted), onAvailable, durable, firstKept);
      subscriptions.add(s);
      return s;
    }
  }

  private void remove(Sub s) {
    synchronized (lock) {
      subscriptions.remove(s);
    }
  }

  /** One subscription: optional gap notice, replay, the live marker, then its queue. */
  private final class Sub implements Subscription {
    final Set<String> wanted;
    final Runnable onAvailable;
    final ArrayBlockingQueue<EventFeed.Event> queue = new ArrayBlockingQueue<>(queueCapacity);

    /** Replay covers up to here; queued events at or below it were replayed (or never wanted). */
    final long limit;

    final long replayAfter;
    EventFeed.Gap gap;
    Stream<EventFeed.Event> replayStream;
    Iterator<EventFeed.Event> replay;
    boolean replaying;
    boolean liveSent;
    volatile long lastSeq;
    volatile EventFeed.CutOff cut;
    volatile boolean closed;

    Sub(
        OptionalLong since,
        Set<String> wanted,
        Runnable onAvailable,
        long durable,
        long firstKept) {
      this.wanted = wanted;
      this.onAvailable = onAvailable;
      this.limit = durable;
      if (since.isEmpty()) {
        replayAfter = durable;
        lastSeq = durable;
        return;
      }
      long s = since.getAsLong();
      if (s > durable) {
        gap =
            new EventFeed.Gap(
                s,
                durable + 1,
                "the journal ends at seq "
                    + durable
                    + ", before the requested seq "
                    + s
                    + " (another or a reset journal): following from its end");
        replayAfter = durable;
      } else if (s + 1 < firstKept) {
        gap =
            new EventFeed.Gap(
                s,
                firstKept,
                history == NoHistory.INSTANCE
                    ? "the agent keeps no journal (events are numbered from its start): only"
                        + " live events can be followed"
                    : "the journal no longer holds seq "
                        + (s + 1)
                        + " to "
                        + (firstKept - 1)
                        + "; replaying from seq "
                        + firstKept);
        replayAfter = s;
      } else {
        replayAfter = s;
      }
      lastSeq = replayAfter;
      replaying = replayAfter < durable;
    }

    boolean wants(String type) {
      return wanted.isEmpty() || wanted.contains(type);
    }

    /** Called under the hub's lock when the queue is full. */
    void cut(int capacity) {
      cut =
          new EventFeed.CutOff(
              lastSeq,
              "the client fell behind: "
                  + capacity
                  + " live events waited for it and the stream was cut off so the agent never"
                  + " waits for a reader");
      queue.clear();
    }

    @Override
    public EventFeed.CutOff cutOff() {
      return cut;
    }

    @Override
    public EventFeed.Item poll() {
      if (cut != null || closed) {
        return null;
      }
      if (gap != null) {
        EventFeed.Gap g = gap;
        gap = null;
        return g;
      }
      while (replaying) {
        if (replay == null) {
          replayStream = history.replay(replayAfter, limit);
          replay = replayStream.iterator();
        }
        if (!replay.hasNext()) {
          replaying = false;
          replayStream.close();
          break;
        }
        EventFeed.Event e = replay.next();
        lastSeq = e.seq();
        if (wants(e.type())) {
          return e;
        }
      }
      if (!liveSent) {
        liveSent = true;
        lastSeq = Math.max(lastSeq, limit);
        return new EventFeed.Live(limit);
      }
      EventFeed.Event e;
      while ((e = queue.poll()) != null) {
        // Already replayed (published between the durable point and this subscription's start).
        if (e.seq() > limit) {
          lastSeq = Math.max(lastSeq, e.seq());
          return e;
        }
      }
      return null;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      remove(this);
      queue.clear();
      if (replayStream != null) {
        replayStream.close();
      }
    }
  }
}
