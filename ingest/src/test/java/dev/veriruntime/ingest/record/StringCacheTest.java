package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StringCacheTest {
  private final StringCache cache = new StringCache();

  @Test
  void bytesSeenBeforeGiveTheSameStringInstance() {
    ByteBuffer first = direct("/usr/lib/x86_64-linux-gnu/libc.so.6");
    ByteBuffer second = direct("/usr/lib/x86_64-linux-gnu/libc.so.6");

    String a = cache.get(first, 0, first.capacity());
    String b = cache.get(second, 0, second.capacity());

    assertThat(a).isEqualTo("/usr/lib/x86_64-linux-gnu/libc.so.6");
    assertThat(b).isSameAs(a);
  }

  @Test
  void aStringIsAlwaysTheUtf8DecodingOfItsBytesWhateverTheBufferAndCollisions() {
    SplittableRandom random = new SplittableRandom(17);
    // More distinct strings than slots, with repeats, so that slots collide and get replaced.
    byte[][] pool = new byte[3 * StringCache.SLOTS][];
    for (int i = 0; i < pool.length; i++) {
      int length = 1 + random.nextInt(StringCache.MAX_CACHED + 40);
      byte[] bytes = new byte[length];
      for (int j = 0; j < length; j++) {
        bytes[j] = (byte) random.nextInt(256); // invalid UTF-8 included: becomes U+FFFD
      }
      pool[i] = bytes;
    }
    for (int round = 0; round < 20_000; round++) {
      byte[] bytes = pool[random.nextInt(pool.length)];
      int offset = random.nextInt(9);
      ByteBuffer buffer =
          random.nextBoolean()
              ? ByteBuffer.allocateDirect(bytes.length + 16)
              : ByteBuffer.wrap(new byte[bytes.length + 32], 5, bytes.length + 16).slice();
      buffer.order(random.nextBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      buffer.put(offset, bytes);

      assertThat(cache.get(buffer, offset, bytes.length))
          .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  @Test
  void theEmptyStringNeedsNoBytes() {
    assertThat(cache.get(ByteBuffer.allocate(0), 0, 0)).isEmpty();
  }

  private static ByteBuffer direct(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocateDirect(bytes.length).put(0, bytes);
  }
}
