package dev.veriruntime.ingest.record;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** Reads the captured raw records under {@code src/test/resources/.../record/fixtures}. */
final class Fixtures {
  private static final Map<String, byte[]> CACHE = new ConcurrentHashMap<>();

  private Fixtures() {}

  /** A fresh copy of the fixture's bytes: callers may modify it. */
  static byte[] bytes(String name) {
    return CACHE.computeIfAbsent(name, Fixtures::read).clone();
  }

  private static byte[] read(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("fixtures/" + name)) {
      return Objects.requireNonNull(in, "fixture " + name).readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ByteBuffer buffer(String name) {
    return ByteBuffer.wrap(bytes(name));
  }
}
