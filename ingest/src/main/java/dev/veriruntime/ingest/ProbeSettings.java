package dev.veriruntime.ingest;

import java.util.Map;

/**
 * Load-time settings of a {@link Probe}.
 *
 * @param ignoredTgid process (thread-group) id whose events the probe drops in the kernel: the
 *     agent itself, so its own reads of /proc and files do not feed back; 0 ignores nothing
 * @param ringBufferBytes size of the kernel event ring: a power of two, at least one page (4096)
 * @param constants further {@code const volatile} settings by name, written before load
 * @param rawSyscallHooks attach the syscall programs to the raw syscall tracepoints even when the
 *     per-syscall ones can be used ({@link ProbeSpec.SyscallHooks})
 */
public record ProbeSettings(
    long ignoredTgid, int ringBufferBytes, Map<String, Long> constants, boolean rawSyscallHooks) {
  /** 8 MiB: about 30,000 exec records of ~256 bytes, over a second of a heavy exec storm. */
  public static final int DEFAULT_RING_BUFFER_BYTES = 8 << 20;

  public ProbeSettings {
    if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
      throw new IllegalArgumentException(
          "ring buffer size must be a power of two >= 4096, got " + ringBufferBytes);
    }
    if (ignoredTgid < 0) {
      throw new IllegalArgumentException("ignored tgid must be >= 0, got " + ignoredTgid);
    }
    constants = Map.copyOf(constants);
  }

  /** With the syscall programs on whichever tracepoints cost less. */
  public ProbeSettings(long ignoredTgid, int ringBufferBytes, Map<String, Long> constants) {
    this(ignoredTgid, ringBufferBytes, constants, false);
  }

  /** Ignores this JVM's own process, default ring size, no other settings. */
  public static ProbeSettings forCurrentProcess() {
    return new ProbeSettings(ProcessHandle.current().pid(), DEFAULT_RING_BUFFER_BYTES, Map.of());
  }

  public ProbeSettings withRingBufferBytes(int bytes) {
    return new ProbeSettings(ignoredTgid, bytes, constants, rawSyscallHooks);
  }

  /**
   * With build lineage on ({@code vr_trace_lineage}): processes of executables given to {@code
   * Probe.markToolchain} are marked at exec and their writes reported.
   */
  public ProbeSettings withBuildLineage() {
    Map<String, Long> c = new java.util.HashMap<>(constants);
    c.put(dev.veriruntime.ingest.record.WireFormat.Config.TRACE_LINEAGE_SYMBOL, 1L);
    return new ProbeSettings(ignoredTgid, ringBufferBytes, c, rawSyscallHooks);
  }

  public ProbeSettings withIgnoredTgid(long tgid) {
    return new ProbeSettings(tgid, ringBufferBytes, constants, rawSyscallHooks);
  }

  /** With the syscall programs on the raw syscall tracepoints, whatever the host offers. */
  public ProbeSettings withRawSyscallHooks() {
    return new ProbeSettings(ignoredTgid, ringBufferBytes, constants, true);
  }
}
