package dev.veriruntime.ingest.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds (with gcc) and runs the exec test driver and child from src/test/resources/.../exec, so
 * exec counts come from outside the probe. The child gets a unique name so its events can be told
 * apart from the machine's other activity.
 */
public final class ExecDriver {
  public final Path driver;
  public final Path child;

  private ExecDriver(Path driver, Path child) {
    this.driver = driver;
    this.child = child;
  }

  public static ExecDriver build(Path dir) throws IOException, InterruptedException {
    Path driver = compile(dir, "exec/exec_driver.c", "exec_driver");
    Path child = compile(dir, "exec/exec_child.c", "vrtc" + ProcessHandle.current().pid());
    return new ExecDriver(driver, child);
  }

  /**
   * Compiles the C source {@code resource} (relative to this package's test resources) into {@code
   * dir}/{@code name} with gcc.
   */
  public static Path compile(Path dir, String resource, String name)
      throws IOException, InterruptedException {
    Path c = dir.resolve(Path.of(resource).getFileName().toString());
    try (InputStream in = ExecDriver.class.getResourceAsStream(resource)) {
      Files.copy(in, c);
    }
    Path out = dir.resolve(name);
    Process gcc =
        new ProcessBuilder("gcc", "-O2", "-o", out.toString(), c.toString())
            .redirectErrorStream(true)
            .start();
    String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (gcc.waitFor() != 0) {
      throw new IOException("gcc failed for " + resource + ": " + log);
    }
    return out;
  }

  /**
   * Result of a driver run: child pids (count mode only) and how many execs succeeded or failed.
   */
  public record Run(List<Long> childPids, long succeeded, long failed) {}

  public Run count(int n) throws IOException, InterruptedException {
    return run(List.of(driver.toString(), "count", child.toString(), Integer.toString(n)), 120);
  }

  public Run storm(int seconds, int workers) throws IOException, InterruptedException {
    return run(
        List.of(
            driver.toString(),
            "storm",
            child.toString(),
            Integer.toString(seconds),
            Integer.toString(workers)),
        seconds + 60);
  }

  private static Run run(List<String> command, int timeoutSeconds)
      throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<String> lines =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
            .lines()
            .toList();
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException("driver failed: " + command);
    }
    List<Long> pids = new ArrayList<>();
    for (String line : lines) {
      if (line.startsWith("done ")) {
        String[] parts = line.split(" ");
        return new Run(pids, Long.parseLong(parts[1]), Long.parseLong(parts[2]));
      }
      pids.add(Long.parseLong(line.trim()));
    }
    throw new IOException("driver printed no summary: " + lines);
  }
}
