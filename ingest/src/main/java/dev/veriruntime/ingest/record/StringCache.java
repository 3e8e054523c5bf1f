package dev.veriruntime.ingest.record;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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

  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  private record Entry(byte[] bytes, String value) {}

  private final Entry[] slots = new Entry[SLOTS];

  /** The UTF-8 string of {@code length} bytes at index {@code start} of {@code bytes}. */
  String get(byte[] bytes, int start, int length) {
    if (length == 0) {
      return "";
    }
    if (length > MAX_CACHED) {
      return new String(bytes, start, length, StandardCharsets.UTF_8);
    }
    int slot = hash(bytes, start, length) & (SLOTS - 1);
    Entry entry = slots[slot];
    if (entry != null && matches(entry.bytes, bytes, start, length)) {
      return entry.value;
    }
    byte[] copy = new byte[length];
    System.arraycopy(bytes, start, copy, 0, length);
    String value = new String(copy, StandardCharsets.UTF_8);
    slots[slot] = new Entry(copy, value);
    return value;
  }

  private static int hash(byte[] bytes, int start, int length) {
    long h = length;
    int i = 0;
    for (; i + Long.BYTES <= length; i += Long.BYTES) {
      h = (h ^ (long) LONG.get(bytes, start + i)) * 0x9E3779B97F4A7C15L;
    }
    if (i < length) {
      h = (h ^ tail(bytes, start + i, length - i)) * 0x9E3779B97F4A7C15L;
    }
    return (int) (h ^ (h >>> 29) ^ (h >>> 41));
  }

  /** The last {@code n} (1..7) bytes as one little-endian number. */
  private static long tail(byte[] bytes, int start, int n) {
    long v = 0;
    for (int k = n - 1; k >= 0; k--) {
      v = (v << 8) | (bytes[start + k] & 0xFF);
    }
    return v;
  }

  private static boolean matches(byte[] cached, byte[] bytes, int start, int length) {
    if (cached.length != length) {
      return false;
    }
    int i = 0;
    for (; i + Long.BYTES <= length; i += Long.BYTES) {
      if ((long) LONG.get(cached, i) != (long) LONG.get(bytes, start + i)) {
        return false;
      }
    }
    for (; i < length; i++) {
      if (cached[i] != bytes[start + i]) {
        return false;
      }
    }
    return true;
  }
}
