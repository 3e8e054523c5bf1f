package dev.veriruntime.ingest;

import static dev.veriruntime.ingest.testing.HostFiles.exec;
import static dev.veriruntime.ingest.testing.HostFiles.identity;
import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.FileWriteOperation;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.RemoteWriteDone;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.ingest.testing.ExecDriver;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.ingest.testing.RecordedEvents;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * The probe's immediate write signals against the real kernel: another process's /proc/PID/mem
 * opened for writing (an injection record), and writes into a file the agent watches (a file-write
 * record), with the negative cases that keep them quiet. The writers are shells and coreutils, not
 * this JVM, whose own events the probe ignores. Needs root and a BPF-capable kernel.
 */
class WriteWatchIT {
  static final Duration WAIT = Duration.ofSeconds(10);
  @TempDir Path dir;
  Probe probe;
  Disposable reading;
  final RecordedEvents events = new RecordedEvents();

  @BeforeEach
  void load() {
    KernelTests.assumeKernel();
    probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess());
    reading =
        EventSource.live(probe)
            .subscribe(
                e -> {
                  if (e instanceof InjectionEvent
                      || e instanceof RemoteWriteDone
                      || e instanceof FileWriteEvent) {
                    events.accept(e);
                  }
                });
  }

  @AfterEach
  void close() {
    if (reading != null) {
      reading.dispose();
    }
    if (probe != null) {
      probe.close();
    }
  }

  @Test
  void openingAnotherProcesssMemForWritingIsAnInjection() throws Exception {
    Process target = new ProcessBuilder("sleep", "60").start();
    try {
      long pid = target.pid();
      long writer =
          run("exec 3<> /proc/" + pid + "/mem; exec 4<> /proc/" + pid + "/task/" + pid + "/mem");
      long reader = run("exec 3< /proc/" + pid + "/mem");
      long self = run("exec 3<> /proc/self/mem");

      List<InjectionEvent> writes = awaitInjections(e -> e.task().tgid() == writer, 2);
      assertThat(writes)
          .allSatisfy(
              e -> {
                assertThat(e.technique()).isEqualTo(InjectionTechnique.PROC_PID_MEM);
                assertThat(e.targetPid()).isEqualTo(pid);
                assertThat(e.count()).as("thread named by the path").isEqualTo(pid);
                assertThat(e.request() & 3).as("O_RDWR").isEqualTo(2);
                assertThat(e.task().comm()).isEqualTo("sh");
              });
      // One ring, filled in reservation order: once a later marker arrived, so did anything
      // the quiet cases above could have produced.
      long marker = run("exec 3<> /proc/" + pid + "/mem");
      awaitInjections(e -> e.task().tgid() == marker, 1);
      assertThat(injections(e -> e.task().tgid() == reader)).as("read-only open").isEmpty();
      assertThat(injections(e -> e.task().tgid() == self)).as("own memory").isEmpty();
    } finally {
      target.destroyForcibly().waitFor();
    }
  }

  @Test
  void writesThroughAnotherProcesssMemAreReportedWithAddressAndLength() throws Exception {
    Process target = new ProcessBuilder("sleep", "60").start();
    try {
      long pid = target.pid();
      // The lowest bytes of the target's stack: mapped, writable and never used.
      long address = stackStart(pid);
      run(
          "printf xy | dd of=/proc/"
              + pid
              + "/mem bs=2 seek="
              + address
              + " oflag=seek_bytes conv=notrunc status=none");

      List<InjectionEvent> dd =
          awaitInjections(e -> e.task().comm().equals("dd") && e.targetPid() == pid, 2);
      assertThat(dd)
          .extracting(InjectionEvent::technique)
          .containsExactly(InjectionTechnique.PROC_PID_MEM, InjectionTechnique.PROC_PID_MEM_WRITE);
      InjectionEvent write = dd.get(1);
      assertThat(write.address()).isEqualTo(address);
      assertThat(write.count()).as("bytes written").isEqualTo(2);
      assertThat(write.request()).as("syscall: write").isEqualTo(1);
      assertThat(target.isAlive()).isTrue();
    } finally {
      target.destroyForcibly().waitFor();
    }
  }

  @Test
  void aPokeOrProcessVmWritevThatSucceededIsReportedAgainWhenItReturns() throws Exception {
    Path program = ExecDriver.compile(dir, "remote/remote_write.c", "remote-write");
    Process p = new ProcessBuilder(program.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).as(out).isZero();
    long writer = p.pid();
    int child = Integer.parseInt(out.split(" ")[0]);
    long address = Long.parseUnsignedLong(out.split(" ")[1], 16);

    // At entry, every attempt: attach, poke, the failing and the succeeding process_vm_writev.
    assertThat(awaitInjections(e -> e.task().tgid() == writer, 4))
        .extracting(InjectionEvent::technique)
        .containsExactly(
            InjectionTechnique.PTRACE_ATTACH,
            InjectionTechnique.PTRACE_POKEDATA,
            InjectionTechnique.PROCESS_VM_WRITEV,
            InjectionTechnique.PROCESS_VM_WRITEV);
    // At exit, the writes that landed; the last is the last call, so the failed one is in by then.
    List<RemoteWriteDone> done =
        events.await(RemoteWriteDone.class, e -> e.task().tgid() == writer, 2, WAIT);
    assertThat(done).extracting(RemoteWriteDone::targetPid).containsOnly(child);
    assertThat(done.get(0).technique()).isEqualTo(InjectionTechnique.PTRACE_POKEDATA);
    assertThat(done.get(0).address()).isEqualTo(address);
    assertThat(done.get(1).technique()).isEqualTo(InjectionTechnique.PROCESS_VM_WRITEV);
    assertThat(done.get(1).bytes()).as("bytes written").isEqualTo(8);
    assertThat(done.get(1).kernelTimeNanos())
        .as("after the call's entry")
        .isGreaterThan(injections(e -> e.task().tgid() == writer).get(3).kernelTimeNanos());
    assertThat(events.of(RemoteWriteDone.class, e -> e.task().tgid() == writer))
        .as("none for the failed call")
        .hasSize(2);
  }

  private static long stackStart(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/maps")).stream()
        .filter(line -> line.endsWith("[stack]"))
        .map(line -> Long.parseUnsignedLong(line.substring(0, line.indexOf('-')), 16))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void writesIntoAWatchedFileAreReportedAndOthersAreNot() throws Exception {
    Path watched = dir.resolve("watched.so");
    Path other = dir.resolve("other.so");
    Files.writeString(watched, "code");
    Files.writeString(other, "code");
    FileIdentity identity = identity(watched);
    assertThat(probe.watchWrites(identity, 0, EnumSet.of(WatchReason.MAPPED_EXECUTABLE))).isTrue();

    long appender = run("echo x >> " + watched);
    long truncator = run(": > " + watched);
    long coreutils = exec("truncate", "-s", "2", watched.toString());
    long reader = run("cat " + watched + " > /dev/null");
    long unwatched = run("echo x >> " + other);

    FileWriteEvent append = awaitWrites(e -> e.task().tgid() == appender, 1).get(0);
    assertThat(append.operation()).isEqualTo(FileWriteOperation.OPEN_FOR_WRITE);
    assertThat(append.truncated()).isFalse();
    assertThat(append.argument() & 01).as("O_WRONLY").isEqualTo(1);
    assertThat(append.argument() & 02000).as("O_APPEND").isEqualTo(02000);
    assertThat(append.reasons()).containsExactly(WatchReason.MAPPED_EXECUTABLE);
    assertThat(append.file().identity().dev()).isEqualTo(identity.dev());
    assertThat(append.file().identity().inode()).isEqualTo(identity.inode());
    assertThat(append.file().path()).isEqualTo(watched.toString());
    assertThat(append.writerExecutable()).isEqualTo(identity(Path.of("/bin/sh").toRealPath()));
    assertThat(append.fd()).isPositive();

    FileWriteEvent truncate = awaitWrites(e -> e.task().tgid() == truncator, 1).get(0);
    assertThat(truncate.truncated()).isTrue();
    assertThat(truncate.file().identity().size()).as("size after the call").isZero();

    List<FileWriteEvent> byCoreutils = awaitWrites(e -> e.task().tgid() == coreutils, 2);
    assertThat(byCoreutils)
        .extracting(FileWriteEvent::operation)
        .containsExactly(FileWriteOperation.OPEN_FOR_WRITE, FileWriteOperation.FTRUNCATE);
    assertThat(byCoreutils.get(1).argument()).as("new length").isEqualTo(2);
    assertThat(byCoreutils.get(1).writerExecutable())
        .isEqualTo(identity(Path.of("/usr/bin/truncate").toRealPath()));

    assertThat(probe.unwatchWrites(identity)).isTrue();
    assertThat(probe.unwatchWrites(identity)).isFalse();
    long afterUnwatch = run("echo x >> " + watched);
    // A marker write into a file watched from now on proves the ring has caught up.
    assertThat(probe.watchWrites(identity(other), 0, EnumSet.of(WatchReason.VERIFIED))).isTrue();
    long marker = run("echo x >> " + other);
    awaitWrites(e -> e.task().tgid() == marker, 1);
    assertThat(writes(e -> e.task().tgid() == reader)).as("read-only open").isEmpty();
    assertThat(writes(e -> e.task().tgid() == unwatched)).as("unwatched file").isEmpty();
    assertThat(writes(e -> e.task().tgid() == afterUnwatch)).as("after unwatch").isEmpty();
    assertThat(probe.unwatchAllWrites()).isEqualTo(1);
  }

  @Test
  void aWriteIntoAnotherFileWithTheWatchedInodeNumberDropsTheWatchUnreported() throws Exception {
    Path file = dir.resolve("conftest");
    Files.writeString(file, "code");
    FileIdentity identity = identity(file);
    assertThat(probe.watchWrites(identity, 0, EnumSet.of(WatchReason.VERIFIED))).isTrue();
    long learn = run("echo x >> " + file);
    int generation = awaitWrites(e -> e.task().tgid() == learn, 1).get(0).file().generation();
    assertThat(generation).as("ext4 and tmpfs give each inode a generation").isNotZero();

    assertThat(probe.watchWrites(identity, generation, EnumSet.of(WatchReason.VERIFIED))).isTrue();
    long same = run("echo x >> " + file);
    awaitWrites(e -> e.task().tgid() == same, 1);

    // The entry a deleted file left behind, met by the new file that got its inode number (on ext4
    // the next file created; here the generation tells them apart just the same).
    long staleBefore = probe.staleWatches();
    assertThat(probe.watchWrites(identity, generation + 1, EnumSet.of(WatchReason.VERIFIED)))
        .isTrue();
    long other = run("echo x >> " + file);
    long again = run("echo x >> " + file);
    Path marker = dir.resolve("marker");
    Files.writeString(marker, "m");
    assertThat(probe.watchWrites(identity(marker), 0, EnumSet.of(WatchReason.VERIFIED))).isTrue();
    long markerWriter = run("echo x >> " + marker);
    awaitWrites(e -> e.task().tgid() == markerWriter, 1);
    assertThat(writes(e -> e.task().tgid() == other || e.task().tgid() == again)).isEmpty();
    assertThat(probe.staleWatches()).as("dropped once, then unwatched").isEqualTo(staleBefore + 1);
    assertThat(probe.unwatchWrites(identity)).as("the kernel dropped the entry").isFalse();
  }

  /** Runs a shell command line to completion; returns the shell's pid. */
  private static long run(String command) throws Exception {
    return exec("/bin/sh", "-c", command);
  }

  private List<InjectionEvent> injections(Predicate<InjectionEvent> which) {
    return events.of(InjectionEvent.class, which);
  }

  private List<FileWriteEvent> writes(Predicate<FileWriteEvent> which) {
    return events.of(FileWriteEvent.class, which);
  }

  private List<InjectionEvent> awaitInjections(Predicate<InjectionEvent> which, int count)
      throws InterruptedException {
    return events.await(InjectionEvent.class, which, count, WAIT);
  }

  private List<FileWriteEvent> awaitWrites(Predicate<FileWriteEvent> which, int count)
      throws InterruptedException {
    return events.await(FileWriteEvent.class, which, count, WAIT);
  }
}
