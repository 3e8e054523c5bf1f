package dev.veriruntime.ingest.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads map elements through {@code bpf_map_lookup_elem}. Stateless and thread-safe; the map file
 * descriptors stay owned by their {@link BpfObject}.
 */
public final class BpfMaps {
  private static final Path POSSIBLE_CPUS = Path.of("/sys/devices/system/cpu/possible");
  private static volatile int possibleCpus;

  private BpfMaps() {}

  /**
   * Per-CPU values of a {@code BPF_MAP_TYPE_PERCPU_ARRAY} of {@code __u64}: one per possible CPU
   * (not online CPU: the kernel returns a slot for every possible one, 8 bytes each).
   *
   * @throws BpfException when the lookup fails (e.g. ENOENT for a key beyond max_entries)
   */
  public static long[] lookupPerCpuLongs(int mapFd, int key) {
    int cpus = possibleCpus();
    byte[] keyBytes = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(key).array();
    byte[] value = new byte[8 * cpus];
    NativeLibraries libs = NativeLibraries.get();
    int result = libs.bpf.bpf_map_lookup_elem(mapFd, keyBytes, value);
    if (result != 0) {
      int errno = result < -1 ? -result : libs.lastErrno();
      throw new BpfException("cannot read per-CPU map element " + key + ": " + Errno.describe(errno), errno);
    }
    long[] values = new long[cpus];
    ByteBuffer buffer = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
    for (int cpu = 0; cpu < cpus; cpu++) {
      values[cpu] = buffer.getLong(cpu * 8);
    }
    return values;
  }

  /** Sum over CPUs of {@link #lookupPerCpuLongs(int, int)}. */
  public static long sumPerCpuLongs(int mapFd, int key) {
    long sum = 0;
    for (long value : lookupPerCpuLongs(mapFd, key)) {
      sum += value;
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
