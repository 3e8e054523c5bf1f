package dev.veriruntime.verifier.hash;

import java.lang.reflect.Field;
import java.nio.MappedByteBuffer;

/**
 * Releases a file mapping at once instead of when its buffer is garbage collected: a mapped chunk
 * that has been hashed would otherwise stay in the process's resident memory until a collection,
 * and an agent hashing large files would show hundreds of MiB of it. Uses {@code
 * sun.misc.Unsafe#invokeCleaner} (module {@code jdk.unsupported}, what Lucene and Netty use for the
 * same purpose); where that is not available the buffer is left to the collector.
 *
 * <p>The caller must not touch the buffer, or any view of it, after {@link #unmap}.
 */
final class Unmapper {
  private static final sun.misc.Unsafe UNSAFE = unsafe();

  private Unmapper() {}

  static void unmap(MappedByteBuffer buffer) {
    if (UNSAFE != null) {
      UNSAFE.invokeCleaner(buffer);
    }
  }

  /** Whether mappings are released at once here (false: left to the garbage collector). */
  static boolean available() {
    return UNSAFE != null;
  }

  private static sun.misc.Unsafe unsafe() {
    try {
      Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
      f.setAccessible(true);
      return (sun.misc.Unsafe) f.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
