package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.testing.Prerequisites;
import java.util.Optional;

/** Tests that read other processes' memory and map_files need root, and gcc for their programs. */
final class RootTests {
  private RootTests() {}

  static void assumeRoot() {
    Optional<String> missing = Prerequisites.rootMissing();
    if (missing.isEmpty() && TestPrograms.gcc() == null) {
      missing = Optional.of("gcc not found on PATH");
    }
    Prerequisites.require("root and gcc", missing);
  }
}
