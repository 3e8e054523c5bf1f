package dev.veriruntime.ingest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks, without loading anything, whether this host can run the probe: effective root (or the
 * capabilities CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE... see docs/operations.md) and kernel BTF.
 * Used by the command line to fail with one clear line, and by tests to skip with a reason.
 */
public final class KernelSupport {
  static final Path BTF = Path.of("/sys/kernel/btf/vmlinux");

  private KernelSupport() {}

  /** Empty when the probe can be loaded here; otherwise the reason it cannot. */
  public static Optional<String> unavailableReason() {
    if (!"Linux".equals(System.getProperty("os.name"))) {
      return Optional.of("the probe needs Linux; this is " + System.getProperty("os.name"));
    }
    if (!Files.isReadable(BTF)) {
      return Optional.of(
          "kernel BTF is missing ("
              + BTF
              + " not readable): a kernel with CONFIG_DEBUG_INFO_BTF=y is required");
    }
    if (!hasBpfPrivilege()) {
      return Optional.of(
          "loading the probe needs root or CAP_BPF+CAP_PERFMON (effective capabilities lack them)");
    }
    return Optional.empty();
  }

  /**
   * Reads CapEff from /proc/self/status: CAP_SYS_ADMIN (21) or both CAP_BPF (39) and CAP_PERFMON
   * (38).
   */
  static boolean hasBpfPrivilege() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
          boolean sysAdmin = (caps & (1L << 21)) != 0;
          boolean bpfAndPerfmon = (caps & (1L << 39)) != 0 && (caps & (1L << 38)) != 0;
          return sysAdmin || bpfAndPerfmon;
        }
      }
    } catch (Exception e) {
      return false;
    }
    return false;
  }
}
