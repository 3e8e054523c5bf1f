package dev.veriruntime.verifier.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds the scenario programs, the small harmless C programs in {@code
 * src/test/resources/scenarios} of the verifier (one folder for every module: this class and the
 * sources travel in the verifier's test-jar), with gcc. No binary is committed. The verifier's
 * process tests, the agent's detection scenarios and the CLI's tests all build through here.
 *
 * <pre>{@code
 * Path rwx = ScenarioPrograms.executable("rwx");             // built once per JVM, shared
 * Path lib = ScenarioPrograms.library("preload");            // libpreload.so
 * Path own = ScenarioPrograms.compile(dir, "rwx", "jit", "-g"); // a distinct file in dir
 * }</pre>
 *
 * <p>Thread-safe. Callers check {@link #gcc()} (or {@link Prerequisites}) first; without gcc every
 * build throws.
 */
public final class ScenarioPrograms {
  /** The class-path folder of the sources. */
  public static final String RESOURCES = "/scenarios/";

  private static final Map<String, Path> SHARED = new ConcurrentHashMap<>();
  private static Path sharedDir;

  private ScenarioPrograms() {}

  /** gcc on PATH, if there is one. */
  public static Optional<Path> gcc() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path gcc = Path.of(d, "gcc");
      if (Files.isExecutable(gcc)) {
        return Optional.of(gcc);
      }
    }
    return Optional.empty();
  }

  /** The executable built from {@code name.c}, once per JVM into a shared temporary directory. */
  public static Path executable(String name) throws IOException {
    return shared(name, name);
  }

  /** The shared library {@code libNAME.so} built from {@code name.c}, once per JVM. */
  public static Path library(String name) throws IOException {
    return shared(name, "lib" + name + ".so", "-shared", "-fPIC");
  }

  private static synchronized Path shared(String source, String output, String... flags)
      throws IOException {
    Path done = SHARED.get(output);
    if (done == null) {
      if (sharedDir == null) {
        sharedDir = TempDirs.create("veriruntime-scenarios");
      }
      done = compile(sharedDir, source, output, flags);
      SHARED.put(output, done);
    }
    return done;
  }

  /**
   * Compiles {@code source.c} into {@code dir/output} with {@code gcc -O1}; {@code flags} follow
   * the source, so libraries ({@code -l}) come after the objects that need them. The source is
   * copied beside the output first, so gcc sees a real file and a debug build names it.
   *
   * @throws IOException when the source is missing, gcc is missing or gcc fails (its output
   *     included)
   */
  public static Path compile(Path dir, String source, String output, String... flags)
      throws IOException {
    Path src = dir.resolve(source + ".c");
    try (InputStream in = ScenarioPrograms.class.getResourceAsStream(RESOURCES + source + ".c")) {
      if (in == null) {
        throw new IOException("no scenario source " + RESOURCES + source + ".c");
      }
      Files.copy(in, src, StandardCopyOption.REPLACE_EXISTING);
    }
    Path out = dir.resolve(output);
    Path gcc = gcc().orElseThrow(() -> new IOException("gcc is not on PATH"));
    List<String> cmd = new ArrayList<>(List.of(gcc.toString(), "-O1", "-o", out.toString()));
    cmd.add(src.toString());
    cmd.addAll(List.of(flags));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (p.waitFor() != 0) {
        throw new IOException("gcc failed for " + source + ".c: " + log);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while compiling " + source + ".c", e);
    }
    return out;
  }
}
