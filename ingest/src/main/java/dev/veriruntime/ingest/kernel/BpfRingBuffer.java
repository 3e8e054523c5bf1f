package dev.veriruntime.ingest.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.Pointer;

/**
 * A consumer of one {@code BPF_MAP_TYPE_RINGBUF} map ({@code struct ring_buffer}).
 *
 * <p>Record memory: libbpf hands each record as a pointer into the shared ring, valid only while
 * the callback runs. This class copies it into a Java buffer before calling the {@link
 * RecordHandler}; that buffer (and the {@link ByteBuffer} object itself) is reused for the next
 * record, so a handler must decode (or copy) inside {@code onRecord} and never keep the buffer nor
 * change its byte order.
 *
 * <p>Flow control: a handler returns {@code false} to stop consuming right after the current record
 * (which counts as consumed); the remaining records stay in the kernel ring, which keeps filling
 * and, when full, makes the probe count losses instead.
 *
 * <p>Thread safety: confined to one thread (the one that calls {@link #poll}, {@link #consume} and
 * {@link #close}); the handler runs on that thread.
 */
public final class BpfRingBuffer implements AutoCloseable {

  /** Receives one record; valid only during the call. Return false to stop after this record. */
  @FunctionalInterface
  public interface RecordHandler {
    boolean onRecord(ByteBuffer record);
  }

  private final NativeLibraries libs;
  private final RecordHandler handler;
  // Strong reference: libbpf calls through the native stub of this object until ring_buffer__free.
  private final LibBpf.SampleCallback callback;
  private Pointer ring;
  private byte[] scratch = new byte[1024];
  // One view of scratch for every record (re-limited per record): no buffer allocated per record.
  private ByteBuffer view = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);
  private int handled;
  private boolean stopped;
  private RuntimeException handlerFailure;

  /**
   * @param mapFd descriptor of a loaded ring-buffer map (still owned by its {@link BpfObject})
   * @throws BpfException when libbpf cannot map the ring
   */
  public BpfRingBuffer(int mapFd, RecordHandler handler) {
    this.libs = NativeLibraries.get();
    this.handler = handler;
    this.callback = this::onSample;
    Pointer created = libs.bpf.ring_buffer__new(mapFd, callback, null, null);
    if (created == null || created.address() == 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot open ring buffer (map fd " + mapFd + "): " + Errno.describe(errno), errno);
    }
    this.ring = created;
  }

  private int onSample(Pointer ctx, Pointer data, long size) {
    try {
      int length = (int) size;
      if (scratch.length < length) {
        scratch = new byte[Math.max(length, scratch.length * 2)];
        view = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);
      }
      data.get(0, scratch, 0, length);
      ByteBuffer record = view;
      record.clear().limit(length);
      handled++;
      if (!handler.onRecord(record)) {
        stopped = true;
        return -1;
      }
      return 0;
    } catch (RuntimeException | Error e) {
      // Never unwind through libbpf: remember, stop this round, rethrow from poll/consume.
      handlerFailure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
      stopped = true;
      return -1;
    }
  }

  /**
   * Waits up to {@code timeoutMillis} for records, then handles every available one (or until the
   * handler asks to stop). Returns the number of records handed to the handler; 0 on timeout or
   * when interrupted by a signal.
   *
   * @throws BpfException on a ring-buffer error; rethrows what the handler threw
   */
  public int poll(int timeoutMillis) {
    requireOpen();
    return finish(libs.bpf.ring_buffer__poll(ring, timeoutMillis), "poll");
  }

  /** Handles every available record without waiting; same contract as {@link #poll(int)}. */
  public int consume() {
    requireOpen();
    return finish(libs.bpf.ring_buffer__consume(ring), "consume");
  }

  private int finish(int result, String what) {
    int count = handled;
    boolean stoppedByHandler = stopped;
    RuntimeException failure = handlerFailure;
    handled = 0;
    stopped = false;
    handlerFailure = null;
    if (failure != null) {
      throw failure;
    }
    if (result < 0 && !stoppedByHandler && result != -4 /* EINTR */) {
      throw new BpfException(
          "ring buffer " + what + " failed: " + Errno.describe(result), Math.abs(result));
    }
    return count;
  }

  /** Unmaps the ring; the map itself stays owned by its object. Idempotent. */
  @Override
  public void close() {
    if (ring != null) {
      libs.bpf.ring_buffer__free(ring);
      ring = null;
    }
  }

  private void requireOpen() {
    if (ring == null) {
      throw new IllegalStateException("ring buffer is closed");
    }
  }
}
