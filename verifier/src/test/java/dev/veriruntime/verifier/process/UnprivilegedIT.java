package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel really refusing access: VerifyProcess run as user nobody (setpriv) against a root
 * process is DEGRADED, every scope NOT_VERIFIED with the refusal as its reason, never VERIFIED.
 */
class UnprivilegedIT {
  @TempDir Path dir;

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv needed");
  }

  @Test
  void refusedReadsMakeEveryScopeNotVerifiedAndTheVerdictDegraded() throws Exception {
    String classpath = worldReadableClasspath();
    try (TestPrograms.Running p = TestPrograms.start(TestPrograms.executable("spin").toString())) {
      Process nobody =
          new ProcessBuilder(
                  "/usr/bin/setpriv",
                  "--reuid=65534",
                  "--regid=65534",
                  "--clear-groups",
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  classpath,
                  UnprivilegedVerification.class.getName(),
                  Integer.toString(p.pid()))
              .redirectErrorStream(true)
              .start();
      String out = new String(nobody.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(nobody.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(nobody.exitValue()).as(out).isZero();

      assertThat(out).contains("verdict DEGRADED");
      assertThat(out.lines().filter(l -> l.startsWith("scope ")))
          .hasSize(6)
          .allSatisfy(
              l -> {
                assertThat(l).contains(" NOT_VERIFIED ").contains("refused");
              });
      assertThat(out).contains("finding READ_REFUSED");
    }
  }

  /**
   * Copies this JVM's class path where user nobody can read it (root's Maven repository is
   * private).
   */
  private String worldReadableClasspath() throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path src = Path.of(e);
      if (!Files.exists(src)) {
        continue;
      }
      Path dst = dir.resolve(i++ + "-" + src.getFileName());
      if (Files.isDirectory(src)) {
        try (Stream<Path> files = Files.walk(src)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            Path target = dst.resolve(src.relativize(f).toString());
            if (Files.isDirectory(f)) {
              Files.createDirectories(target);
            } else {
              Files.copy(f, target);
            }
          }
        }
      } else {
        Files.copy(src, dst);
      }
      entries.add(dst.toString());
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path f : (Iterable<Path>) all::iterator) {
        Files.setPosixFilePermissions(
            f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
