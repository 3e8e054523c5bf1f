package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.process.MemoryMapping;
import dev.veriruntime.verifier.process.ProcFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Reads a live process's current mappings through the verifier's {@code /proc/PID/maps} parser. */
final class ProcessMappings {
  private ProcessMappings() {}

  /**
   * The processes that map {@code file} (device and inode) executable now, in pid order; reads
   * every process's maps, so only for rare events.
   */
  static List<Integer> mapping(dev.veriruntime.verifier.FileIdentity file) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .map(p -> p.getFileName().toString())
          .filter(name -> name.chars().allMatch(Character::isDigit))
          .map(Integer::parseInt)
          .filter(pid -> mapsExecutable(pid, file))
          .sorted()
          .toList();
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  private static boolean mapsExecutable(int pid, dev.veriruntime.verifier.FileIdentity file) {
    try {
      return ProcFs.host().maps(pid).stream()
          .anyMatch(
              m -> m.executable() && m.inode() == file.inode() && m.kernelDev() == file.dev());
    } catch (IOException | RuntimeException e) {
      return false; // gone or unreadable
    }
  }

  /** The mapping of {@code pid} that contains {@code address} now; empty if none or unreadable. */
  static Optional<MemoryMapping> containing(int pid, long address) {
    try {
      return ProcFs.host().maps(pid).stream().filter(m -> m.contains(address)).findFirst();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
