package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

class ProcScannerTest {

  @Test
  void findsThisJvmWithTheIdentityOfItsExecutable() throws Exception {
    ProcScanner.Scan scan = new ProcScanner().scan();
    long self = ProcessHandle.current().pid();
    ScannedProcess me =
        scan.processes().stream().filter(p -> p.pid() == self).findFirst().orElseThrow();
    ExecutableFile file = me.executable().orElseThrow();
    Path exe = Path.of(file.path());
    assertThat(exe).isEqualTo(Path.of("/proc/self/exe").toRealPath());
    assertThat(file.deleted()).isFalse();
    assertThat(file.memfd()).isFalse();
    assertThat(file.nlink()).isPositive();
    assertThat(file.filesystemMagic()).isNotZero();
    assertThat(me.ppid()).isEqualTo(ProcessHandle.current().parent().orElseThrow().pid());
    assertThat(me.comm()).isEqualTo("java");
    assertThat(file.identity().inode()).isEqualTo(Files.getAttribute(exe, "unix:ino"));
    assertThat(file.identity().size()).isEqualTo(Files.size(exe));
    assertThat(file.identity().dev())
        .isEqualTo(FileIdentity.kernelDev((Long) Files.getAttribute(exe, "unix:dev")));
    assertThat(file.identity().ctimeNanos())
        .isEqualTo(((FileTime) Files.getAttribute(exe, "unix:ctime")).to(TimeUnit.NANOSECONDS));
    assertThat(scan.processes()).extracting(ScannedProcess::pid).isSorted();
    // pid 2 is kthreadd: a kernel thread, reported without an executable.
    assertThat(scan.processes())
        .filteredOn(p -> p.pid() == 2)
        .singleElement()
        .satisfies(p -> assertThat(p.executable()).isEmpty());
    assertThat(scan.kernelThreads()).isPositive();
  }

  @Test
  void eventsAreColdAndScanOnSubscribe() {
    long self = ProcessHandle.current().pid();
    StepVerifier.create(new ProcScanner().events().filter(p -> p.pid() == self))
        .expectNextCount(1)
        .verifyComplete();
  }

  @Test
  void countsVanishedAndKernelThreadEntriesInsteadOfFailing(@TempDir Path fakeProc)
      throws Exception {
    // 10: a live-looking process whose exe link points at a real file.
    Path p10 = Files.createDirectories(fakeProc.resolve("10"));
    Files.writeString(
        p10.resolve("stat"), "10 (a b) c) S 1 10 10 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0");
    Files.writeString(
        p10.resolve("status"),
        "Name:\ta b) c\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n");
    Path target = Files.writeString(fakeProc.resolve("binary"), "ELF");
    Files.createSymbolicLink(p10.resolve("exe"), target);
    // 11: a kernel thread (child of kthreadd): stat and status but no exe link.
    Path p11 = Files.createDirectories(fakeProc.resolve("11"));
    Files.writeString(
        p11.resolve("stat"), "11 (kworker/0:1) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0");
    Files.writeString(p11.resolve("status"), "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
    // 12: vanished between listing and reading: no stat file.
    Files.createDirectories(fakeProc.resolve("12"));
    Files.createDirectories(fakeProc.resolve("self"));

    ProcScanner.Scan scan = new ProcScanner(fakeProc, path -> 0xEF53).scan();
    assertThat(scan.processes()).extracting(ScannedProcess::pid).containsExactly(10, 11);
    ScannedProcess p = scan.processes().get(0);
    assertThat(p.ppid()).isEqualTo(1);
    assertThat(p.uid()).isEqualTo(1000);
    assertThat(p.gid()).isEqualTo(100);
    assertThat(p.comm()).isEqualTo("a b) c");
    assertThat(p.executable())
        .hasValueSatisfying(
            file -> {
              assertThat(file.path()).isEqualTo(target.toString());
              assertThat(file.identity().size()).isEqualTo(3);
              assertThat(file.filesystemMagic()).isEqualTo(0xEF53);
            });
    assertThat(scan.processes().get(1).executable()).isEmpty();
    assertThat(List.of(scan.kernelThreads(), scan.vanished(), scan.unreadable()))
        .containsExactly(1, 1, 0);
  }

  @Test
  void aProcessWhoseNameIsNotUtf8IsReadNotSkipped(@TempDir Path fakeProc) throws Exception {
    // prctl(PR_SET_NAME) takes any bytes: a name that is no UTF-8 must not hide a process from the
    // scan (a whole-file UTF-8 read of stat failed on it and counted the process unreadable).
    Path p20 = Files.createDirectories(fakeProc.resolve("20"));
    byte[] stat = "20 (x\u00ff) S 7 20 20 0 -1 0 0 0".getBytes(StandardCharsets.ISO_8859_1);
    Files.write(p20.resolve("stat"), stat);
    Files.write(
        p20.resolve("status"),
        "Name:\tx\\377\nUmask:\t0022\nUid:\t5\t5\t5\t5\nGid:\t6\t6\t6\t6\n"
            .getBytes(StandardCharsets.ISO_8859_1));
    Files.createSymbolicLink(p20.resolve("exe"), Files.writeString(fakeProc.resolve("b"), "ELF"));

    ProcScanner.Scan scan = new ProcScanner(fakeProc, path -> 0).scan();
    assertThat(scan.unreadable()).isZero();
    assertThat(scan.processes())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.ppid()).isEqualTo(7);
              assertThat(List.of(p.uid(), p.gid())).containsExactly(5, 6);
              assertThat(p.comm()).startsWith("x").hasSize(2);
            });
  }
}
