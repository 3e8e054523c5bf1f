package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.verifier.testing.Prerequisites;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe object packaged in the jar passes this kernel's verifier with every program: loaded
 * (not attached) with bpftool, pinned under a fresh /sys/fs/bpf directory that is removed again.
 * Needs root and BPF, and bpftool (which CI installs; elsewhere the test skips without it, saying
 * so); the jnr-ffi loader has its own attach tests.
 */
class ProbeObjectLoadIT {
  private static final List<String> PROGRAMS =
      List.of(
          "vr_exec",
          "vr_exit",
          "vr_fork",
          "vr_sys_enter",
          "vr_sys_exit",
          "vr_tp_sys_enter",
          "vr_tp_sys_exit");

  @Test
  void everyProgramPassesTheVerifier(@TempDir Path temp) throws Exception {
    KernelTests.assumeKernel();
    Optional<Path> installed =
        Stream.of("/usr/sbin/bpftool", "/sbin/bpftool", "/usr/bin/bpftool")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst();
    Prerequisites.require(
        "bpftool",
        installed.isPresent()
            ? Optional.empty()
            : Optional.of("bpftool is not installed (apt-get install bpftool)"));
    Path bpftool = installed.orElseThrow();
    Path object = temp.resolve("veriruntime.bpf.o");
    try (InputStream in = WireFormat.class.getResourceAsStream(WireFormat.PROBE_OBJECT_RESOURCE)) {
      Files.write(object, Objects.requireNonNull(in, "probe object resource").readAllBytes());
    }
    Path pins = Path.of("/sys/fs/bpf", "veriruntime-test-" + UUID.randomUUID());
    try {
      Process load =
          new ProcessBuilder(
                  bpftool.toString(), "prog", "loadall", object.toString(), pins.toString())
              .redirectErrorStream(true)
              .start();
      String log = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(load.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(load.exitValue()).as("bpftool prog loadall:%n%s", tail(log)).isZero();
      try (Stream<Path> pinned = Files.list(pins)) {
        assertThat(pinned.map(p -> p.getFileName().toString()))
            .containsExactlyInAnyOrderElementsOf(PROGRAMS);
      }
    } finally {
      removePins(pins);
    }
  }

  private static void removePins(Path pins) throws IOException {
    if (Files.isDirectory(pins)) {
      try (Stream<Path> pinned = Files.list(pins)) {
        for (Path p : (Iterable<Path>) pinned::iterator) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(pins);
    }
  }

  private static String tail(String log) {
    return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
  }
}
