package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcScannerTest {

  @Test
  void convertsGlibcDevToKernelEncoding() {
    // 254:0 (dm-0): glibc 0xfe00, kernel 254 << 20.
    assertThat(ProcScanner.kernelDev(0xfe00L)).isEqualTo(254L << 20);
    // 8:1 (sda1)
    assertThat(ProcScanner.kernelDev(0x0801L)).isEqualTo((8L << 20) | 1);
    // 259:65536 exercises the high minor bits: glibc puts minor bits 8-19 at 20-31.
    long glibc = ((259L & 0xfff) << 8) | (65536L & 0xff) | ((65536L & ~0xffL) << 12);
    assertThat(ProcScanner.kernelDev(glibc)).isEqualTo((259L << 20) | 65536);
  }

  @Test
  void findsThisJvmWithTheIdentityOfItsExecutable() throws Exception {
    ProcScanner.Scan scan = new ProcScanner().scan();
    long self = ProcessHandle.current().pid();
    ProcScanner.ProcessSnapshot me = scan.processes().stream().filter(p -> p.pid() == self).findFirst().orElseThrow();
    Path exe = Path.of(me.exe());
    assertThat(exe).isEqualTo(Path.of("/proc/self/exe").toRealPath());
    assertThat(me.deleted()).isFalse();
    assertThat(me.ppid()).isEqualTo(ProcessHandle.current().parent().orElseThrow().pid());
    assertThat(me.inode()).isEqualTo(Files.getAttribute(exe, "unix:ino"));
    assertThat(me.size()).isEqualTo(Files.size(exe));
    assertThat(me.dev()).isEqualTo(ProcScanner.kernelDev((Long) Files.getAttribute(exe, "unix:dev")));
    assertThat(me.startTimeTicks()).isPositive();
    assertThat(scan.processes()).extracting(ProcScanner.ProcessSnapshot::pid).isSorted();
  }

  @Test
  void countsVanishedAndKernelThreadEntriesInsteadOfFailing(@TempDir Path fakeProc) throws Exception {
    // 10: a live-looking process whose exe link points at a real file.
    Path p10 = Files.createDirectories(fakeProc.resolve("10"));
    Files.writeString(p10.resolve("stat"), "10 (a b) c) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0");
    Path target = Files.writeString(fakeProc.resolve("binary"), "ELF");
    Files.createSymbolicLink(p10.resolve("exe"), target);
    // 11: a kernel thread: stat but a dangling exe link.
    Path p11 = Files.createDirectories(fakeProc.resolve("11"));
    Files.writeString(p11.resolve("stat"), "11 (kworker/0:1) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0");
    // 12: vanished between listing and reading: no stat file.
    Files.createDirectories(fakeProc.resolve("12"));
    Files.createDirectories(fakeProc.resolve("self"));

    ProcScanner.Scan scan = new ProcScanner(fakeProc).scan();
    assertThat(scan.processes()).singleElement().satisfies(p -> {
      assertThat(p.pid()).isEqualTo(10);
      assertThat(p.ppid()).isEqualTo(1);
      assertThat(p.exe()).isEqualTo(target.toString());
      assertThat(p.startTimeTicks()).isEqualTo(4242);
      assertThat(p.size()).isEqualTo(3);
    });
    assertThat(List.of(scan.kernelThreads(), scan.vanished())).containsExactly(1, 1);
  }
}
