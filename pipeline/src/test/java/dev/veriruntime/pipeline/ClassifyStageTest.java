package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.FileWriteOperation;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Classification rules; the JIT allowance must not depend on whether the executable's check
 * finished first.
 */
class ClassifyStageTest {
  private static final String JIT_SHA = "a".repeat(64);
  private final FileIdentity id = new FileIdentity(1, 2, 3, 4);
  private final DropLedger ledger = new DropLedger();
  private final ProcessTable table = new ProcessTable(100, ledger);
  private final List<FileIdentity> skipped = new ArrayList<>();
  private final List<FileIdentity> quiet = new ArrayList<>();
  private final ClassifyStage stage =
      new ClassifyStage(
          new Classifier(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), "host"),
          table,
          Set.of(JIT_SHA),
          new PipelineMetrics(new SimpleMeterRegistry()),
          ledger,
          new MappingFilter() {
            @Override
            public void skip(ExecutableFile file) {
              skipped.add(file.identity());
            }

            @Override
            public void skipExecs(ExecutableFile file) {
              quiet.add(file.identity());
            }

            @Override
            public void reset() {
              skipped.clear();
            }
          },
          null);

  private ExecEvent exec(boolean deleted) {
    ExecutableFile file =
        new ExecutableFile(
            id, deleted ? 0 : 1, 0100755, 0xEF53, false, deleted, "/usr/bin/cc", false, 0);
    return new ExecEvent(
        0, new TaskContext(42, 42, 0, 0, 0, "cc"), 1, 42, 0, 0, "/usr/bin/cc", false, file, false);
  }

  private ExecutableCheck verified(String sha) {
    return ExecutableCheck.of(
        new BinaryVerification(
            Verdict.VERIFIED,
            "/usr/bin/cc",
            sha,
            id,
            Coverage.of(ScopeResult.verified(Scope.DISK_HASH, "reference")),
            List.of(),
            null,
            Instant.EPOCH));
  }

  private final AnonymousExecEvent rwx =
      new AnonymousExecEvent(
          0,
          new TaskContext(42, 42, 0, 0, 0, "jit"),
          0x7f0000000000L,
          4096,
          0x7,
          0x22,
          MappingSource.MMAP);

  private ExecutableCheck checkOf(String sha) {
    return ExecutableCheck.of(
        new BinaryVerification(
            Verdict.UNKNOWN,
            "/opt/jit",
            sha,
            id,
            Coverage.of(ScopeResult.notVerified(Scope.DISK_HASH, "no reference")),
            List.of(),
            null,
            Instant.EPOCH));
  }

  private ExecMappingEvent mapping(MappingSource source, boolean deleted) {
    ExecutableFile file =
        new ExecutableFile(
            new FileIdentity(1, 2, 3, 4),
            deleted ? 0 : 1,
            0100755,
            0xEF53,
            false,
            deleted,
            "/usr/lib/libx.so",
            false,
            0);
    return new ExecMappingEvent(
        0,
        new TaskContext(42, 42, 0, 0, 0, "app"),
        0x7f0000000000L,
        4096,
        0,
        0x5,
        0x2,
        source,
        3,
        file);
  }

  private ExecutableCheck checkOf(Verdict verdict) {
    return ExecutableCheck.of(
        new BinaryVerification(
            verdict,
            "/usr/lib/libx.so",
            "b".repeat(64),
            id,
            Coverage.of(
                verdict == Verdict.VERIFIED
                    ? ScopeResult.verified(Scope.DISK_HASH, "reference")
                    : ScopeResult.notVerified(Scope.DISK_HASH, "no reference")),
            List.of(),
            null,
            Instant.EPOCH));
  }

  @Test
  void onlyAnExecOfAVerifiedFileWithNothingToReportAndNoJitIsHandedToTheKernelExecFilter() {
    assertThat(stage.classify(new Observation(exec(false), verified("c".repeat(64))))).isEmpty();
    assertThat(quiet).containsExactly(id);

    quiet.clear();
    assertThat(stage.classify(new Observation(exec(false), verified(JIT_SHA))))
        .as("a JIT runtime's exec says nothing")
        .isEmpty();
    assertThat(stage.classify(new Observation(exec(false), checkOf(Verdict.UNKNOWN)))).hasSize(1);
    assertThat(stage.classify(new Observation(exec(true), verified("c".repeat(64))))).isNotEmpty();
    assertThat(quiet).as("JIT runtime, unknown or deleted").isEmpty();
    assertThat(skipped).as("mappings are another filter").isEmpty();
  }

  @Test
  void theParentChainSaysWhereItEndsBeforeARootAndWhy() {
    table.started(new ProcessTable.Entry(42, 7, "/usr/bin/cc", id, 9, "cc", null));
    table.started(new ProcessTable.Entry(7, 777, "/usr/bin/make", id, 9, "make", null));

    SecurityEvent e = stage.classify(new Observation(exec(false), checkOf(Verdict.UNKNOWN))).get(0);

    assertThat(e.details()).containsEntry("parents", List.of("/usr/bin/make"));
    assertThat(e.details().get(ClassifyStage.PARENTS_END).toString()).contains("parent pid 777");
    assertThat(e.details()).containsEntry("cgroupId", 9L);
  }

  @Test
  void aProgramTheKernelStartedEndsItsChainWithTheKernelNotAnUnknownParent() {
    table.started(new ProcessTable.Entry(42, 2, "/tmp/core-handler", id, 9, "core-handler", null));

    SecurityEvent e = stage.classify(new Observation(exec(false), checkOf(Verdict.UNKNOWN))).get(0);

    assertThat(e.details()).doesNotContainKey("parents");
    assertThat(e.details().get(ClassifyStage.PARENTS_END).toString())
        .startsWith("started by the kernel (parent pid 2, kthreadd)")
        .doesNotContain("not known");
  }

  /** An incident book for which no process runs any more. */
  private static IncidentBook bookWithNothingRunning() {
    return new IncidentBook(
        IncidentBook.Settings.defaults(100, 0),
        new ProcessLiveness() {
          @Override
          public java.util.OptionalLong startTicks(int pid) {
            return java.util.OptionalLong.empty();
          }

          @Override
          public boolean stillRuns(int pid, long startTicks) {
            return false;
          }
        });
  }

  /** A classify stage that hands repeats to {@code book}. */
  private ClassifyStage countingIn(IncidentBook book) {
    return new ClassifyStage(
        new Classifier(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC), "host"),
        table,
        Set.of(),
        new PipelineMetrics(new SimpleMeterRegistry()),
        ledger,
        MappingFilter.NONE,
        book);
  }

  @Test
  void aRepeatTheIncidentBookCountsIsNoEventAndItsEventIsBuiltOnlyWhenAsked() {
    IncidentBook book = bookWithNothingRunning();
    ClassifyStage counting = countingIn(book);
    Observation unknown = new Observation(exec(false), checkOf(Verdict.UNKNOWN));
    SecurityEvent first = counting.classify(unknown).get(0);
    book.offer(first, Instant.EPOCH);
    assertThat(book.tick(Instant.EPOCH.plusSeconds(2))).hasSize(1); // resolved at once

    assertThat(counting.classify(unknown)).as("counted by the book").isEmpty();
    List<SecurityEvent> settled = book.tick(Instant.EPOCH.plusSeconds(4));
    assertThat(settled).hasSize(1);
    assertThat(settled.get(0).count()).isEqualTo(1);
    assertThat(settled.get(0).details()).containsEntry(IncidentBook.PIDS, List.of(42));
    assertThat(Aggregator.keyOf(settled.get(0)))
        .isEqualTo(Aggregator.keyOf(first.withIncident(settled.get(0).incident())));
  }

  @Test
  void aLateExecOfAFileTheKernelCountsIsNotCountedAgain() {
    IncidentBook book = bookWithNothingRunning();
    // The kernel counted one exec (pid 43's) after it was asked to count.
    Instant counted = Instant.EPOCH.plusSeconds(3);
    book.countExecsIn(
        new MappingFilter() {
          @Override
          public void skip(ExecutableFile file) {}

          @Override
          public void reset() {}

          @Override
          public boolean countExecs(FileIdentity file) {
            return true;
          }

          @Override
          public Optional<ExecCount> execCount(FileIdentity file) {
            return Optional.of(new ExecCount(1, counted, counted, 43));
          }
        });
    ClassifyStage counting = countingIn(book);
    Observation unknown = new Observation(exec(false), checkOf(Verdict.UNKNOWN));
    book.offer(counting.classify(unknown).get(0), Instant.EPOCH);
    assertThat(book.tick(Instant.EPOCH.plusSeconds(2))).hasSize(1); // resolved at once
    assertThat(counting.classify(unknown)).as("counted by the book").isEmpty();
    assertThat(book.countsInKernel(id)).isTrue();

    ExecEvent sent = exec(false);
    ExecEvent late =
        new ExecEvent(
            0,
            new TaskContext(43, 43, 0, 0, 0, "cc"),
            1,
            43,
            0,
            0,
            sent.filename(),
            false,
            sent.file(),
            true);
    assertThat(counting.classify(new Observation(late, checkOf(Verdict.UNKNOWN))))
        .as("its exec is in the kernel's count")
        .isEmpty();
    List<SecurityEvent> settled = new ArrayList<>(book.tick(Instant.EPOCH.plusSeconds(4)));
    settled.addAll(book.flushAll(Instant.EPOCH.plusSeconds(5)));
    assertThat(settled.stream().mapToLong(SecurityEvent::count).sum())
        .as("pid 42 counted here, pid 43 in the kernel, once")
        .isEqualTo(2);
  }

  @Test
  void onlyAnMmapOfAVerifiedFileWithNothingToReportIsHandedToTheKernelFilter() {
    ExecMappingEvent mmap = mapping(MappingSource.MMAP, false);
    assertThat(stage.classify(new Observation(mmap, checkOf(Verdict.VERIFIED)))).isEmpty();
    assertThat(skipped).containsExactly(mmap.file().identity());

    skipped.clear();
    assertThat(stage.classify(new Observation(mmap, checkOf(Verdict.UNKNOWN)))).hasSize(1);
    assertThat(
            stage.classify(
                new Observation(mapping(MappingSource.MMAP, true), checkOf(Verdict.VERIFIED))))
        .hasSize(1);
    assertThat(
            stage.classify(
                new Observation(mapping(MappingSource.MPROTECT, false), checkOf(Verdict.VERIFIED))))
        .isEmpty();
    assertThat(skipped).as("unknown, deleted, or made executable by mprotect").isEmpty();
  }

  @Test
  void allowedJitWhoseDigestIsNotInTheTableYetIsToleratedThroughTheCheckThatCameAlong() {
    table.started(new ProcessTable.Entry(42, 1, "/opt/jit", id, 0, "jit", null));

    assertThat(stage.classify(new Observation(rwx, checkOf(JIT_SHA)))).isEmpty();
  }

  @Test
  void executableOutsideTheAllowanceIsDriftWithOrWithoutTheDigest() {
    table.started(new ProcessTable.Entry(42, 1, "/opt/jit", id, 0, "jit", null));

    List<SecurityEvent> withCheck = stage.classify(new Observation(rwx, checkOf("b".repeat(64))));
    List<SecurityEvent> without = stage.classify(new Observation(rwx, null));

    assertThat(withCheck)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.RUNTIME_DRIFT);
              assertThat(e.reason())
                  .isEqualTo(
                      "anonymous writable+executable memory created by mmap in /opt/jit (not in the JIT allowance)");
            });
    assertThat(without)
        .singleElement()
        .extracting(SecurityEvent::type)
        .isEqualTo(EventType.RUNTIME_DRIFT);
  }

  @Test
  void digestAlreadyInTheTableDecidesWithoutACheck() {
    table.started(new ProcessTable.Entry(42, 1, "/opt/jit", id, 0, "jit", JIT_SHA));

    assertThat(stage.classify(new Observation(rwx, null))).isEmpty();
  }

  @Test
  void aKernelThreadFromTheStartupScanIsNoEventAndNoError() {
    ScannedProcess kthread = new ScannedProcess(0, 2, 0, 0, 0, "kthreadd", Optional.empty());
    assertThat(stage.classify(new Observation(kthread, null))).isEmpty();
    assertThat(ledger.drain()).isEmpty();
  }

  @Test
  void aWriteIntoAnotherProcessNamesWriterAndTargetAndOnlyATargetAddressAsAddress() {
    table.started(new ProcessTable.Entry(42, 1, "/tmp/writer", id, 0, "writer", null));
    table.started(new ProcessTable.Entry(77, 1, "/usr/sbin/sshd", id, 0, "sshd", null));
    TaskContext writer = new TaskContext(42, 42, 0, 0, 0, "writer");

    SecurityEvent poke =
        stage.injection(
            new InjectionEvent(
                0, writer, InjectionTechnique.PTRACE_POKETEXT, 77, 4, 0x55d0c0a01139L, 0));
    assertThat(poke.pid()).isEqualTo(77);
    assertThat(poke.details())
        .containsEntry("actorPid", 42)
        .containsEntry("address", "0x55d0c0a01139");

    SecurityEvent writev =
        stage.injection(
            new InjectionEvent(
                0, writer, InjectionTechnique.PROCESS_VM_WRITEV, 77, 0, 0x7ffd1234L, 1));
    assertThat(writev.reason())
        .isEqualTo("process vm writev by /tmp/writer aimed at /usr/sbin/sshd");
    assertThat(writev.details())
        .as("the syscall's pointer is the writer's iovec array, not an address in the target")
        .doesNotContainKey("address")
        .containsEntry("remoteIovecs", 1L)
        .containsEntry("technique", "PROCESS_VM_WRITEV")
        .containsEntry("finding", "CODE_INJECTION_ATTEMPT");
  }

  @Test
  void aWriteIntoAMappedFileNamesWriterFileAndTheProcessesThatMapIt() {
    table.started(new ProcessTable.Entry(42, 1, "/usr/bin/dash", id, 0, "sh", null));
    FileWriteEvent write =
        new FileWriteEvent(
            0,
            new TaskContext(42, 42, 0, 0, 0, "sh"),
            FileWriteOperation.OPEN_FOR_WRITE,
            3,
            02101, // O_WRONLY | O_CREAT | O_APPEND
            Set.of(WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE),
            new ExecutableFile(
                new FileIdentity(7, 8, 9, 10),
                1,
                0100755,
                0xEF53,
                false,
                false,
                "/lib/x.so",
                false,
                0),
            id);

    SecurityEvent e = stage.fileWrite(write, List.of(100, 200));

    assertThat(e.type()).isEqualTo(EventType.RUNTIME_DRIFT);
    assertThat(e.pid()).isEqualTo(42);
    assertThat(e.reason())
        .isEqualTo("/lib/x.so opened for writing by /usr/bin/dash while 2 process(es) map it");
    assertThat(e.details())
        .containsEntry("finding", "MAPPED_FILE_WRITTEN")
        .containsEntry("writerPid", 42)
        .containsEntry("mappedBy", List.of(100, 200))
        .containsEntry("operation", "OPEN_FOR_WRITE");

    FileWriteEvent truncate =
        new FileWriteEvent(
            0,
            new TaskContext(43, 43, 0, 0, 0, "truncate"),
            FileWriteOperation.FTRUNCATE,
            3,
            0,
            Set.of(WatchReason.VERIFIED),
            write.file(),
            null);
    assertThat(stage.fileWrite(truncate, List.of()).reason())
        .isEqualTo("/lib/x.so truncated (ftruncate) by comm truncate while verified and cached");
  }

  @Test
  void aWriteIntoOneOfTheAgentsOwnFilesIsASelfIntegrityFailureNamingTheWriter() {
    table.started(new ProcessTable.Entry(44, 1, "/usr/bin/dash", id, 0, "sh", null));
    FileWriteEvent write =
        new FileWriteEvent(
            0,
            new TaskContext(44, 44, 0, 0, 0, "sh"),
            FileWriteOperation.OPEN_FOR_WRITE,
            3,
            02001, // O_WRONLY | O_APPEND
            Set.of(WatchReason.SELF, WatchReason.VERIFIED),
            new ExecutableFile(
                new FileIdentity(7, 9, 9, 10),
                1,
                0100644,
                0xEF53,
                false,
                false,
                "/opt/veriruntime/veriruntime.jar",
                false,
                0),
            id);

    List<SecurityEvent> out = stage.classify(new Observation(write, null));

    assertThat(out).hasSize(1);
    SecurityEvent e = out.get(0);
    assertThat(e.type()).isEqualTo(EventType.SELF_INTEGRITY_FAILURE);
    assertThat(e.reason())
        .isEqualTo(
            "agent file /opt/veriruntime/veriruntime.jar opened for writing by pid 44"
                + " (/usr/bin/dash)");
    assertThat(e.details())
        .containsEntry("writerPid", 44)
        .containsEntry("writerExe", "/usr/bin/dash")
        .containsEntry("file", "/opt/veriruntime/veriruntime.jar");
  }
}
