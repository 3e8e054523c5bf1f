package dev.veriruntime.verifier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Temporary directories that outlive one test (a class's shared work directory, programs compiled
 * once per JVM): removed with everything in them when the JVM exits. {@code File.deleteOnExit}
 * removes only empty directories, so each test run used to leave its directories in /tmp. Shared
 * with other modules' tests through the test-jar.
 */
public final class TempDirs {
  private static final List<Path> CREATED = new ArrayList<>();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(TempDirs::deleteAll, "veriruntime-test-tempdirs"));
  }

  private TempDirs() {}

  /** A new directory in the default temporary directory, removed at exit. */
  public static Path create(String prefix) throws IOException {
    return register(Files.createTempDirectory(prefix));
  }

  /** A new directory in {@code parent}, removed at exit. */
  public static Path create(Path parent, String prefix) throws IOException {
    return register(Files.createTempDirectory(parent, prefix));
  }

  /** Removes {@code root} and everything below it now; nothing when it does not exist. */
  public static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static synchronized Path register(Path dir) {
    CREATED.add(dir);
    return dir;
  }

  private static synchronized void deleteAll() {
    for (Path dir : CREATED) {
      try {
        deleteTree(dir);
      } catch (IOException | UncheckedIOException e) {
        System.err.println("could not remove test directory " + dir + ": " + e.getMessage());
      }
    }
  }
}
