package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.testing.KernelTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code watch} refuses what it must not start on before it loads anything: unsafe paths (exit 24)
 * and corrupt policy or reference files (exit 11), each with one line and no stack trace. The
 * policy and references are read once at start (no reload while running), so a corrupt file is met
 * here, at the next start.
 */
class WatchRefusalTest {
  @TempDir Path tmp;

  private Path privateDir(String name) throws Exception {
    return Files.createDirectory(
        tmp.resolve(name),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** The options every run here adds: a private state directory, no API, and a bounded run. */
  private CliRun watch(Path state, String... more) {
    String[] args = new String[more.length + 6];
    args[0] = "watch";
    args[1] = "--state-dir";
    args[2] = state.toString();
    args[3] = "--no-api";
    args[4] = "--duration";
    args[5] = "1s";
    System.arraycopy(more, 0, args, 6, more.length);
    return CliRun.of(args);
  }

  @Test
  void aWorldWritableStateDirectoryIsRefused() throws Exception {
    Path state = privateDir("state");
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
    CliRun run = watch(state).refused(ExitCodes.PATH_REFUSED);
    assertThat(run.err().strip())
        .isEqualTo(
            "veriruntime: refused: "
                + state
                + ": the state directory is writable by others (mode 0777); make it 0700");
  }

  @Test
  void aJournalThatIsASymbolicLinkElsewhereIsRefused() throws Exception {
    Path state = privateDir("state");
    Path elsewhere = privateDir("elsewhere");
    Files.createSymbolicLink(state.resolve("journal"), elsewhere);
    assertThat(watch(state).refused(ExitCodes.PATH_REFUSED).err())
        .contains(state.resolve("journal") + ": is a symbolic link (to " + elsewhere + ")");
  }

  @Test
  void aJournalDirectoryUnderDevIsRefused() throws Exception {
    assertThat(
            watch(privateDir("state"), "--journal", "/dev/shm/veriruntime-journal")
                .refused(ExitCodes.PATH_REFUSED)
                .err())
        .contains("/dev/shm/veriruntime-journal: is under /dev, a kernel file system");
  }

  @Test
  void referencesOrAPolicyInProcOrDevAreRefused() throws Exception {
    Path state = privateDir("state");
    assertThat(watch(state, "--refs", "/dev/zero").refused(ExitCodes.PATH_REFUSED).err())
        .contains("/dev/zero: is under /dev");
    assertThat(watch(state, "--policy", "/proc/self/environ").refused(ExitCodes.PATH_REFUSED).err())
        .contains("/proc/self/environ: is under /proc");
  }

  @Test
  void aSocketWhoseLockIsALinkIsRefused() throws Exception {
    Path run = privateDir("run");
    Files.createSymbolicLink(run.resolve("api.sock.lock"), Path.of("/etc/shadow"));
    CliRun refused =
        CliRun.of(
            "watch",
            "--state-dir",
            privateDir("state").toString(),
            "--socket",
            run.resolve("api.sock").toString(),
            "--duration",
            "1s");
    assertThat(refused.refused(ExitCodes.PATH_REFUSED).err())
        .contains("api.sock.lock: is a symbolic link (to /etc/shadow)");
  }

  @Test
  void aCorruptPolicyIsACleanRefusal() throws Exception {
    Path policy = Files.writeString(tmp.resolve("policy.yaml"), "sinks: {console: [\n\u0000");
    assertThat(
            watch(privateDir("state"), "--policy", policy.toString())
                .refused(ExitCodes.INPUT_MALFORMED)
                .err())
        .contains("policy " + policy + " is not valid");
  }

  @Test
  void corruptReferencesAreACleanRefusal() throws Exception {
    KernelTests.assumeKernel(); // references are read after the kernel check
    Path refs = Files.writeString(tmp.resolve("refs.json"), "{\"payloadType\": \"application/vn");
    watch(privateDir("state"), "--refs", refs.toString()).refused(ExitCodes.INPUT_MALFORMED);
  }
}
