package dev.veriruntime.sinks;

/**
 * A snapshot of one sink's counters. All counters are monotonic from the sink's creation, so a
 * reader computes what happened in a window by subtracting two snapshots. At any time {@code
 * accepted = delivered + failed + pending}.
 *
 * @param sink the sink's {@link Sink#name()}
 * @param accepted events taken into the buffer by {@link Sink#emit}
 * @param delivered events the downstream confirmed (written and forced, HTTP 2xx, sent...)
 * @param dropped events refused by {@link Sink#emit} because the buffer was full or the sink closed
 * @param failed accepted events given up on after the sink's own retries
 * @param pending accepted events not yet delivered or failed (queued plus in flight), never above
 *     {@code capacity}
 * @param capacity the bound on {@code pending}
 * @param lastFailure the message of the most recent failure, or {@code null}
 */
public record SinkStats(
    String sink,
    long accepted,
    long delivered,
    long dropped,
    long failed,
    int pending,
    int capacity,
    String lastFailure) {}
