package dev.veriruntime.agent;

import dev.veriruntime.verifier.process.SupersededFiles;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The previous versions of upgraded package files that processes may still run: {@link
 * PackageRevalidation} adds a file when a reload changed its record, the path no longer holds it,
 * and it had been verified (DISK_HASH) before. Bounded: beyond {@code capacity} files nothing more
 * is added, and processes running further ones are reported as replaced, as without this set.
 * Thread-safe.
 */
public final class PreviousPackageVersions implements SupersededFiles {
  private final Set<String> files = ConcurrentHashMap.newKeySet();
  private final int capacity;

  public PreviousPackageVersions(int capacity) {
    this.capacity = capacity;
  }

  /** Returns false when the set is full. */
  public boolean add(String path, String sha256) {
    if (files.size() >= capacity) {
      return false;
    }
    files.add(key(path, sha256));
    return true;
  }

  @Override
  public boolean contains(String path, String sha256) {
    return files.contains(key(path, sha256));
  }

  public int size() {
    return files.size();
  }

  private static String key(String path, String sha256) {
    return path + '\0' + sha256;
  }
}
