package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.testing.ScenarioPrograms;
import dev.veriruntime.verifier.testing.TempDirs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs the scenario programs ({@link ScenarioPrograms} builds them from
 * src/test/resources/scenarios) until they print their "ready" line.
 */
final class TestPrograms {
  private static Path dir;

  private TestPrograms() {}

  /** gcc's path, or null when it is not on PATH. */
  static String gcc() {
    return ScenarioPrograms.gcc().map(Path::toString).orElse(null);
  }

  /** A temporary directory for files a test derives from the programs; removed at exit. */
  static synchronized Path dir() throws IOException {
    if (dir == null) {
      dir = TempDirs.create("veriruntime-process-test");
    }
    return dir;
  }

  /** The executable built from scenarios/{@code name}.c. */
  static Path executable(String name) throws IOException {
    return ScenarioPrograms.executable(name);
  }

  /** The shared library {@code libNAME.so} built from scenarios/{@code name}.c. */
  static Path library(String name) throws IOException {
    return ScenarioPrograms.library(name);
  }

  /** Starts {@code command}, waits for its "ready ..." line, and kills it on close. */
  static Running start(Map<String, String> env, String... command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().putAll(env);
    Process p = pb.start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    ExecutorService reader = Executors.newSingleThreadExecutor();
    try {
      Future<String> line = reader.submit(out::readLine);
      String ready = line.get(10, TimeUnit.SECONDS);
      if (ready == null || !ready.startsWith("ready ")) {
        p.destroyForcibly();
        throw new IOException("test program " + command[0] + " did not start: " + ready);
      }
      return new Running(p, ready.split(" "), out);
    } catch (Exception e) {
      p.destroyForcibly();
      throw e instanceof IOException io
          ? io
          : new IOException("test program " + command[0] + " did not start", e);
    } finally {
      reader.shutdownNow();
    }
  }

  static Running start(String... command) throws IOException {
    return start(Map.of(), command);
  }

  /** A started test program; close kills it and waits for it. */
  record Running(Process process, String[] readyLine, BufferedReader out) implements AutoCloseable {
    int pid() {
      return (int) process.pid();
    }

    /** The next line the program prints, waiting at most 10 seconds. */
    String nextLine() throws Exception {
      ExecutorService reader = Executors.newSingleThreadExecutor();
      try {
        return reader.submit(out::readLine).get(10, TimeUnit.SECONDS);
      } finally {
        reader.shutdownNow();
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static void uncheckedDelete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
