package dev.veriruntime.ingest.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A bounds-checked view of one raw record: typed reads at offsets relative to the record start. It
 * never moves the buffer's position or limit. Stays inside this package: nothing outside ingest
 * sees raw records, only the domain events {@link RecordDecoder} builds from them.
 *
 * <p>Reads go through native-order {@link VarHandle} views of the caller's buffer, whatever that
 * buffer's own byte order, so a view costs no duplicate buffer; strings come from a {@link
 * StringCache}, so a path or command name seen before costs no allocation.
 */
final class RawRecord {
  private static final VarHandle SHORT =
      MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.nativeOrder());
  private static final VarHandle INT =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
  private static final VarHandle LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

  private final ByteBuffer buffer;
  private final int base;
  private final int size;
  private final StringCache strings;

  private RawRecord(ByteBuffer buffer, int base, int size, StringCache strings) {
    this.buffer = buffer;
    this.base = base;
    this.size = size;
    this.strings = strings;
  }

  /** A view of {@code size} bytes starting at the buffer's position, read in native byte order. */
  static RawRecord of(ByteBuffer source, int size, StringCache strings) {
    return new RawRecord(source, source.position(), size, strings);
  }

  int size() {
    return size;
  }

  /** The same bytes, viewed as a record of {@code newSize} bytes (no copy, no new buffer). */
  RawRecord resize(int newSize) {
    return new RawRecord(buffer, base, newSize, strings);
  }

  int u16(int offset) throws MalformedRecordException {
    check(offset, 2);
    return (short) SHORT.get(buffer, base + offset) & 0xFFFF;
  }

  int s32(int offset) throws MalformedRecordException {
    check(offset, 4);
    return (int) INT.get(buffer, base + offset);
  }

  long s64(int offset) throws MalformedRecordException {
    check(offset, 8);
    return (long) LONG.get(buffer, base + offset);
  }

  /** A NUL-terminated string in a fixed array of {@code capacity} bytes (a missing NUL ends it). */
  String cString(int offset, int capacity) throws MalformedRecordException {
    check(offset, capacity);
    int start = base + offset;
    int length = 0;
    while (length < capacity && buffer.get(start + length) != 0) {
      length++;
    }
    return strings.get(buffer, start, length);
  }

  /**
   * A string whose length the kernel stored next to it: {@code length} must leave room for the NUL
   * the kernel writes, otherwise the record is malformed.
   */
  String sizedString(int offset, int length, int capacity, String field)
      throws MalformedRecordException {
    if (length >= capacity) {
      throw new MalformedRecordException(
          field + " length " + length + " does not fit its " + capacity + "-byte field");
    }
    check(offset, capacity);
    return strings.get(buffer, base + offset, length);
  }

  private void check(int offset, int length) throws MalformedRecordException {
    if (offset < 0 || length < 0 || offset > size - length) {
      throw new MalformedRecordException(
          "field at " + offset + "+" + length + " lies outside the " + size + "-byte record");
    }
  }
}
