package dev.veriruntime.ingest.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The strings of recent records (paths, file names, command names), so that a string seen before is
 * neither copied nor decoded again: on a build server the same few hundred paths and command names
 * come back in every exec and mapping record.
 *
 * <p>Direct-mapped: a slot holds the last string whose bytes hashed to it, and a miss replaces it.
 * Only strings of at most {@link #MAX_CACHED} bytes are kept, so the cache holds at most {@link
 * #SLOTS} × {@value #MAX_CACHED} bytes plus their strings (about 0.5 MiB when full). Thread-safe
 * without locks: slots hold immutable entries, so a racing reader sees either entry, each whole.
 * The string for given bytes is always {@code new String(bytes, UTF_8)}, cached or not.
 */
final class StringCache {
  static final int SLOTS = 1024;
  static final int MAX_CACHED = 192;

  private static final VarHandle BUFFER_LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());
  private static final VarHandle ARRAY_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  private record Entry(byte[] bytes, String value) {}

  private final Entry[] slots = new Entry[SLOTS];

  /** The UTF-8 string of {@code length} bytes at absolute index {@code start} of the buffer. */
  String get(ByteBuffer buffer, int start, int length) {
    if (length == 0) {
      return "";
    }
    if (length > MAX_CACHED) {
      return decode(buffer, start, length);
    }
    int slot = hash(buffer, start, length) & (SLOTS - 1);
    Entry entry = slots[slot];
    if (entry != null && matches(entry.bytes, buffer, start, length)) {
      return entry.value;
    }
    byte[] bytes = new byte[length];
    buffer.get(start, bytes, 0, length);
    String value = new String(bytes, StandardCharsets.UTF_8);
    slots[slot] = new Entry(bytes, value);
    return value;
  }

  private static String decode(ByteBuffer buffer, int start, int length) {
    if (buffer.hasArray()) {
      return new String(
          buffer.array(), buffer.arrayOffset() + start, length, StandardCharsets.UTF_8);
    }
    byte[] bytes = new byte[length];
    buffer.get(start, bytes, 0, length);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static int hash(ByteBuffer buffer, int start, int length) {
    long h = length;
    int i = 0;
    for (; i + Long.BYTES <= length; i += Long.BYTES) {
      h = (h ^ (long) BUFFER_LONG.get(buffer, start + i)) * 0x9E3779B97F4A7C15L;
    }
    for (; i < length; i++) {
      h = (h ^ buffer.get(start + i)) * 0x9E3779B97F4A7C15L;
    }
    return (int) (h ^ (h >>> 29) ^ (h >>> 41));
  }

  private static boolean matches(byte[] bytes, ByteBuffer buffer, int start, int length) {
    if (bytes.length != length) {
      return false;
    }
    int i = 0;
    for (; i + Long.BYTES <= length; i += Long.BYTES) {
      if ((long) ARRAY_LONG.get(bytes, i) != (long) BUFFER_LONG.get(buffer, start + i)) {
        return false;
      }
    }
    for (; i < length; i++) {
      if (bytes[i] != buffer.get(start + i)) {
        return false;
      }
    }
    return true;
  }
}
