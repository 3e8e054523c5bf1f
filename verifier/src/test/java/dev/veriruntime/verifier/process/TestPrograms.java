package dev.veriruntime.verifier.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Builds the C test programs in src/test/resources/process with gcc, once per JVM, into a temporary
 * directory, and runs them until they print their "ready" line.
 */
final class TestPrograms {
  private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();
  private static Path dir;

  private TestPrograms() {}

  static String gcc() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, "gcc"))) {
        return Path.of(d, "gcc").toString();
      }
    }
    return null;
  }

  static synchronized Path dir() throws IOException {
    if (dir == null) {
      dir = Files.createTempDirectory("veriruntime-process-test");
      dir.toFile().deleteOnExit();
    }
    return dir;
  }

  /** The executable built from {@code name.c}. */
  static Path executable(String name) throws IOException {
    return build(name, name, List.of());
  }

  /** The shared library {@code libNAME.so} built from {@code name.c}. */
  static Path library(String name) throws IOException {
    return build(name, "lib" + name + ".so", List.of("-shared", "-fPIC"));
  }

  private static synchronized Path build(String source, String output, List<String> flags)
      throws IOException {
    Path done = BUILT.get(output);
    if (done != null) {
      return done;
    }
    Path src = dir().resolve(source + ".c");
    try (InputStream in = TestPrograms.class.getResourceAsStream("/process/" + source + ".c")) {
      if (in == null) {
        throw new IOException("missing test resource /process/" + source + ".c");
      }
      Files.copy(in, src, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Path out = dir().resolve(output);
    List<String> cmd = new ArrayList<>(List.of(gcc(), "-O1", "-o", out.toString()));
    cmd.addAll(flags);
    cmd.add(src.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("gcc failed for " + source + ".c: " + log);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    BUILT.put(output, out);
    return out;
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
      return new Running(p, ready.split(" "));
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
  record Running(Process process, String[] readyLine) implements AutoCloseable {
    int pid() {
      return (int) process.pid();
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
