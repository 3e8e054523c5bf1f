package dev.veriruntime.api;

import java.util.OptionalLong;
import java.util.Set;

/**
 * The daemon's events as a feed a remote reader can follow: the past from the evidence journal,
 * then live events, each with its journal sequence number. The API module defines it; the agent
 * implements it over its journal and its event sinks (the API never depends on either). Events are
 * JSON text exactly as the console sink prints it with {@code --json}.
 *
 * <h2>Backpressure</h2>
 *
 * A {@link Subscription} is pulled ({@link Subscription#poll}) by its reader, at the reader's pace.
 * Live events wait for it in a queue bounded by the implementation; when the queue is full the
 * subscription is cut off: {@link Subscription#poll} returns a {@link CutOff} saying why, and
 * nothing more. The feed never waits for a reader, so a slow reader never slows the daemon's
 * pipeline or its other sinks; it reconnects with the last sequence number it got and misses
 * nothing the journal still holds.
 *
 * <h2>Threads</h2>
 *
 * Implementations are thread safe. {@code onAvailable} is called from the daemon's threads whenever
 * the subscription may have something new; it must not block (schedule the read).
 */
public interface EventFeed {

  /** The event types a subscription may filter on, by name. */
  Set<String> types();

  /**
   * Start following.
   *
   * @param since replay events with a sequence number above this first (0: all the journal holds);
   *     empty: live events only
   * @param types only these types (names from {@link #types()}); empty: all
   * @param onAvailable called, without blocking, when {@link Subscription#poll} may return more
   * @throws ApiException {@code BAD_REQUEST} for an unknown type; {@code UNAVAILABLE} when too many
   *     subscriptions are open
   */
  Subscription subscribe(OptionalLong since, Set<String> types, Runnable onAvailable)
      throws ApiException;

  /** One reader's place in the feed. Read by one thread at a time; closed exactly once. */
  interface Subscription extends AutoCloseable {
    /**
     * The next item, or {@code null} when nothing is ready yet ({@code onAvailable} will be
     * called). After a {@link CutOff}, always {@code null}. May read journal files while replaying.
     */
    Item poll();

    /**
     * The cut, once the subscription has fallen too far behind, else {@code null}. A reader that
     * cannot take more items checks this so it can say why it stops even while its transport is
     * full.
     */
    CutOff cutOff();

    /** Stops the subscription and releases its queue; idempotent. */
    @Override
    void close();
  }

  /** What a subscription delivers. */
  sealed interface Item permits Event, Gap, Live, CutOff {}

  /**
   * One event.
   *
   * @param seq its sequence number in the evidence journal (0 without a journal)
   * @param type its type name
   * @param json the event as the console prints it with {@code --json}
   */
  record Event(long seq, String type, String json) implements Item {}

  /**
   * First item when {@code since} asked for events the journal no longer (or never) held.
   *
   * @param requestedSince the {@code since} asked for
   * @param firstAvailable the first sequence number the subscription can deliver
   * @param reason one sentence
   */
  record Gap(long requestedSince, long firstAvailable, String reason) implements Item {}

  /**
   * Sent once after the replay (right away without one): what follows is live.
   *
   * @param replayedThrough the last sequence number the replay covered
   */
  record Live(long replayedThrough) implements Item {}

  /**
   * The last item of a subscription that fell too far behind.
   *
   * @param lastSeq the last sequence number delivered before the cut (resume after it)
   * @param reason one sentence, for the reader
   */
  record CutOff(long lastSeq, String reason) implements Item {}
}
