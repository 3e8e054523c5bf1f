package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.process.MemoryMapping;
import dev.veriruntime.verifier.process.ProcMaps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads a live process's current mappings through the verifier's {@code /proc/PID/maps} parser. */
final class ProcessMappings {
  private ProcessMappings() {}

  /** The mapping of {@code pid} that contains {@code address} now; empty if none or unreadable. */
  static Optional<MemoryMapping> containing(int pid, long address) {
    try {
      String maps = Files.readString(Path.of("/proc/" + pid + "/maps"));
      return ProcMaps.parse(maps).stream().filter(m -> m.contains(address)).findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
