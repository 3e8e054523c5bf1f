package dev.veriruntime.ingest.kernel;

import java.util.Map;

/** Symbolic names for the errno values BPF operations commonly return, for one-line reports. */
public final class Errno {
  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(1, "EPERM"),
          Map.entry(2, "ENOENT"),
          Map.entry(3, "ESRCH"),
          Map.entry(4, "EINTR"),
          Map.entry(7, "E2BIG"),
          Map.entry(9, "EBADF"),
          Map.entry(11, "EAGAIN"),
          Map.entry(12, "ENOMEM"),
          Map.entry(13, "EACCES"),
          Map.entry(14, "EFAULT"),
          Map.entry(16, "EBUSY"),
          Map.entry(17, "EEXIST"),
          Map.entry(19, "ENODEV"),
          Map.entry(22, "EINVAL"),
          Map.entry(24, "EMFILE"),
          Map.entry(28, "ENOSPC"),
          Map.entry(38, "ENOSYS"),
          Map.entry(95, "EOPNOTSUPP"),
          Map.entry(524, "ENOTSUPP"));

  private Errno() {}

  /**
   * "EPERM (Operation not permitted)"; uses libbpf's strerror, which also knows libbpf's own codes.
   */
  public static String describe(int errno) {
    int positive = Math.abs(errno);
    String name = NAMES.getOrDefault(positive, "errno " + positive);
    String text = strerror(positive);
    return text == null || text.isEmpty() ? name : name + " (" + text + ")";
  }

  private static String strerror(int errno) {
    try {
      byte[] buffer = new byte[128];
      NativeLibraries.get().bpf.libbpf_strerror(errno, buffer, buffer.length);
      int end = 0;
      while (end < buffer.length && buffer[end] != 0) {
        end++;
      }
      return new String(buffer, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    } catch (BpfException e) {
      return null;
    }
  }
}
