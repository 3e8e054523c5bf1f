package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.testing.Prerequisites;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafePathsTest {
  @TempDir Path tmp;

  /** As the owner of the test's files, whoever runs the tests. */
  private SafePaths safe() throws Exception {
    return new SafePaths((Integer) Files.getAttribute(tmp, "unix:uid"));
  }

  private Path privateDir(String name) throws Exception {
    Path d = tmp.resolve(name);
    Files.createDirectory(
        d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    return d;
  }

  @Test
  void aPrivateStateDirectoryWithItsOwnJournalPasses() throws Exception {
    Path state = privateDir("state");
    Files.createDirectory(state.resolve("journal"));
    Files.writeString(state.resolve("journal").resolve("journal-000001.jsonl"), "");
    Files.createDirectory(state.resolve("keys"));
    Files.writeString(state.resolve(RunMarker.FILE), "{}");
    assertThatCode(() -> safe().stateDirectory(state)).doesNotThrowAnyException();
    assertThatCode(() -> safe().stateDirectory(tmp.resolve("not-yet/created")))
        .doesNotThrowAnyException();
  }

  @Test
  void aWorldWritableStateDirectoryIsRefused() throws Exception {
    Path state = privateDir("state");
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertThatThrownBy(() -> safe().stateDirectory(state))
        .isInstanceOf(SafePaths.UnsafePathException.class)
        .hasMessage(
            state + ": the state directory is writable by others (mode 0777); make it 0700");
  }

  @Test
  void aStateDirectoryOwnedByAnotherUserIsRefused() throws Exception {
    Prerequisites.require("root (chown)", Prerequisites.rootMissing());
    Path state = privateDir("state");
    Files.setAttribute(state, "unix:uid", 65534);
    assertThatThrownBy(() -> new SafePaths(0).stateDirectory(state))
        .isInstanceOf(SafePaths.UnsafePathException.class)
        .hasMessageContaining("owned by uid 65534, not by this user (uid 0)");
  }

  @Test
  void aDirectoryAboveWritableByOthersWithoutTheStickyBitIsRefused() throws Exception {
    Path open = privateDir("open");
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path state = open.resolve("state");
    assertThatThrownBy(() -> safe().stateDirectory(state))
        .isInstanceOf(SafePaths.UnsafePathException.class)
        .hasMessageContaining("its directory " + open.toRealPath() + " is writable by others");
    Files.setAttribute(open, "unix:mode", 01777);
    assertThatCode(() -> safe().stateDirectory(state)).doesNotThrowAnyException();
  }

  @Test
  void symbolicLinksInsideTheStateDirectoryAreRefused() throws Exception {
    Path elsewhere = privateDir("elsewhere");
    for (String entry : new String[] {"journal", "keys", RunMarker.FILE}) {
      Path state = privateDir("state-" + entry.replace('.', '-'));
      Files.createSymbolicLink(state.resolve(entry), elsewhere);
      assertThatThrownBy(() -> safe().stateDirectory(state))
          .as(entry)
          .isInstanceOf(SafePaths.UnsafePathException.class)
          .hasMessage(
              state.resolve(entry)
                  + ": is a symbolic link (to "
                  + elsewhere
                  + "); the agent's evidence and keys stay in its own state directory");
    }
    Path state = privateDir("state-head");
    Files.createDirectory(state.resolve("journal"));
    Files.createSymbolicLink(state.resolve("journal/journal.head"), Path.of("/etc/passwd"));
    assertThatThrownBy(() -> safe().stateDirectory(state))
        .hasMessageStartingWith(state.resolve("journal/journal.head") + ": is a symbolic link");
  }

  @Test
  void aStateDirectoryThatIsItselfALinkIsRefused() throws Exception {
    Path real = privateDir("real");
    Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
    assertThatThrownBy(() -> safe().stateDirectory(link))
        .hasMessageStartingWith(link + ": is a symbolic link (to " + real + ")");
  }

  @Test
  void stateOrJournalDirectoriesInKernelFileSystemsAreRefused() throws Exception {
    for (String p : new String[] {"/proc/self/cwd", "/dev/shm/veriruntime", "/sys/fs/x"}) {
      assertThatThrownBy(() -> safe().stateDirectory(Path.of(p)))
          .as(p)
          .isInstanceOf(SafePaths.UnsafePathException.class)
          .hasMessageContaining("a kernel file system, not a place for files");
    }
    // a link that leads there is refused by where it leads
    Path link = Files.createSymbolicLink(tmp.resolve("to-proc"), Path.of("/proc"));
    assertThatThrownBy(() -> safe().stateDirectory(link.resolve("sys/kernel/veriruntime")))
        .hasMessageContaining("is under /proc");
  }

  @Test
  void inputFilesMustBeRegularFilesOutsideKernelFileSystems() throws Exception {
    Path refs = Files.writeString(tmp.resolve("refs.json"), "{}");
    assertThatCode(() -> safe().inputFile(refs)).doesNotThrowAnyException();
    assertThatCode(() -> safe().inputFile(tmp.resolve("missing.json")))
        .as("missing: left to the reader and its exit code")
        .doesNotThrowAnyException();
    Path toZero = Files.createSymbolicLink(tmp.resolve("zero.json"), Path.of("/dev/zero"));
    assertThatThrownBy(() -> safe().inputFile(toZero)).hasMessageContaining("is under /dev");
    assertThatThrownBy(() -> safe().inputFile(Path.of("/proc/self/environ")))
        .hasMessageContaining("is under /proc");
    assertThatThrownBy(() -> safe().inputFile(tmp)).hasMessageEndingWith("is not a regular file");
  }

  @Test
  void aSocketThatIsALinkIsRefused() throws Exception {
    Path run = privateDir("run");
    assertThatCode(() -> safe().socket(run.resolve("api.sock"))).doesNotThrowAnyException();
    Files.createSymbolicLink(run.resolve("api.sock.lock"), Path.of("/etc/shadow"));
    assertThatThrownBy(() -> safe().socket(run.resolve("api.sock")))
        .hasMessage(
            run.resolve("api.sock.lock") + ": is a symbolic link (to /etc/shadow); remove it");
    assertThatThrownBy(() -> safe().socket(Path.of("/dev/shm/api.sock")))
        .hasMessageContaining("is under /dev");
  }
}
