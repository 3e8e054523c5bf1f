package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * VerifyBinary on an already opened file, as process verification needs it: the executable through
 * {@code /proc/PID/exe} and every mapped library through {@code /proc/PID/map_files}.
 *
 * <p>Implementations must be thread-safe and must not close the channel.
 */
@FunctionalInterface
public interface ExecutableVerifier {

  /**
   * @param file the open file (read with positional reads)
   * @param statPath a path whose {@code stat} names the same inode ({@code /proc/PID/exe}...)
   * @param displayPath the path reported, and used to look references up by path
   * @throws IOException if the file cannot be read
   */
  BinaryVerification verify(FileChannel file, Path statPath, String displayPath) throws IOException;

  /** Adapts {@link BinaryVerifier} (VerifyBinary) without an expected identity. */
  static ExecutableVerifier of(BinaryVerifier verifier) {
    Objects.requireNonNull(verifier, "verifier");
    return (file, statPath, displayPath) -> verifier.verify(file, statPath, displayPath, null);
  }

  /** An {@link ExecutableVerifier} that remembers its results; thread-safe. */
  interface Caching extends ExecutableVerifier {
    /** Forgets every remembered result, for example because the package database changed. */
    void clear();
  }

  /**
   * A verifier that remembers up to {@code maxEntries} results by file identity (device, inode,
   * change time, size) and display path, so the libc mapped by every process is hashed once. A file
   * rewritten in place changes its ctime and so misses the cache. Thread-safe.
   */
  static Caching caching(ExecutableVerifier delegate, int maxEntries) {
    record Key(FileIdentity identity, String displayPath) {}
    Map<Key, BinaryVerification> cache =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<Key, BinaryVerification> eldest) {
            return size() > maxEntries;
          }
        };
    return new Caching() {
      @Override
      public BinaryVerification verify(FileChannel file, Path statPath, String displayPath)
          throws IOException {
        Key key = new Key(BinaryVerifier.identity(statPath), displayPath);
        synchronized (cache) {
          BinaryVerification hit = cache.get(key);
          if (hit != null) {
            return hit;
          }
        }
        BinaryVerification fresh = delegate.verify(file, statPath, displayPath);
        if (fresh.identity().equals(key.identity())) {
          synchronized (cache) {
            cache.put(key, fresh);
          }
        }
        return fresh;
      }

      @Override
      public void clear() {
        synchronized (cache) {
          cache.clear();
        }
      }
    };
  }
}
