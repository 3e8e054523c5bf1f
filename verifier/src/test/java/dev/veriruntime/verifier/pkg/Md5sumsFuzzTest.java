package dev.veriruntime.verifier.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Jazzer target for the dpkg {@code md5sums} reader of {@link PackageDatabase}: a package's
 * maintainer (or whoever built the .deb) writes that file, so any bytes must load; a malformed line
 * is skipped, never recorded with a checksum that cannot match (which would make a good file look
 * tampered), and no exception escapes {@link PackageDatabase#load} but the declared {@link
 * IOException} of an unreadable directory. The input is written as the one {@code *.md5sums} file
 * of an otherwise empty info directory. Bounded per input by {@link InputBudget}.
 *
 * <p>Seeds in {@code Md5sumsFuzzTestInputs/}: md5sums files of this host's packages and every crash
 * found.
 */
class Md5sumsFuzzTest {
  private static final Path INFO = infoDir();
  private static final Path LIST = INFO.resolve("fuzzed:amd64.md5sums");

  @FuzzTest(maxDuration = "5m")
  void loadMd5sums(byte[] input) throws IOException {
    Files.write(LIST, input);
    InputBudget.of(input.length).run(() -> check(PackageDatabase.load(INFO)));
  }

  private static void check(PackageDatabase db) {
    // A file that is not valid UTF-8 is unreadable (counted), not half-read.
    assertThat(db.unreadableFiles()).isBetween(0, 1);
    for (PackageDatabase.PackageFile f : db.filesOf(name -> true)) {
      assertThat(f.packageName()).isEqualTo("fuzzed");
      assertThat(f.md5()).matches("[0-9a-fA-F]{32}");
      assertThat(f.path()).startsWith("/").hasSizeGreaterThan(1);
      assertThat(db.lookup(f.path())).isPresent();
    }
  }

  private static Path infoDir() {
    try {
      Path shm = Path.of("/dev/shm");
      Path dir =
          Files.isDirectory(shm) && Files.isWritable(shm)
              ? Files.createTempDirectory(shm, "md5sums-fuzz-")
              : Files.createTempDirectory("md5sums-fuzz-");
      dir.toFile().deleteOnExit();
      dir.resolve("fuzzed:amd64.md5sums").toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
