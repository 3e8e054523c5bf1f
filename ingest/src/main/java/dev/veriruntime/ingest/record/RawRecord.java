package dev.veriruntime.ingest.record;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked view of one raw record: typed reads at offsets relative to the record start. It
 * never moves the buffer's position or limit. Stays inside this package: nothing outside ingest
 * sees raw records, only the domain events {@link RecordDecoder} builds from them.
 */
final class RawRecord {
  private final ByteBuffer buffer;
  private final int base;
  private final int size;

  private RawRecord(ByteBuffer buffer, int base, int size) {
    this.buffer = buffer;
    this.base = base;
    this.size = size;
  }

  /** A view of {@code size} bytes starting at the buffer's position, in native byte order. */
  static RawRecord of(ByteBuffer source, int size) {
    // A duplicate so that setting the byte order never changes the caller's buffer.
    ByteBuffer view = source.duplicate().order(ByteOrder.nativeOrder());
    return new RawRecord(view, source.position(), size);
  }

  int size() {
    return size;
  }

  /** The same bytes, viewed as a record of {@code newSize} bytes (no copy, no new buffer). */
  RawRecord resize(int newSize) {
    return new RawRecord(buffer, base, newSize);
  }

  int u16(int offset) throws MalformedRecordException {
    check(offset, 2);
    return buffer.getShort(base + offset) & 0xFFFF;
  }

  int s32(int offset) throws MalformedRecordException {
    check(offset, 4);
    return buffer.getInt(base + offset);
  }

  long s64(int offset) throws MalformedRecordException {
    check(offset, 8);
    return buffer.getLong(base + offset);
  }

  /** A NUL-terminated string in a fixed array of {@code capacity} bytes (a missing NUL ends it). */
  String cString(int offset, int capacity) throws MalformedRecordException {
    check(offset, capacity);
    byte[] bytes = new byte[capacity];
    buffer.get(base + offset, bytes, 0, capacity);
    int length = 0;
    while (length < capacity && bytes[length] != 0) {
      length++;
    }
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
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
    return string(offset, length);
  }

  private String string(int offset, int length) {
    if (length == 0) {
      return "";
    }
    if (buffer.hasArray()) {
      return new String(
          buffer.array(), buffer.arrayOffset() + base + offset, length, StandardCharsets.UTF_8);
    }
    byte[] bytes = new byte[length];
    buffer.get(base + offset, bytes, 0, length);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private void check(int offset, int length) throws MalformedRecordException {
    if (offset < 0 || length < 0 || offset > size - length) {
      throw new MalformedRecordException(
          "field at " + offset + "+" + length + " lies outside the " + size + "-byte record");
    }
  }
}
