package dev.veriruntime.ingest.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes map elements through {@code bpf_map_*_elem}. Stateless and thread-safe; the map
 * file descriptors stay owned by their {@link BpfObject}.
 */
public final class BpfMaps {
  private static final Path POSSIBLE_CPUS = Path.of("/sys/devices/system/cpu/possible");
  private static volatile int possibleCpus;

  private BpfMaps() {}

  /**
   * Per-CPU values of one element of a {@code BPF_MAP_TYPE_PERCPU_ARRAY} (or per-CPU hash) whose
   * value is a struct of {@code __u64} fields: {@code result[cpu][field]}. The kernel returns a
   * slot for every possible CPU (not only online ones), each rounded up to 8 bytes.
   *
   * @param valueLongs number of {@code __u64} fields in the value ({@code value_size / 8})
   * @throws BpfException when the lookup fails (e.g. ENOENT for a key beyond max_entries)
   */
  public static long[][] lookupPerCpu(int mapFd, int key, int valueLongs) {
    int cpus = possibleCpus();
    byte[] keyBytes = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(key).array();
    byte[] value = new byte[8 * valueLongs * cpus];
    NativeLibraries libs = NativeLibraries.get();
    int result = libs.bpf.bpf_map_lookup_elem(mapFd, keyBytes, value);
    if (result != 0) {
      int errno = result < -1 ? -result : libs.lastErrno();
      throw new BpfException(
          "cannot read per-CPU map element " + key + ": " + Errno.describe(errno), errno);
    }
    long[][] values = new long[cpus][valueLongs];
    ByteBuffer buffer = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
    for (int cpu = 0; cpu < cpus; cpu++) {
      for (int field = 0; field < valueLongs; field++) {
        values[cpu][field] = buffer.getLong((cpu * valueLongs + field) * 8);
      }
    }
    return values;
  }

  /**
   * Reads one element of a hash map into {@code value}; returns false when it is not there (then
   * {@code value} holds anything: jnr-ffi copies its uninitialised native buffer back).
   */
  public static boolean lookup(int mapFd, byte[] key, byte[] value) {
    NativeLibraries libs = NativeLibraries.get();
    int result = libs.bpf.bpf_map_lookup_elem(mapFd, key, value);
    if (result != 0) {
      int errno = result < -1 ? -result : libs.lastErrno();
      if (errno == 2 /* ENOENT */) {
        return false;
      }
      throw new BpfException("cannot read map element: " + Errno.describe(errno), errno);
    }
    return true;
  }

  /** Creates or replaces one element of a hash map. */
  public static void update(int mapFd, byte[] key, byte[] value) {
    NativeLibraries libs = NativeLibraries.get();
    check(
        libs,
        libs.bpf.bpf_map_update_elem(mapFd, key, value, 0 /* BPF_ANY */),
        "cannot write map element");
  }

  /** Deletes one element of a hash map; returns false when it was not there. */
  public static boolean delete(int mapFd, byte[] key) {
    NativeLibraries libs = NativeLibraries.get();
    int result = libs.bpf.bpf_map_delete_elem(mapFd, key);
    if (result != 0) {
      int errno = result < -1 ? -result : libs.lastErrno();
      if (errno == 2 /* ENOENT */) {
        return false;
      }
      throw new BpfException("cannot delete map element: " + Errno.describe(errno), errno);
    }
    return true;
  }

  /** Deletes every element of a hash map whose keys are {@code keySize} bytes; returns how many. */
  public static int clear(int mapFd, int keySize) {
    NativeLibraries libs = NativeLibraries.get();
    byte[] key = new byte[keySize];
    int deleted = 0;
    // Always ask for the first key: deleting the current one would make "next of current" restart.
    while (libs.bpf.bpf_map_get_next_key(mapFd, null, key) == 0) {
      check(libs, libs.bpf.bpf_map_delete_elem(mapFd, key), "cannot delete map element");
      deleted++;
    }
    return deleted;
  }

  /** Decides, for one element, whether to delete it. */
  @FunctionalInterface
  public interface ElementVisitor {
    /** Returns true to delete the element. */
    boolean visit(byte[] key, byte[] value);
  }

  /**
   * Visits every element of a hash map once (as far as concurrent kernel updates allow) and deletes
   * those the visitor asks for; returns how many were deleted. An element that vanished between the
   * key walk and its lookup is skipped.
   */
  public static int forEach(int mapFd, int keySize, int valueSize, ElementVisitor visitor) {
    NativeLibraries libs = NativeLibraries.get();
    List<byte[]> keys = new ArrayList<>();
    byte[] previous = null;
    byte[] key = new byte[keySize];
    while (libs.bpf.bpf_map_get_next_key(mapFd, previous, key) == 0) {
      keys.add(key);
      previous = key;
      key = new byte[keySize];
    }
    int deleted = 0;
    byte[] value = new byte[valueSize];
    for (byte[] k : keys) {
      if (libs.bpf.bpf_map_lookup_elem(mapFd, k, value) != 0) {
        continue;
      }
      if (visitor.visit(k, value) && libs.bpf.bpf_map_delete_elem(mapFd, k) == 0) {
        deleted++;
      }
    }
    return deleted;
  }

  private static void check(NativeLibraries libs, int result, String what) {
    if (result != 0) {
      int errno = result < -1 ? -result : libs.lastErrno();
      throw new BpfException(what + ": " + Errno.describe(errno), errno);
    }
  }

  /** Sum over CPUs of one {@code __u64} field of an element, see {@link #lookupPerCpu}. */
  public static long sumPerCpu(int mapFd, int key, int valueLongs, int field) {
    long sum = 0;
    for (long[] cpu : lookupPerCpu(mapFd, key, valueLongs)) {
      sum += cpu[field];
    }
    return sum;
  }

  /** Number of possible CPUs, from {@code /sys/devices/system/cpu/possible}. */
  public static int possibleCpus() {
    int cached = possibleCpus;
    if (cached == 0) {
      try {
        cached = parseCpuList(Files.readString(POSSIBLE_CPUS));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + POSSIBLE_CPUS, e);
      }
      possibleCpus = cached;
    }
    return cached;
  }

  /**
   * Counts CPUs in a kernel cpu list such as {@code 0-3}, {@code 0,2-5} or {@code 0}. The kernel
   * sizes per-CPU values by the highest possible CPU + 1, which for the contiguous lists Linux
   * prints for "possible" equals the count; we return highest + 1 to stay right if it is not.
   */
  static int parseCpuList(String list) {
    int highest = -1;
    for (String part : list.trim().split(",")) {
      if (part.isEmpty()) {
        continue;
      }
      int dash = part.indexOf('-');
      int last = Integer.parseInt(dash < 0 ? part : part.substring(dash + 1));
      highest = Math.max(highest, last);
    }
    if (highest < 0) {
      throw new IllegalArgumentException("empty CPU list: '" + list + "'");
    }
    return highest + 1;
  }
}
