package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.FileWriteOperation;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.MemfdCreateEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Decodes records captured from the real probe (see fixtures/README.md for the run's facts). */
class RecordDecoderFixtureTest {
  private static final int SCENARIO = 18902;
  private static final int TARGET_CHILD = 18906;
  private static final long ROOT_FS = FileIdentity.kernelDev(254, 0);

  private final RecordDecoder decoder = new RecordDecoder();

  private RuntimeEvent decode(String fixture) throws MalformedRecordException {
    return decoder.decode(Fixtures.buffer(fixture));
  }

  @Test
  void execOfARegularFile() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-scenario.bin");

    assertThat(exec.task().pid()).isEqualTo(SCENARIO);
    assertThat(exec.task().tgid()).isEqualTo(SCENARIO);
    assertThat(exec.task().comm()).isEqualTo("vrscenario");
    assertThat(exec.task().cgroupId()).isEqualTo(1);
    assertThat(exec.ppid()).isEqualTo(18901);
    assertThat(exec.oldPid()).isEqualTo(SCENARIO);
    assertThat(exec.filename()).isEqualTo("/tmp/vrscenario");
    assertThat(exec.filenameTruncated()).isFalse();
    assertThat(exec.file().path()).isEqualTo("/tmp/vrscenario");
    assertThat(exec.file().pathTruncated()).isFalse();
    assertThat(exec.file().identity().dev()).isEqualTo(ROOT_FS);
    assertThat(exec.file().identity().major()).isEqualTo(254);
    assertThat(exec.file().identity().inode()).isEqualTo(2146850);
    assertThat(exec.file().identity().size()).isEqualTo(17336);
    assertThat(exec.file().nlink()).isEqualTo(1);
    assertThat(exec.file().mode()).isEqualTo(0100755);
    assertThat(exec.file().filesystemMagic()).isEqualTo(0xEF53); // ext4
    assertThat(exec.file().memfd()).isFalse();
    assertThat(exec.file().deleted()).isFalse();
    assertThat(exec.file().setuid()).isFalse();
    assertThat(exec.kernelTimeNanos()).isEqualTo(5395757243840L);
  }

  @Test
  void execOfASetuidBinaryCarriesTheKernelIdentity() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-setuid-su.bin");

    assertThat(exec.filename()).isEqualTo("/usr/bin/su");
    assertThat(exec.file().path()).isEqualTo("/usr/bin/su");
    assertThat(exec.file().setuid()).isTrue();
    assertThat(exec.file().setgid()).isFalse();
    // Checked against stat(1) on the capturing host; nanoseconds are 0 on that file.
    assertThat(exec.file().identity())
        .isEqualTo(new FileIdentity(ROOT_FS, 260902, 1732219314L * 1_000_000_000L, 72000));
  }

  @Test
  void execOfAMemfdIsFlaggedAndNamed() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-memfd.bin");

    assertThat(exec.ppid()).isEqualTo(SCENARIO);
    assertThat(exec.filename()).isEqualTo("/dev/fd/3");
    assertThat(exec.file().memfd()).isTrue();
    assertThat(exec.file().deleted()).isTrue();
    assertThat(exec.file().path()).isEqualTo("/memfd:vrtest-payload");
    assertThat(exec.file().filesystemMagic()).isEqualTo(0x01021994); // tmpfs (shmem)
    assertThat(exec.task().comm()).isEqualTo("memfd:vrtest-pa");
  }

  @Test
  void execOfADeletedFileKeepsItsLastPath() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-deleted.bin");

    assertThat(exec.file().deleted()).isTrue();
    assertThat(exec.file().memfd()).isFalse();
    assertThat(exec.file().nlink()).isZero();
    assertThat(exec.file().path()).startsWith("/tmp/vrtest-deleted");
  }

  @Test
  void pathCrossesMountPoints() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-tmpfs-mount.bin");

    assertThat(exec.file().path()).isEqualTo("/dev/shm/vrtrue");
    assertThat(exec.file().identity().dev()).isEqualTo(FileIdentity.kernelDev(0, 27));
    assertThat(exec.file().filesystemMagic()).isEqualTo(0x01021994);
    assertThat(exec.file().memfd()).as("a tmpfs file is not a memfd").isFalse();
  }

  @Test
  void overlongPathsKeepTheirTailAndSaySo() throws Exception {
    ExecEvent exec = (ExecEvent) decode("exec-deep-truncated.bin");

    assertThat(exec.filenameTruncated()).isTrue();
    assertThat(exec.filename()).hasSize(255).startsWith("/tmp/vrdeep/component-number-1-");
    assertThat(exec.file().pathTruncated()).isTrue();
    assertThat(exec.file().path())
        .hasSizeLessThan(WireFormat.Exec.PATH_CAPACITY)
        .startsWith("/component-number-")
        .endsWith("/component-number-12-abcdefghijklmnopqrstuvwxyz0123456789/t");
  }

  @Test
  void exitCodesUseTheWaitStatusEncoding() throws Exception {
    ExitEvent normal = (ExitEvent) decode("exit-status-7.bin");
    ExitEvent killed = (ExitEvent) decode("exit-sigkill.bin");

    assertThat(normal.task().tgid()).isEqualTo(SCENARIO);
    assertThat(normal.exitStatus()).isEqualTo(7);
    assertThat(normal.signal()).isZero();
    assertThat(killed.task().tgid()).isEqualTo(TARGET_CHILD);
    assertThat(killed.signal()).isEqualTo(9);
  }

  @Test
  void fileMappingFromMmap() throws Exception {
    ExecMappingEvent mapping = (ExecMappingEvent) decode("mapping-mmap-libc.bin");

    assertThat(mapping.source()).isEqualTo(MappingSource.MMAP);
    assertThat(mapping.file().path()).isEqualTo("/usr/lib/x86_64-linux-gnu/libc.so.6");
    assertThat(mapping.file().identity())
        .isEqualTo(new FileIdentity(ROOT_FS, 339380, 1777320873L * 1_000_000_000L, 1926232));
    assertThat(mapping.fd()).isEqualTo(3);
    assertThat(mapping.prot()).isEqualTo(0x5); // PROT_READ | PROT_EXEC
    assertThat(mapping.fileOffset()).isEqualTo(155648);
    assertThat(mapping.length()).isEqualTo(1400832);
    assertThat(mapping.address()).isEqualTo(0x7fa0f4195000L);
  }

  @Test
  void fileMappingMadeExecutableByMprotect() throws Exception {
    ExecMappingEvent mapping = (ExecMappingEvent) decode("mapping-mprotect-true.bin");

    assertThat(mapping.source()).isEqualTo(MappingSource.MPROTECT);
    assertThat(mapping.fd()).isEqualTo(-1);
    assertThat(mapping.file().path()).isEqualTo("/usr/bin/true");
    assertThat(mapping.file().identity().inode()).isEqualTo(260958);
    // mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 4096) then mprotect of its first page.
    assertThat(mapping.fileOffset()).isEqualTo(4096);
    assertThat(mapping.address()).isEqualTo(0x7fa0f4356000L);
  }

  @Test
  void anonymousExecutableMemory() throws Exception {
    AnonymousExecEvent mmap = (AnonymousExecEvent) decode("anon-mmap.bin");
    AnonymousExecEvent mprotect = (AnonymousExecEvent) decode("anon-mprotect.bin");

    assertThat(mmap.source()).isEqualTo(MappingSource.MMAP);
    assertThat(mmap.prot()).isEqualTo(0x7);
    assertThat(mmap.mapFlags()).isEqualTo(0x22); // MAP_PRIVATE | MAP_ANONYMOUS
    assertThat(mmap.address()).isEqualTo(0x7fa0f4359000L);
    assertThat(mprotect.source()).isEqualTo(MappingSource.MPROTECT);
    assertThat(mprotect.address()).isEqualTo(0x7fa0f4358000L);
    assertThat(mprotect.length()).isEqualTo(4096);
  }

  @Test
  void injectionSignals() throws Exception {
    InjectionEvent attach = (InjectionEvent) decode("injection-ptrace-attach.bin");
    InjectionEvent poke = (InjectionEvent) decode("injection-ptrace-pokedata.bin");
    InjectionEvent write = (InjectionEvent) decode("injection-process-vm-writev.bin");

    assertThat(attach.technique()).isEqualTo(InjectionTechnique.PTRACE_ATTACH);
    assertThat(attach.targetPid()).isEqualTo(TARGET_CHILD);
    assertThat(poke.technique()).isEqualTo(InjectionTechnique.PTRACE_POKEDATA);
    assertThat(poke.count()).isEqualTo(0x4141);
    assertThat(poke.address()).isEqualTo(0x55c845b300d0L);
    assertThat(write.technique()).isEqualTo(InjectionTechnique.PROCESS_VM_WRITEV);
    assertThat(write.targetPid()).isEqualTo(TARGET_CHILD);
    assertThat(write.count()).isEqualTo(1);
    assertThat(write.task().tgid()).isEqualTo(SCENARIO);
  }

  @Test
  void procPidMemOpenedForWritingIsAnInjection() throws Exception {
    // Second capture run (fixtures/README.md): scenario 3075, its child 3083.
    InjectionEvent mem = (InjectionEvent) decode("injection-proc-mem.bin");

    assertThat(mem.technique()).isEqualTo(InjectionTechnique.PROC_PID_MEM);
    assertThat(mem.task().tgid()).isEqualTo(3075);
    assertThat(mem.targetPid()).isEqualTo(3083);
    assertThat(mem.count()).as("thread named by the path").isEqualTo(3083);
    assertThat(mem.request()).as("open flags: O_RDWR").isEqualTo(2);
    assertThat(mem.address()).isZero();
  }

  @Test
  void aWriteThroughProcPidMemNamesTheAddressAndLength() throws Exception {
    // Third capture run (fixtures/README.md): scenario 547 pwrite()s 8 bytes at 0x55d0fa1e30f0
    // into its child 567.
    InjectionEvent write = (InjectionEvent) decode("injection-proc-mem-pwrite.bin");

    assertThat(write.technique()).isEqualTo(InjectionTechnique.PROC_PID_MEM_WRITE);
    assertThat(write.task().tgid()).isEqualTo(547);
    assertThat(write.targetPid()).isEqualTo(567);
    assertThat(write.request()).as("syscall: pwrite64").isEqualTo(18);
    assertThat(write.address()).isEqualTo(0x55d0fa1e30f0L);
    assertThat(write.count()).as("bytes written").isEqualTo(8);
  }

  @Test
  void writesIntoAWatchedFile() throws Exception {
    FileWriteEvent open = (FileWriteEvent) decode("file-write-open-trunc.bin");
    FileWriteEvent truncate = (FileWriteEvent) decode("file-write-ftruncate.bin");
    FileIdentity writer = new FileIdentity(ROOT_FS, 2146569, 1796303766999644286L, 17504);

    assertThat(open.operation()).isEqualTo(FileWriteOperation.OPEN_FOR_WRITE);
    assertThat(open.argument()).as("O_WRONLY | O_CREAT | O_TRUNC").isEqualTo(01101);
    assertThat(open.truncated()).isTrue();
    assertThat(open.fd()).isEqualTo(3);
    assertThat(open.task().tgid()).isEqualTo(3075);
    assertThat(open.task().comm()).isEqualTo("vrscenario2");
    assertThat(open.reasons())
        .containsExactlyInAnyOrder(WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE);
    assertThat(open.file().path()).isEqualTo("/tmp/vrtest-watched");
    assertThat(open.file().identity())
        .isEqualTo(new FileIdentity(ROOT_FS, 2147562, 1796304188735834792L, 0));
    assertThat(open.file().mode()).isEqualTo(0100644);
    assertThat(open.writerExecutable()).isEqualTo(writer);

    assertThat(truncate.operation()).isEqualTo(FileWriteOperation.FTRUNCATE);
    assertThat(truncate.argument()).as("new length").isEqualTo(2);
    assertThat(truncate.truncated()).isTrue();
    assertThat(truncate.file().identity().size()).isEqualTo(2);
    assertThat(truncate.writerExecutable()).isEqualTo(writer);
  }

  @Test
  void memfdCreate() throws Exception {
    MemfdCreateEvent memfd = (MemfdCreateEvent) decode("memfd-create.bin");

    assertThat(memfd.name()).isEqualTo("vrtest-payload");
    assertThat(memfd.flags()).isEqualTo(1); // MFD_CLOEXEC
    assertThat(memfd.fd()).isEqualTo(3);
    assertThat(memfd.succeeded()).isTrue();
  }

  @Test
  void decodesAtTheBufferPositionWithoutMovingIt() throws Exception {
    byte[] record = Fixtures.bytes("exit-status-7.bin");
    ByteBuffer buffer = ByteBuffer.allocateDirect(record.length + 100).order(ByteOrder.BIG_ENDIAN);
    buffer.position(40);
    buffer.put(record);
    buffer.position(40).limit(40 + record.length + 30); // trailing bytes of the next record

    ExitEvent exit = (ExitEvent) decoder.decode(buffer);

    assertThat(exit.exitStatus()).isEqualTo(7);
    assertThat(buffer.position()).isEqualTo(40);
    assertThat(buffer.limit()).isEqualTo(40 + record.length + 30);
    assertThat(buffer.order()).isEqualTo(ByteOrder.BIG_ENDIAN);
  }
}
