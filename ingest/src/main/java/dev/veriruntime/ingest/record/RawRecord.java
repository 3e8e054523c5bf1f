package dev.veriruntime.ingest.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A view of one raw record: typed reads at offsets relative to the record start, in native byte
 * order. Stays inside this package: nothing outside ingest sees raw records, only the domain events
 * {@link RecordDecoder} builds from them.
 *
 * <p>Reads go straight to the bytes of a heap array through native-order {@link VarHandle} views
 * (the ring-buffer reader hands records in such an array, so nothing is copied on the way). The
 * decoder checks the record's length against its kind's struct size before it makes a view, and
 * every offset it reads is a constant of {@link WireFormat} checked against the probe's BTF, so a
 * read needs no check of its own beyond the array's bounds; strings come from a {@link
 * StringCache}, so a path or command name seen before costs no allocation.
 */
final class RawRecord {
  private static final VarHandle SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.nativeOrder());
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  private final byte[] bytes;
  private final int base;
  private final StringCache strings;

  /** The record at {@code bytes[base..]}, already checked to hold its kind's whole struct. */
  RawRecord(byte[] bytes, int base, StringCache strings) {
    this.bytes = bytes;
    this.base = base;
    this.strings = strings;
  }

  static int u16(byte[] bytes, int at) {
    return (short) SHORT.get(bytes, at) & 0xFFFF;
  }

  static int s32(byte[] bytes, int at) {
    return (int) INT.get(bytes, at);
  }

  int u16(int offset) {
    return u16(bytes, base + offset);
  }

  int s32(int offset) {
    return (int) INT.get(bytes, base + offset);
  }

  long s64(int offset) {
    return (long) LONG.get(bytes, base + offset);
  }

  /** A NUL-terminated string in a fixed array of {@code capacity} bytes (a missing NUL ends it). */
  String cString(int offset, int capacity) {
    int start = base + offset;
    int length = 0;
    // Eight bytes at a time while they hold no NUL (the command name is 16 bytes).
    while (length + Long.BYTES <= capacity
        && !hasZeroByte((long) LONG.get(bytes, start + length))) {
      length += Long.BYTES;
    }
    while (length < capacity && bytes[start + length] != 0) {
      length++;
    }
    return strings.get(bytes, start, length);
  }

  private static boolean hasZeroByte(long v) {
    return ((v - 0x0101010101010101L) & ~v & 0x8080808080808080L) != 0;
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
    return strings.get(bytes, base + offset, length);
  }
}
