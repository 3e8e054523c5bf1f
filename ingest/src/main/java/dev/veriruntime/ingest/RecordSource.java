package dev.veriruntime.ingest;

import dev.veriruntime.ingest.kernel.BpfRingBuffer.RecordHandler;

/**
 * Where a {@link RingBufferReader} gets raw records and loss totals: the kernel ring of a {@link
 * Probe}, or a fake in tests. Package-private seam so the reader's flow control is testable without
 * a kernel.
 */
interface RecordSource {

  /** A consumer of records, confined to the reader thread. */
  interface Stream extends AutoCloseable {
    /**
     * Waits up to the timeout, then hands available records to the handler until it returns false.
     */
    int poll(int timeoutMillis);

    /** Hands available records without waiting. */
    int consume();

    /**
     * Ends the poll in progress and makes every later one return without waiting (the reader is
     * stopping); from any thread, also after close.
     */
    void release();

    @Override
    void close();
  }

  Stream open(RecordHandler handler);

  /**
   * Records dropped by the producer since the previous call (since load for the first call), per
   * counter key, so every loss is reported once across successive readers.
   */
  long[] claimLost();

  /** Registers a reader; fails when the source is closed or already has an active reader. */
  void register(RingBufferReader<?> reader);

  void unregister(RingBufferReader<?> reader);

  String name();
}
