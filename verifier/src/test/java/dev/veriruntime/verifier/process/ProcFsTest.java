package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ProcFs over a fake /proc tree: error translation and the by-path fallback for mapped files. */
class ProcFsTest {
  @TempDir Path root;

  @Test
  void withoutMapFilesAMappedFileIsOpenedByPathOnlyIfItIsStillTheMappedInode() throws Exception {
    Files.createDirectories(root.resolve("proc/42"));
    ProcFs procFs = new ProcFs(root.resolve("proc"));
    Path lib = Files.write(root.resolve("lib.so"), new byte[] {1, 2, 3});
    Map<String, Object> a = Files.readAttributes(lib, "unix:dev,ino");
    long dev = FileIdentity.fromStat((Long) a.get("dev"), 0, 0, 0).dev();
    long ino = (Long) a.get("ino");
    String line =
        String.format(
            "1000-2000 r-xp 00000000 %02x:%02x %d %s", dev >>> 20, dev & 0xfffff, ino, lib);
    MemoryMapping same = ProcMaps.parseLine(line).orElseThrow();

    try (ProcFs.MappedFile f = procFs.openMapped(42, same)) {
      assertThat(f.statPath()).isEqualTo(lib);
      assertThat(f.channel().size()).isEqualTo(3);
    }

    MemoryMapping other =
        ProcMaps.parseLine(line.replace(" " + ino + " ", " " + (ino + 1) + " ")).orElseThrow();
    assertThatThrownBy(() -> procFs.openMapped(42, other))
        .isInstanceOf(MappedFileUnavailableException.class)
        .hasMessageContaining("is now inode " + ino)
        .hasMessageContaining("not the mapped inode " + (ino + 1));

    MemoryMapping deleted = ProcMaps.parseLine(line + " (deleted)").orElseThrow();
    assertThatThrownBy(() -> procFs.openMapped(42, deleted))
        .isInstanceOf(MappedFileUnavailableException.class)
        .hasMessageContaining("has no path to fall back to");
  }

  @Test
  void missingProcessesAreGoneAndFilesAreReadToTheirEnd() throws Exception {
    Path dir = Files.createDirectories(root.resolve("proc/7"));
    Files.writeString(dir.resolve("environ"), "A=1\0LD_PRELOAD=/x.so /y.so\0A=2\0broken\0");
    Files.writeString(
        dir.resolve("stat"), "7 (my proc) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0");
    Files.createDirectories(root.resolve("proc/8"));
    ProcFs procFs = new ProcFs(root.resolve("proc"));

    assertThat(procFs.pids()).containsExactly(7, 8);
    assertThat(procFs.environ(7))
        .containsEntry("A", "1")
        .containsEntry("LD_PRELOAD", "/x.so /y.so")
        .hasSize(2);
    assertThat(procFs.startTicks(7)).isEqualTo(555);
    assertThat(procFs.startTicksIfRunning(7)).hasValue(555);
    assertThat(procFs.startTicksIfRunning(9)).isEmpty();
    assertThatThrownBy(() -> procFs.maps(9))
        .isInstanceOf(ProcessGoneException.class)
        .hasMessageContaining("9")
        .satisfies(gone -> assertThat(gone.getStackTrace()).as("an expected end").isEmpty());
    assertThat(procFs.exeLink(8)).isEmpty(); // no exe link: a kernel thread
  }

  @Test
  void aFileIsReadWholeWhateverItsSizeAndAMissingOneIsNoSuchFile() throws Exception {
    byte[] big = new byte[5000]; // past the first buffer and its first doubling
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    for (int size : new int[] {0, 1, 1023, 1024, 1025, 2048, big.length}) {
      Path f = Files.write(root.resolve("f" + size), java.util.Arrays.copyOf(big, size));
      assertThat(ProcFs.read(f)).as("%d bytes", size).isEqualTo(java.util.Arrays.copyOf(big, size));
    }
    assertThatThrownBy(() -> ProcFs.read(root.resolve("none")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class);
  }

  @Test
  void aProcessStillRunsUntilItIsAZombieOrItsPidNamesAnotherProcess() throws Exception {
    Path dir = Files.createDirectories(root.resolve("proc/7"));
    ProcFs procFs = new ProcFs(root.resolve("proc"));
    Files.writeString(
        dir.resolve("stat"), "7 (a) b) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0\n");
    assertThat(procFs.stillRuns(7, 555)).isTrue();
    assertThat(procFs.stillRuns(7, 556)).isFalse(); // the pid was reused
    assertThat(procFs.stillRuns(9, 555)).isFalse(); // gone
    Files.writeString(
        dir.resolve("stat"), "7 (a) b) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0\n");
    assertThat(procFs.stillRuns(7, 555)).isFalse();
  }
}
