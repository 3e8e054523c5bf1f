package dev.veriruntime.ingest.kernel;

import com.kenai.jffi.MemoryIO;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * A consumer of one {@code BPF_MAP_TYPE_RINGBUF} map that maps the ring into the process and reads
 * records in Java, as libbpf's {@code ring_buffer__consume} does in C, without a native call per
 * record: only waiting ({@code epoll_wait}) goes through native code.
 *
 * <p>The kernel's mmap layout (stable ABI, {@code kernel/bpf/ringbuf.c}): at offset 0 of the map,
 * one read-write page holding {@code consumer_pos}; at offset one page, read-only, one page holding
 * {@code producer_pos}, then the data area of {@code max_entries} bytes, which the kernel offers
 * twice in a row so that a record wrapping around the end is contiguous. This consumer maps it once
 * and copies a wrapping record in two pieces: every mapped page counts in the agent's resident
 * memory, a second mapping of the same pages too (8 MiB of RSS for nothing with the default ring).
 * Each record has an 8-byte header (a {@code u32} length carrying the busy and discard bits, and a
 * page offset) followed by the sample, and takes {@code round_up(length + 8, 8)} bytes. A record
 * whose busy bit is set is reserved but not committed yet, and everything after it waits for it.
 *
 * <p>Record memory: the handler gets a copy of the sample in a Java buffer. That buffer (and the
 * {@link ByteBuffer} object itself) is reused for the next record, so a handler must decode (or
 * copy) inside {@code onRecord} and never keep the buffer nor change its byte order. Copying keeps
 * the mapped memory out of the handler's reach, so a handler can never read it after {@link #close}
 * unmapped it.
 *
 * <p>Flow control: a handler returns {@code false} to stop consuming right after the current record
 * (which counts as consumed); the remaining records stay in the kernel ring, which keeps filling
 * and, when full, makes the probe count losses instead. {@code consumer_pos} advances after every
 * record, so the producer can reuse its space at once.
 *
 * <p>Thread safety: confined to one thread (the one that calls {@link #poll}, {@link #consume} and
 * {@link #close}); the handler runs on that thread. {@link #release} alone may come from any
 * thread: it ends the wait in progress and every later one (the owner is stopping), so the owner
 * can wait long without a timeout deciding how soon it stops.
 */
public final class BpfRingBuffer implements AutoCloseable {

  /** Receives one record; valid only during the call. Return false to stop after this record. */
  @FunctionalInterface
  public interface RecordHandler {
    boolean onRecord(ByteBuffer record);
  }

  /** Waits for the producer's wake-up; the native one is an epoll instance on the map. */
  interface Wakeup {
    /**
     * Whether the ring signalled data within the timeout, or the wait was released (false on
     * timeout or a signal).
     */
    boolean await(int timeoutMillis);

    /**
     * Ends the wait in progress and every later one at once; from any thread; after close, none.
     */
    void release();

    /** Releases the wait and the ring's mappings. */
    void close();
  }

  static final int BUSY_BIT = 1 << 31;
  static final int DISCARD_BIT = 1 << 30;
  static final int HEADER_SIZE = 8;
  private static final int BPF_MAP_TYPE_RINGBUF = 27;

  // The kernel writes positions and headers in native order; the records' contents are
  // little-endian (WireFormat).
  private static final VarHandle POSITION =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final VarHandle HEADER =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private final ByteBuffer consumerPage;
  private final ByteBuffer producerPage;
  private final ByteBuffer data;
  private final long mask;
  private final RecordHandler handler;
  private final Wakeup wakeup;
  private boolean closed;
  private byte[] scratch = new byte[1024];
  // One view of scratch for every record (re-limited per record): no buffer allocated per record.
  private ByteBuffer view = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);

  /**
   * Maps the ring of a loaded ring-buffer map and registers it with a new epoll instance.
   *
   * @param mapFd descriptor of a loaded ring-buffer map (still owned by its {@link BpfObject})
   * @throws BpfException when the map is not a ring buffer or cannot be mapped
   */
  public BpfRingBuffer(int mapFd, RecordHandler handler) {
    this(NativeRing.open(mapFd), handler);
  }

  private BpfRingBuffer(NativeRing ring, RecordHandler handler) {
    this(ring.consumerPage, ring.producerPage, ring.data, handler, ring);
  }

  /**
   * A consumer over a ring laid out in buffers (tests): {@code consumerPage} and {@code
   * producerPage} hold the positions at index 0; {@code data} is the data area once, its capacity
   * the ring size (a power of two).
   */
  BpfRingBuffer(
      ByteBuffer consumerPage,
      ByteBuffer producerPage,
      ByteBuffer data,
      RecordHandler handler,
      Wakeup wakeup) {
    int size = data.capacity();
    if (size <= 0 || Integer.bitCount(size) != 1) {
      throw new IllegalArgumentException("ring data area is not a power of two: " + size);
    }
    this.consumerPage = consumerPage;
    this.producerPage = producerPage;
    this.data = data;
    this.mask = size - 1;
    this.handler = handler;
    this.wakeup = wakeup;
  }

  /**
   * Waits up to {@code timeoutMillis} for the producer's wake-up, then handles every available
   * record (or until the handler asks to stop). Returns the number of records handed to the
   * handler; 0 on timeout or when interrupted by a signal. Records committed without a wake-up are
   * left for {@link #consume}.
   *
   * @throws BpfException when waiting fails; rethrows what the handler threw
   */
  public int poll(int timeoutMillis) {
    requireOpen();
    return wakeup.await(timeoutMillis) ? drain() : 0;
  }

  /**
   * Handles every available record without waiting; same contract as {@link #poll(int)}.
   *
   * @throws RuntimeException what the handler threw (the record it got counts as consumed)
   */
  public int consume() {
    requireOpen();
    return drain();
  }

  // libbpf's ringbuf_process_ring: hand every committed record in order, publishing consumer_pos
  // after each one, until the producer position is reached (re-read once drained) or a record is
  // still busy.
  private int drain() {
    long consumed = (long) POSITION.getAcquire(consumerPage, 0);
    int handled = 0;
    boolean progressed = true;
    while (progressed) {
      progressed = false;
      long produced = (long) POSITION.getAcquire(producerPage, 0);
      while (consumed < produced) {
        int offset = (int) (consumed & mask);
        int header = (int) HEADER.getAcquire(data, offset);
        if ((header & BUSY_BIT) != 0) {
          return handled;
        }
        int length = header & ~(BUSY_BIT | DISCARD_BIT);
        consumed += (length + HEADER_SIZE + 7L) & ~7L;
        progressed = true;
        try {
          if ((header & DISCARD_BIT) == 0) {
            handled++;
            if (!handler.onRecord(copy((int) ((offset + HEADER_SIZE) & mask), length))) {
              return handled;
            }
          }
        } finally {
          POSITION.setRelease(consumerPage, 0, consumed);
        }
      }
    }
    return handled;
  }

  private ByteBuffer copy(int offset, int length) {
    if (scratch.length < length) {
      scratch = new byte[Math.max(length, scratch.length * 2)];
      view = ByteBuffer.wrap(scratch).order(ByteOrder.LITTLE_ENDIAN);
    }
    // A header never crosses the end (records are 8-byte aligned in a power-of-two area); the
    // sample after it may, and then continues at the start of the area.
    int first = (int) Math.min(length, mask + 1 - offset);
    data.get(offset, scratch, 0, first);
    if (first < length) {
      data.get(0, scratch, first, length - first);
    }
    ByteBuffer record = view;
    record.clear().limit(length);
    return record;
  }

  /**
   * Ends the {@link #poll} in progress, if any, and makes every later one return without waiting
   * (it still takes the records there are): for a reader that is stopping. Any thread; nothing once
   * closed.
   */
  public void release() {
    wakeup.release();
  }

  /** Unmaps the ring; the map itself stays owned by its object. Idempotent. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      wakeup.close();
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("ring buffer is closed");
    }
  }

  /** The kernel's mappings of one ring-buffer map and an epoll instance waiting on it. */
  private static final class NativeRing implements Wakeup {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final long MAP_FAILED = -1;
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLLIN = 1;
    private static final int EINTR = 4;
    // struct epoll_event: 12 bytes (packed) on x86_64, 16 elsewhere; events (u32) come first.
    private static final int EPOLL_EVENT_SIZE = 16;

    private final NativeLibraries libs;
    private final int pageSize;
    private final long producerLength;
    private long consumerAddress = MAP_FAILED;
    private long producerAddress = MAP_FAILED;
    private int epollFd = -1;
    // Written once by release and never read: readable from then on, it ends every wait (guarded
    // by this, so a release never writes to a descriptor number close has given back).
    private int releaseFd = -1;
    private Pointer events;
    private ByteBuffer consumerPage;
    private ByteBuffer producerPage;
    private ByteBuffer data;

    private NativeRing(NativeLibraries libs, int pageSize, long producerLength) {
      this.libs = libs;
      this.pageSize = pageSize;
      this.producerLength = producerLength;
    }

    static NativeRing open(int mapFd) {
      NativeLibraries libs = NativeLibraries.get();
      int size = ringSize(libs, mapFd);
      int pageSize = libs.libc.getpagesize();
      // One Java buffer must reach the data area (the kernel's second copy of it is not mapped).
      if (size > 1 << 30) {
        throw new BpfException(
            "ring buffer of " + size + " bytes is too large to map (at most 1 GiB)", 0);
      }
      NativeRing ring = new NativeRing(libs, pageSize, pageSize + (long) size);
      try {
        ring.consumerAddress =
            ring.map(pageSize, PROT_READ | PROT_WRITE, mapFd, 0, "consumer position");
        ring.producerAddress =
            ring.map(ring.producerLength, PROT_READ, mapFd, pageSize, "producer position and data");
        MemoryIO memory = MemoryIO.getInstance();
        ring.consumerPage = memory.newDirectByteBuffer(ring.consumerAddress, pageSize);
        ring.producerPage = memory.newDirectByteBuffer(ring.producerAddress, pageSize);
        ring.data = memory.newDirectByteBuffer(ring.producerAddress + pageSize, size);
        ring.epollFd = libs.libc.epoll_create1(EPOLL_CLOEXEC);
        if (ring.epollFd < 0) {
          throw failure("cannot create an epoll instance for the ring buffer", libs.lastErrno());
        }
        ring.events = Memory.allocateDirect(libs.runtime, EPOLL_EVENT_SIZE, true);
        ring.events.putInt(0, EPOLLIN);
        if (libs.libc.epoll_ctl(ring.epollFd, EPOLL_CTL_ADD, mapFd, ring.events) != 0) {
          throw failure("cannot wait on the ring buffer (map fd " + mapFd + ")", libs.lastErrno());
        }
        ring.releaseFd = libs.libc.eventfd(0, EFD_CLOEXEC);
        if (ring.releaseFd < 0
            || libs.libc.epoll_ctl(ring.epollFd, EPOLL_CTL_ADD, ring.releaseFd, ring.events) != 0) {
          throw failure("cannot set up the ring buffer's release", libs.lastErrno());
        }
        return ring;
      } catch (RuntimeException e) {
        ring.close();
        throw e;
      }
    }

    // struct bpf_map_info: type@0, id@4, key_size@8, value_size@12, max_entries@16 (all u32).
    private static int ringSize(NativeLibraries libs, int mapFd) {
      byte[] info = new byte[40];
      int[] length = {info.length};
      int result = libs.bpf.bpf_obj_get_info_by_fd(mapFd, info, length);
      if (result != 0) {
        int errno = Math.abs(result);
        throw failure("cannot read info of ring buffer map (fd " + mapFd + ")", errno);
      }
      ByteBuffer buffer = ByteBuffer.wrap(info).order(ByteOrder.nativeOrder());
      int type = buffer.getInt(0);
      int size = buffer.getInt(16);
      if (type != BPF_MAP_TYPE_RINGBUF) {
        throw new BpfException("map fd " + mapFd + " is not a ring buffer (type " + type + ")", 0);
      }
      if (size <= 0 || Integer.bitCount(size) != 1) {
        throw new BpfException("ring buffer size " + size + " is not a power of two", 0);
      }
      return size;
    }

    private long map(long length, int protection, int fd, long offset, String what) {
      long address = libs.libc.mmap(null, length, protection, MAP_SHARED, fd, offset);
      if (address == MAP_FAILED) {
        throw failure("cannot map the ring buffer's " + what, libs.lastErrno());
      }
      return address;
    }

    private static BpfException failure(String message, int errno) {
      return new BpfException(message + ": " + Errno.describe(errno), errno);
    }

    @Override
    public boolean await(int timeoutMillis) {
      int ready = libs.libc.epoll_wait(epollFd, events, 1, timeoutMillis);
      if (ready < 0) {
        int errno = libs.lastErrno();
        if (errno == EINTR) {
          return false;
        }
        throw failure("waiting on the ring buffer failed", errno);
      }
      return ready > 0;
    }

    @Override
    public synchronized void release() {
      if (releaseFd >= 0) {
        libs.libc.eventfd_write(releaseFd, 1);
      }
    }

    @Override
    public synchronized void close() {
      if (releaseFd >= 0) {
        libs.libc.close(releaseFd);
        releaseFd = -1;
      }
      consumerPage = null;
      producerPage = null;
      data = null;
      if (epollFd >= 0) {
        libs.libc.close(epollFd);
        epollFd = -1;
      }
      if (producerAddress != MAP_FAILED) {
        libs.libc.munmap(producerAddress, producerLength);
        producerAddress = MAP_FAILED;
      }
      if (consumerAddress != MAP_FAILED) {
        libs.libc.munmap(consumerAddress, pageSize);
        consumerAddress = MAP_FAILED;
      }
    }
  }
}
