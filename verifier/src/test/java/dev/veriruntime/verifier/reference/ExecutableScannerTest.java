package dev.veriruntime.verifier.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scanner without a command line: what counts as an executable, how roots are resolved, and how
 * progress is reported. {@code refs baseline} (cli) covers package checks and unreadable files.
 */
class ExecutableScannerTest {
  private static final Path TRUE = Path.of("/usr/bin/true");

  @TempDir Path dir;

  /** A clock that moves one second each time it is read, so every report is due. */
  private static final class SteppingClock extends Clock {
    private long millis = 1_000_000;

    @Override
    public synchronized long millis() {
      millis += 1000;
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  private Path tree() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("tree/bin"));
    Files.copy(TRUE, bin.resolve("true"));
    Files.writeString(bin.resolve("run.sh"), "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(
        bin.resolve("run.sh"), PosixFilePermissions.fromString("rwxr--r--"));
    Files.writeString(bin.resolve("idle.sh"), "#!/bin/sh\nexit 0\n"); // no execute bit
    Files.writeString(bin.resolve("notes.txt"), "not code\n");
    return dir.resolve("tree");
  }

  @Test
  void includesElfFilesAndExecutableScriptsOnly() throws Exception {
    Path tree = tree();
    ExecutableScanner.Result r =
        new ExecutableScanner(PackageDatabase.empty(), 2, Clock.systemUTC())
            .scan(List.of(tree.toRealPath()));
    assertThat(r.included())
        .extracting(ManifestBuilder.Entry::name)
        .containsExactly(
            tree.toRealPath().resolve("bin/run.sh").toString(),
            tree.toRealPath().resolve("bin/true").toString());
    assertThat(r.elfFiles()).isEqualTo(1);
    assertThat(r.scripts()).isEqualTo(1);
    assertThat(r.filesScanned()).isEqualTo(4);
    assertThat(r.bytesHashed())
        .isEqualTo(Files.size(TRUE) + Files.size(tree.resolve("bin/run.sh")));
    assertThat(r.unreadable()).isEmpty();
    assertThat(r.malformed()).isEmpty();
  }

  @Test
  void rootsThatRepeatNestOrAreMissingAreDropped() throws Exception {
    Path tree = tree();
    Files.createSymbolicLink(dir.resolve("alias"), tree);
    ExecutableScanner.Roots roots =
        ExecutableScanner.resolveRoots(
            List.of(tree.resolve("bin"), dir.resolve("alias"), tree, dir.resolve("nope")));
    assertThat(roots.roots()).containsExactly(tree.toRealPath());
    assertThat(roots.missing()).containsExactly(dir.resolve("nope"));
  }

  @Test
  void reportsProgressWhileListingThenWhileHashingUpToTheLastFile() throws Exception {
    Path tree = tree();
    List<ExecutableScanner.Progress> seen = new ArrayList<>();
    ExecutableScanner scanner =
        new ExecutableScanner(PackageDatabase.empty(), 1, new SteppingClock());
    ExecutableScanner.Result r =
        scanner.scan(List.of(tree.toRealPath()), Duration.ofSeconds(1), seen::add);

    List<ExecutableScanner.Progress> listing = seen.stream().filter(p -> p.total() < 0).toList();
    List<ExecutableScanner.Progress> hashing = seen.stream().filter(p -> p.total() >= 0).toList();
    assertThat(listing)
        .extracting(ExecutableScanner.Progress::listed)
        .containsExactly(1L, 2L, 3L, 4L);
    assertThat(hashing)
        .extracting(ExecutableScanner.Progress::done)
        .containsExactly(1L, 2L, 3L, 4L);
    assertThat(hashing).allSatisfy(p -> assertThat(p.total()).isEqualTo(4));
    assertThat(hashing.get(3).bytes()).isEqualTo(r.bytesHashed());
    assertThat(seen)
        .extracting(ExecutableScanner.Progress::elapsed)
        .isSortedAccordingTo(Duration::compareTo);
    assertThatThrownBy(() -> scanner.scan(List.of(tree.toRealPath())))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void reportsNoMoreOftenThanTheInterval() throws Exception {
    Path tree = tree();
    List<ExecutableScanner.Progress> seen = new ArrayList<>();
    // The clock moves 1 s a read; with a 1 h interval no report is ever due.
    new ExecutableScanner(PackageDatabase.empty(), 1, new SteppingClock())
        .scan(List.of(tree.toRealPath()), Duration.ofHours(1), seen::add);
    assertThat(seen).isEmpty();
  }
}
