package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StringCacheTest {
  private final StringCache cache = new StringCache();

  @Test
  void bytesSeenBeforeGiveTheSameStringInstance() {
    byte[] first = bytes("/usr/lib/x86_64-linux-gnu/libc.so.6");
    byte[] second = bytes("/usr/lib/x86_64-linux-gnu/libc.so.6");

    String a = cache.get(first, 0, first.length);
    String b = cache.get(second, 0, second.length);

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
      byte[] buffer = new byte[bytes.length + 16];
      random.nextBytes(buffer); // whatever lies around the string must not matter
      System.arraycopy(bytes, 0, buffer, offset, bytes.length);

      assertThat(cache.get(buffer, offset, bytes.length))
          .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  @Test
  void theEmptyStringNeedsNoBytes() {
    assertThat(cache.get(new byte[0], 0, 0)).isEmpty();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
