package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

class IncidentStageTest {
  private static final int PID = 4242;
  private static final int SELF = 77;
  private static final String PATCHED_SHA = "ab".repeat(32);

  /** Processes alive now, pid to start ticks; the test ends them by removing them. */
  private final Map<Integer, Long> alive = new ConcurrentHashMap<>();

  private final ProcessLiveness liveness =
      new ProcessLiveness() {
        @Override
        public OptionalLong startTicks(int pid) {
          Long t = alive.get(pid);
          return t == null ? OptionalLong.empty() : OptionalLong.of(t);
        }

        @Override
        public boolean stillRuns(int pid, long startTicks) {
          Long t = alive.get(pid);
          return t != null && t == startTicks;
        }
      };

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final Sinks.Many<SecurityEvent> source = Sinks.many().unicast().onBackpressureBuffer();
  private final List<SecurityEvent> out = new CopyOnWriteArrayList<>();
  private IncidentBook book;

  /** Incidents, then aggregation as in the pipeline, on virtual time. */
  private Disposable run() {
    return run(new IncidentBook(IncidentBook.Settings.defaults(1000, SELF), liveness));
  }

  /** As {@link #run()} with {@code b} as the book. */
  private Disposable run(IncidentBook b) {
    book = b;
    return source
        .asFlux()
        .transform(new IncidentStage(book, Pipeline.INCIDENT_TICK, vts))
        .transform(new AggregateStage(Duration.ofSeconds(10), 1000, vts))
        .subscribe(out::add);
  }

  private Instant now() {
    return Instant.ofEpochMilli(vts.now(TimeUnit.MILLISECONDS));
  }

  /** What re-attestation reports for a process whose code was patched; the address changes. */
  private SecurityEvent codeModified(int pid, long address) {
    return SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
        .pid(pid)
        .exe("/opt/app/server", 2049, 131, PATCHED_SHA)
        .reason(
            "running process /opt/app/server: MEMORY_CODE failed: 1 mapping(s) modified in memory;"
                + " first: code at 0x"
                + Long.toHexString(address)
                + " differs")
        .detail("scope", "MEMORY_CODE")
        .detail("check", "re-attestation")
        .detail("finding", "CODE_MODIFIED")
        .finding("CODE_MODIFIED", "MEMORY_CODE", "code at 0x" + Long.toHexString(address), Map.of())
        .build();
  }

  private SecurityEvent unknown(int pid, String observed, String path, String sha) {
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, now())
        .pid(pid)
        .exe(path, 2049, path.hashCode(), sha)
        .reason(observed + " of " + path + ": no trusted reference for sha256 " + sha)
        .detail(Grouping.OBSERVED, observed)
        .finding("NO_REFERENCE", "DISK_HASH", "no reference", Map.of())
        .build();
  }

  private List<SecurityEvent> about(int pid) {
    return out.stream().filter(e -> e.pid() != null && e.pid() == pid).toList();
  }

  @Test
  void patchedProcessObservedForTenMinutesGivesAtMostThreeEventsThenItsResolution() {
    alive.put(PID, 1000L);
    Disposable d = run();
    // Re-attestation finds the patch again every 5 s for 10 minutes, at a changing address.
    for (int i = 0; i < 120; i++) {
      source.tryEmitNext(codeModified(PID, 0x55d0c0a01139L + i));
      vts.advanceTimeBy(Duration.ofSeconds(5));
    }
    List<SecurityEvent> whileRunning = about(PID);
    assertThat(whileRunning).hasSizeLessThanOrEqualTo(3);
    assertThat(whileRunning.get(0).incident().state()).isEqualTo(IncidentState.OPENED);
    assertThat(whileRunning.subList(1, whileRunning.size()))
        .allMatch(e -> e.incident().state() == IncidentState.REMINDER);
    String id = whileRunning.get(0).incident().id();
    assertThat(whileRunning).allMatch(e -> e.incident().id().equals(id));
    SecurityEvent reminder = whileRunning.get(1);
    assertThat(reminder.incident().sinceLastReport())
        .as("found again since the first report, as re-attestation saw it")
        .isGreaterThanOrEqualTo(10);
    assertThat(book.openIncidents()).extracting(IncidentBook.OpenIncident::id).containsExactly(id);

    alive.remove(PID); // killed
    vts.advanceTimeBy(Duration.ofSeconds(2));

    List<SecurityEvent> after = about(PID).subList(whileRunning.size(), about(PID).size());
    assertThat(after).hasSize(1);
    SecurityEvent resolution = after.get(0);
    assertThat(resolution.incident().state()).isEqualTo(IncidentState.RESOLVED);
    assertThat(resolution.incident().id()).isEqualTo(id);
    assertThat(resolution.incident().resolution()).isEqualTo("process exited");
    assertThat(resolution.reason()).startsWith("resolved (process exited): running process");
    assertThat(book.openIncidents()).isEmpty();
    vts.advanceTimeBy(Duration.ofHours(2));
    assertThat(about(PID)).hasSize(whileRunning.size() + 1);
    d.dispose();
  }

  @Test
  void remindersBackOffFromOneMinuteToTenMinutesToAnHourToDaily() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(codeModified(PID, 1));
    vts.advanceTimeBy(Duration.ofDays(3));

    List<Duration> sinceOpen =
        about(PID).stream()
            .map(e -> Duration.between(e.incident().opened(), e.time()))
            .map(x -> x.truncatedTo(java.time.temporal.ChronoUnit.MINUTES))
            .toList();
    assertThat(sinceOpen)
        .containsExactly(
            Duration.ZERO,
            Duration.ofMinutes(1),
            Duration.ofMinutes(11),
            Duration.ofMinutes(71),
            Duration.ofMinutes(71).plusDays(1),
            Duration.ofMinutes(71).plusDays(2));
    assertThat(about(PID).subList(1, about(PID).size()))
        .allMatch(e -> e.incident().sinceLastReport() == 0);
    d.dispose();
  }

  @Test
  void interpreterStartWithItsUnknownExtensionModulesIsOneEvent() {
    alive.put(PID, 1000L);
    Disposable d = run();
    for (int i = 12; i >= 1; i--) {
      String lib = String.format("/opt/py/lib-dynload/mod%02d.so", i);
      source.tryEmitNext(unknown(PID, "executable mapping", lib, Integer.toHexString(i).repeat(8)));
      vts.advanceTimeBy(Duration.ofMillis(40));
    }
    source.tryEmitNext(unknown(PID, "exec", "/opt/py/python3", "ee".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(about(PID)).hasSize(1);
    SecurityEvent e = about(PID).get(0);
    assertThat(e.type()).isEqualTo(EventType.UNKNOWN_EXECUTION);
    assertThat(e.exe().path())
        .as("the process's own executable leads")
        .isEqualTo("/opt/py/python3");
    assertThat(e.details()).containsEntry(Grouping.ITEM_COUNT, 13);
    assertThat(e.reason())
        .startsWith("exec of /opt/py/python3: no trusted reference")
        .endsWith(
            "; and 12 more in this process (first 5 by path): /opt/py/lib-dynload/mod01.so,"
                + " /opt/py/lib-dynload/mod02.so, /opt/py/lib-dynload/mod03.so,"
                + " /opt/py/lib-dynload/mod04.so, /opt/py/lib-dynload/mod05.so");
    assertThat((List<?>) e.details().get(Grouping.ITEMS)).hasSize(13);
    assertThat(e.findings()).hasSize(13);
    assertThat(e.incident().state()).isEqualTo(IncidentState.OPENED);
    d.dispose();
  }

  @Test
  void passesOfOneCheckInQuickSuccessionAreOneFindingNotAList() {
    alive.put(PID, 1000L);
    Disposable d = run();
    for (int i = 0; i < 4; i++) {
      source.tryEmitNext(codeModified(PID, 0x1000 + i));
      vts.advanceTimeBy(Duration.ofMillis(900));
    }
    vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(about(PID)).hasSize(1);
    assertThat(about(PID).get(0).reason()).doesNotContain("more in this process");
    assertThat(about(PID).get(0).details()).doesNotContainKey(Grouping.ITEMS);
    d.dispose();
  }

  @Test
  void findingsStillGatheringWhenTheProcessEndsCountInItsIncidentNotInANewOne() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(codeModified(PID, 1));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    source.tryEmitNext(codeModified(PID, 2)); // another pass, still gathering...
    alive.remove(PID); // ...when the process is killed
    vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(about(PID))
        .extracting(e -> e.incident().state())
        .containsExactly(IncidentState.OPENED, IncidentState.RESOLVED);
    assertThat(about(PID).get(1).incident().id()).isEqualTo(about(PID).get(0).incident().id());
    assertThat(about(PID).get(1).incident().occurrences()).isEqualTo(2);
    d.dispose();
  }

  @Test
  void aLauncherThatExecutesAnotherProgramIsReportedAsThatProgram() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(unknown(PID, "exec", "/usr/lib/jvm/lib/jspawnhelper", "a1".repeat(32)));
    source.tryEmitNext(unknown(PID, "exec", "/tmp/marker", "b2".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(about(PID)).hasSize(1);
    assertThat(about(PID).get(0).exe().path()).isEqualTo("/tmp/marker");
    assertThat(about(PID).get(0).reason())
        .endsWith("; and 1 more in this process: /usr/lib/jvm/lib/jspawnhelper");
    d.dispose();
  }

  @Test
  void processThatEndedBeforeItsFirstReportGetsOneEventAlreadyResolved() {
    Disposable d = run(); // PID is not alive: it ran and exited within the group window
    source.tryEmitNext(unknown(PID, "exec", "/tmp/x", "cd".repeat(32)));
    vts.advanceTimeBy(Duration.ofMinutes(5));

    assertThat(about(PID)).hasSize(1);
    assertThat(about(PID).get(0).incident().state()).isEqualTo(IncidentState.RESOLVED);
    assertThat(about(PID).get(0).incident().resolution()).isEqualTo("process exited");
    assertThat(about(PID).get(0).reason()).startsWith("exec of /tmp/x");
    d.dispose();
  }

  @Test
  void aNewFindingAboutAnOpenIncidentIsReportedAtOnceAndRepeatsAreNot() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(unknown(PID, "exec", "/opt/app", "aa".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    source.tryEmitNext(unknown(PID, "executable mapping", "/opt/app", "aa".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    source.tryEmitNext(unknown(PID, "executable mapping", "/opt/libnew.so", "bb".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(2));

    assertThat(about(PID))
        .extracting(e -> e.incident().state())
        .containsExactly(IncidentState.OPENED, IncidentState.UPDATED);
    assertThat(about(PID).get(1).exe().path()).isEqualTo("/opt/libnew.so");
    assertThat(about(PID).get(1).incident().id()).isEqualTo(about(PID).get(0).incident().id());
    d.dispose();
  }

  /** What the probe's view of a write into another process's memory becomes: an act. */
  private SecurityEvent memWrite(int pid, String technique) {
    return SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
        .pid(pid)
        .exe("/opt/app/server", 2049, 131, PATCHED_SHA)
        .reason(
            technique.toLowerCase().replace('_', ' ') + " by /tmp/writer aimed at /opt/app/server")
        .detail("technique", technique)
        .detail("finding", "CODE_INJECTION_ATTEMPT")
        .build();
  }

  /** The changed code, found by the verification the write triggered at once. */
  private SecurityEvent codeFoundAfter(int pid, String technique) {
    return SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
        .pid(pid)
        .exe("/opt/app/server", 2049, 131, PATCHED_SHA)
        .reason(codeModified(pid, 0x1000).reason())
        .detail("scope", "MEMORY_CODE")
        .detail("verifiedAfter", technique)
        .detail("finding", "CODE_MODIFIED")
        .finding("CODE_MODIFIED", "MEMORY_CODE", "code at 0x1000", Map.of())
        .build();
  }

  @Test
  void aWriteIntoRunningCodeIsReportedWithinItsActWindowWithTheCodeItChanged() {
    alive.put(PID, 1000L);
    Disposable d = run();
    Instant written = now();
    source.tryEmitNext(memWrite(PID, "PROC_PID_MEM"));
    source.tryEmitNext(memWrite(PID, "PROC_PID_MEM_WRITE"));
    vts.advanceTimeBy(Duration.ofMillis(30));
    source.tryEmitNext(codeFoundAfter(PID, "PROC_PID_MEM_WRITE"));
    vts.advanceTimeBy(Duration.ofMillis(300));

    assertThat(about(PID)).as("the open, the write and the changed code: one event").hasSize(1);
    SecurityEvent e = about(PID).get(0);
    assertThat(e.incident().state()).isEqualTo(IncidentState.OPENED);
    assertThat(e.details()).containsEntry(Grouping.ITEM_COUNT, 3);
    assertThat(e.details().get(Grouping.ITEMS).toString()).contains("CODE_MODIFIED");
    assertThat(Duration.between(written, e.time()))
        .as("reported once nothing joined for the act window (200 ms), at the next tick")
        .isLessThanOrEqualTo(
            IncidentBook.DEFAULT_ACT_WINDOW.plusMillis(30).plus(Pipeline.INCIDENT_TICK));
    d.dispose();
  }

  @Test
  void aProcessStartIsStillGatheredForTheWholeGroupWindow() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(unknown(PID, "exec", "/opt/py/python3", "ee".repeat(32)));
    vts.advanceTimeBy(Duration.ofMillis(600));
    assertThat(about(PID)).as("no act: still gathering what the process maps").isEmpty();
    source.tryEmitNext(unknown(PID, "executable mapping", "/opt/py/mod.so", "ef".repeat(32)));
    vts.advanceTimeBy(Duration.ofMillis(1100));
    assertThat(about(PID)).hasSize(1);
    assertThat(about(PID).get(0).details()).containsEntry(Grouping.ITEM_COUNT, 2);
    d.dispose();
  }

  @Test
  void anActThatGoesOnIsReportedWithinFiveActWindowsAndItsRepeatsAreCounted() {
    alive.put(PID, 1000L);
    Disposable d = run();
    // A debugger poking every 100 ms for 3 s: the group never falls quiet for a window.
    for (int i = 0; i < 30; i++) {
      source.tryEmitNext(memWrite(PID, "PTRACE_POKETEXT"));
      vts.advanceTimeBy(Duration.ofMillis(100));
      if (i == 10) {
        assertThat(about(PID)).as("reported by 5 act windows after the first poke").hasSize(1);
      }
    }
    vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(about(PID)).as("the same poke again is counted, not reported").hasSize(1);
    assertThat(book.openIncidents().get(0).occurrences()).isGreaterThan(1);
    d.dispose();
  }

  @Test
  void codeFoundLaterThanTheActWindowIsAnUpdateOfTheSameIncident() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(memWrite(PID, "PROC_PID_MEM_WRITE"));
    vts.advanceTimeBy(Duration.ofMillis(400)); // a verification slowed down by a loaded host
    Instant found = now();
    source.tryEmitNext(codeFoundAfter(PID, "PROC_PID_MEM_WRITE"));
    vts.advanceTimeBy(Duration.ofSeconds(2));

    assertThat(about(PID))
        .extracting(e -> e.incident().state())
        .containsExactly(IncidentState.OPENED, IncidentState.UPDATED);
    assertThat(Duration.between(found, about(PID).get(1).time()))
        .as("the act's consequence is timed like the act")
        .isLessThanOrEqualTo(IncidentBook.DEFAULT_ACT_WINDOW.plus(Pipeline.INCIDENT_TICK));
    assertThat(about(PID).get(1).incident().id()).isEqualTo(about(PID).get(0).incident().id());
    assertThat(about(PID).get(1).details().get("finding")).isEqualTo("CODE_MODIFIED");
    d.dispose();
  }

  @Test
  void codeFoundModifiedRightAfterAWriteJoinsTheWritesIncidentAndReattestationAddsNoOther() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(memWrite(PID, "PROC_PID_MEM_WRITE"));
    // The target verified at once (measured 6-27 ms after the write): a live finding, not a
    // check's.
    vts.advanceTimeBy(Duration.ofMillis(30));
    source.tryEmitNext(codeFoundAfter(PID, "PROC_PID_MEM_WRITE"));
    vts.advanceTimeBy(Duration.ofSeconds(3));
    // Re-attestation finds the same patch again, twice.
    source.tryEmitNext(codeModified(PID, 0x1000));
    vts.advanceTimeBy(Duration.ofSeconds(3));
    source.tryEmitNext(codeModified(PID, 0x1000));
    vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(about(PID))
        .as("the write and the code it changed: one event, nothing from re-attestation")
        .hasSize(1);
    SecurityEvent e = about(PID).get(0);
    assertThat(e.incident().state()).isEqualTo(IncidentState.OPENED);
    assertThat(e.details().get("items").toString()).contains("CODE_MODIFIED");
    assertThat(book.openIncidents()).hasSize(1);
    assertThat(book.openIncidents().get(0).occurrences()).isEqualTo(3);

    // Found again just before the process ends (still gathering when it ends, whichever of the
    // group and the liveness check comes first): counted in the resolution, not a report of its
    // own.
    source.tryEmitNext(codeModified(PID, 0x1000));
    vts.advanceTimeBy(Duration.ofMillis(900));
    alive.remove(PID);
    vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(about(PID)).hasSize(2);
    SecurityEvent resolved = about(PID).get(1);
    assertThat(resolved.incident().state()).isEqualTo(IncidentState.RESOLVED);
    assertThat(resolved.incident().id()).isEqualTo(e.incident().id());
    assertThat(resolved.incident().occurrences()).isEqualTo(4);
    d.dispose();
  }

  @Test
  void aCheckThatPassesAgainResolvesItsIncidentAsConditionCleared() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(codeModified(PID, 1));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    book.checkPassed(PID, "re-attestation", Set.of());
    // Within a tick: the book tells the stage, which otherwise waits up to a second for a tick.
    vts.advanceTimeBy(Pipeline.INCIDENT_TICK.plusMillis(1));

    assertThat(about(PID))
        .extracting(e -> e.incident().state())
        .containsExactly(IncidentState.OPENED, IncidentState.RESOLVED);
    assertThat(about(PID).get(1).incident().resolution())
        .isEqualTo("condition cleared: re-attestation found it no more");
    d.dispose();
  }

  @Test
  void theAgentsOwnProcessIsNeverTheSubjectOfDriftOrUnknownButAnInjectionAimedAtItIs() {
    alive.put(SELF, 5L);
    Disposable d = run();
    for (int i = 0; i < 60; i++) {
      source.tryEmitNext(
          SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
              .pid(SELF)
              .exe("/usr/lib/jvm/java-17-openjdk-amd64/bin/java", 1, 2, "cc".repeat(32))
              .reason("running process java: MEMORY_MAP failed: anonymous executable " + i * 4096)
              .detail("check", "re-attestation")
              .detail("finding", "ANONYMOUS_EXECUTABLE_MEMORY")
              .build());
      vts.advanceTimeBy(Duration.ofSeconds(1));
    }
    assertThat(about(SELF)).isEmpty();
    assertThat(book.selfSuppressed()).isEqualTo(60);

    source.tryEmitNext(
        SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
            .pid(SELF)
            .reason("ptrace attach by /tmp/evil aimed at java")
            .detail("finding", "CODE_INJECTION_ATTEMPT")
            .detail("technique", "PTRACE_ATTACH")
            .build());
    vts.advanceTimeBy(Duration.ofSeconds(2));
    assertThat(about(SELF)).hasSize(1);
    d.dispose();
  }

  @Test
  void sameUnknownBinaryRunByManyShortProcessesStillFoldsAcrossProcesses() {
    Disposable d = run(); // none of them is alive at its report: each is one resolved event
    for (int i = 0; i < 1000; i++) {
      source.tryEmitNext(unknown(10_000 + i, "exec", "/tmp/helper", "dd".repeat(32)));
      vts.advanceTimeBy(Duration.ofMillis(10));
    }
    vts.advanceTimeBy(Duration.ofSeconds(30));

    List<SecurityEvent> all = new ArrayList<>(out);
    assertThat(all.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(1000);
    assertThat(all).hasSizeLessThanOrEqualTo(3);
    d.dispose();
  }

  @Test
  void aTickMergesGroupsAndReadsWhetherTheirProcessesRunWithoutHoldingTheBook() {
    // The ring reader offers every exec to the book: a tick must not keep it for that work.
    List<Boolean> bookHeld = new CopyOnWriteArrayList<>();
    IncidentBook[] b = new IncidentBook[1];
    ProcessLiveness watched =
        new ProcessLiveness() {
          @Override
          public OptionalLong startTicks(int pid) {
            bookHeld.add(Thread.holdsLock(b[0]));
            return liveness.startTicks(pid);
          }

          @Override
          public boolean stillRuns(int pid, long startTicks) {
            return liveness.stillRuns(pid, startTicks);
          }
        };
    b[0] = new IncidentBook(IncidentBook.Settings.defaults(1000, SELF), watched);
    alive.put(PID, 1L);
    Instant t0 = now();
    b[0].offer(unknown(PID, "exec", "/opt/tool/bin/tool", "ab".repeat(32)), t0);
    b[0].offer(unknown(PID, "mmap", "/opt/tool/lib/libtool.so", "cd".repeat(32)), t0);

    List<SecurityEvent> reported = b[0].tick(t0.plus(Duration.ofSeconds(2)));

    assertThat(reported).singleElement().satisfies(e -> assertThat(e.reason()).contains("1 more"));
    assertThat(bookHeld).isNotEmpty().containsOnly(false);
  }

  /**
   * What the classify stage does with an exec: hands it to the book as a repeat, and offers its
   * event only when the book does not count it; {@code built} counts the events built.
   */
  private void exec(int pid, String path, String sha, List<Integer> built) {
    IncidentBook.ExecKey key = new IncidentBook.ExecKey(EventType.UNKNOWN_EXECUTION, sha, path);
    if (!book.offerRepeat(
        key,
        null,
        pid,
        now(),
        () -> false,
        () -> {
          built.add(pid);
          return unknown(pid, "exec", path, sha);
        })) {
      built.add(pid);
      source.tryEmitNext(unknown(pid, "exec", path, sha));
    }
  }

  @Test
  void anExecStormOfAnUnknownBinaryBuildsTheEventsItReportsOnlyAndCountsEveryExec() {
    Disposable d = run(); // none of them is alive when settled
    List<Integer> built = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      exec(20_000 + i, "/tmp/storm-child", "ee".repeat(32), built);
      vts.advanceTimeBy(Duration.ofMillis(2));
    }
    vts.advanceTimeBy(Duration.ofSeconds(30));

    List<SecurityEvent> all = new ArrayList<>(out);
    assertThat(all.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(5000);
    assertThat(all).hasSizeLessThanOrEqualTo(3);
    assertThat(all.get(0).count()).isEqualTo(1);
    assertThat(all.get(0).incident().state()).isEqualTo(IncidentState.RESOLVED);
    // Built: the first exec only; from the second on they are counted (once a group window of
    // them, ~500 at 2 ms each, was built until the first was reported).
    assertThat(built).containsExactly(20_000);
    assertThat(all.get(all.size() - 1).details()).containsKey("aggregateOf");
    List<?> pids = (List<?>) all.get(1).details().get(IncidentBook.PIDS);
    assertThat(pids).as("the first processes folded in the window").hasSize(16);
    assertThat(pids.contains(20_001)).isTrue();
    assertThat(book.resolvedCount()).isEqualTo(5000);
    d.dispose();
  }

  @Test
  void countedExecsAreReportedOncePerGroupWindowNotOnEveryTick() {
    IncidentBook b = new IncidentBook(IncidentBook.Settings.defaults(1000, SELF), liveness);
    String path = "/tmp/storm-child";
    String sha = "cc".repeat(32);
    IncidentBook.ExecKey key = new IncidentBook.ExecKey(EventType.UNKNOWN_EXECUTION, sha, path);
    List<SecurityEvent> events =
        new ArrayList<>(b.offer(unknown(60_000, "exec", path, sha), now()));
    // 4 s at 500 exec/s, the timer ticking as in the pipeline.
    for (int i = 1; i < 2000; i++) {
      vts.advanceTimeBy(Duration.ofMillis(2));
      int pid = 60_000 + i;
      assertThat(
              b.offerRepeat(
                  key, null, pid, now(), () -> true, () -> unknown(pid, "exec", path, sha)))
          .isTrue();
      if (i % 25 == 0) {
        events.addAll(b.tick(now()));
      }
    }
    for (int i = 0; i < 60; i++) {
      vts.advanceTimeBy(Pipeline.INCIDENT_TICK);
      events.addAll(b.tick(now()));
    }
    List<SecurityEvent> counted =
        events.stream().filter(e -> e.details().containsKey(IncidentBook.PIDS)).toList();
    assertThat(counted.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(1999);
    // One report a group window (one per 50-ms tick before: about 80 for these 4 s).
    assertThat(counted).hasSizeBetween(4, 6);
  }

  /** A kernel that counts the execs of the files it is asked to count, as the probe does. */
  private static final class CountingKernel implements MappingFilter {
    final Map<FileIdentity, ExecCount> counts = new ConcurrentHashMap<>();
    final List<FileIdentity> started = new ArrayList<>();
    final List<FileIdentity> stopped = new ArrayList<>();
    final java.util.concurrent.atomic.AtomicInteger reads =
        new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void skip(ExecutableFile file) {}

    @Override
    public void reset() {
      counts.clear();
    }

    @Override
    public boolean countExecs(FileIdentity file) {
      started.add(file);
      counts.putIfAbsent(file, new ExecCount(0, Instant.EPOCH, Instant.EPOCH, 0));
      return true;
    }

    @Override
    public Optional<ExecCount> execCount(FileIdentity file) {
      reads.incrementAndGet();
      return Optional.ofNullable(counts.get(file));
    }

    @Override
    public void stopCounting(FileIdentity file) {
      stopped.add(file);
      counts.remove(file);
    }

    /** An exec the probe counted (nothing when the file is not counted). */
    void exec(FileIdentity file, Instant time, int pid) {
      counts.computeIfPresent(
          file,
          (f, c) -> new ExecCount(c.execs() + 1, c.execs() == 0 ? time : c.first(), time, pid));
    }
  }

  /** An exec storm of one unknown binary, {@code /tmp/storm-child}, whose file is {@code file}. */
  private final class Storm {
    private final String path = "/tmp/storm-child";
    private final String sha;
    private final FileIdentity file;

    /** Its digest is {@code hexByte} 32 times, its file the inode {@code inode}. */
    Storm(String hexByte, long inode) {
      this.sha = hexByte.repeat(32);
      this.file = new FileIdentity(8, inode, 1, 4096);
    }

    FileIdentity file() {
      return file;
    }

    /** The finding about its exec by {@code pid}, built now. */
    SecurityEvent exec(int pid) {
      return unknown(pid, "exec", path, sha);
    }

    /** Whether {@code b} counts the exec by {@code pid} now (an ended process) as a repeat. */
    boolean countedIn(IncidentBook b, int pid) {
      IncidentBook.ExecKey key = new IncidentBook.ExecKey(EventType.UNKNOWN_EXECUTION, sha, path);
      return b.offerRepeat(key, file, pid, now(), () -> true, () -> null);
    }
  }

  /** A book whose repeats {@code kernel} counts. */
  private IncidentBook countingIn(CountingKernel kernel) {
    IncidentBook b = new IncidentBook(IncidentBook.Settings.defaults(1000, SELF), liveness);
    b.countExecsIn(kernel);
    return b;
  }

  /** The execs that the repeat reports among {@code events} count. */
  private static long countedExecs(List<SecurityEvent> events) {
    return events.stream()
        .filter(e -> e.details().containsKey(IncidentBook.PIDS))
        .mapToLong(SecurityEvent::count)
        .sum();
  }

  @Test
  void execsCountedInTheKernelAreReportedLikeTheOnesCountedHere() {
    CountingKernel kernel = new CountingKernel();
    IncidentBook b = countingIn(kernel);
    Storm storm = new Storm("ce", 4242);
    List<SecurityEvent> events = new ArrayList<>(b.offer(storm.exec(70_000), now()));
    vts.advanceTimeBy(Duration.ofMillis(2));
    // The second exec is counted here, the next ones in the kernel only.
    assertThat(storm.countedIn(b, 70_001)).isTrue();
    FileIdentity file = storm.file();
    assertThat(kernel.started).containsExactly(file);
    Instant lastExec = null;
    for (int i = 2; i < 2000; i++) { // 4 s at 500 exec/s, the timer ticking as in the pipeline
      vts.advanceTimeBy(Duration.ofMillis(2));
      lastExec = now();
      kernel.exec(file, lastExec, 70_000 + i);
      if (i % 25 == 0) {
        events.addAll(b.tick(now()));
      }
    }
    assertThat(kernel.stopped).isEmpty();
    for (int i = 0; i < 60; i++) {
      vts.advanceTimeBy(Pipeline.INCIDENT_TICK);
      events.addAll(b.tick(now()));
    }
    List<SecurityEvent> counted =
        events.stream().filter(e -> e.details().containsKey(IncidentBook.PIDS)).toList();
    assertThat(counted.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(1999);
    assertThat(counted).hasSizeBetween(4, 6);
    assertThat(events.get(0).details()).as("the first exec goes first").doesNotContainKey("pids");
    assertThat(events.get(0).count()).isEqualTo(1);
    assertThat(counted.get(counted.size() - 1).lastSeen()).isEqualTo(lastExec);
    assertThat(counted.get(0).firstSeen()).isBefore(counted.get(0).lastSeen());
    // A group window without an exec: the kernel reports the file's execs again.
    assertThat(kernel.stopped).containsExactly(file);
  }

  @Test
  void theStageReadsTheKernelsCountsOnceAGroupWindowNotOnEveryTick() {
    CountingKernel kernel = new CountingKernel();
    Disposable d = run(countingIn(kernel));
    Storm storm = new Storm("cf", 4343);
    source.tryEmitNext(storm.exec(71_000));
    vts.advanceTimeBy(Duration.ofMillis(2));
    assertThat(storm.countedIn(book, 71_001)).isTrue();
    FileIdentity file = storm.file();
    for (int i = 2; i < 2000; i++) { // 4 s at 500 exec/s, counted in the kernel only
      vts.advanceTimeBy(Duration.ofMillis(2));
      kernel.exec(file, now(), 71_000 + i);
    }
    vts.advanceTimeBy(Duration.ofSeconds(30));

    assertThat(out.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(2000);
    assertThat(kernel.stopped).containsExactly(file);
    // One tick per 50 ms read it 80 times in these 4 s; now the ticks come when a report or the
    // key's expiry is due: about once a group window.
    assertThat(kernel.reads.get()).isBetween(4, 8);
    d.dispose();
  }

  @Test
  void aStormOfEightBinariesTicksTheBookAFewTimesAWindowNotOncePerBinary() {
    CountingKernel kernel = new CountingKernel();
    Disposable d = run(countingIn(kernel));
    List<Storm> storms = new ArrayList<>();
    int pid = 100_000;
    // Eight unknown binaries whose storms start 110 ms apart, so their reports come due apart.
    for (int k = 0; k < 8; k++) {
      Storm storm = new Storm("c" + k, 5000 + k);
      storms.add(storm);
      source.tryEmitNext(storm.exec(pid++));
      vts.advanceTimeBy(Duration.ofMillis(10));
      assertThat(storm.countedIn(book, pid++)).isTrue();
      vts.advanceTimeBy(Duration.ofMillis(100));
    }
    int before = 0;
    for (int i = 0; i < 600; i++) { // 6 s at 100 exec/s each, counted in the kernel only
      if (i == 200) {
        before = kernel.reads.get(); // the first execs' reports are out
      }
      vts.advanceTimeBy(Duration.ofMillis(10));
      for (Storm storm : storms) {
        kernel.exec(storm.file(), now(), pid++);
      }
    }
    int reads = kernel.reads.get() - before;
    vts.advanceTimeBy(Duration.ofSeconds(30));

    assertThat(out.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(pid - 100_000);
    assertThat(kernel.stopped)
        .containsExactlyInAnyOrderElementsOf(storms.stream().map(Storm::file).toList());
    // Each tick reads the eight keys' counts. A tick per binary and window read them 8 x 8 times
    // a second (256 reads in the storm's last 4 s); on the grid of half a window, 2 x 8 (64).
    assertThat(reads).isBetween(4 * 8, 4 * 2 * 8 + 8);
    d.dispose();
  }

  @Test
  void aFileRunByTwoPathsIsCountedInTheKernelOnce() {
    CountingKernel kernel = new CountingKernel();
    IncidentBook b = countingIn(kernel);
    String sha = "cd".repeat(32);
    FileIdentity file = new FileIdentity(8, 4444, 1, 4096); // one file, two hard links
    List<SecurityEvent> events = new ArrayList<>();
    int pid = 90_000;
    for (String path : List.of("/tmp/link-a", "/tmp/link-b")) {
      IncidentBook.ExecKey key = new IncidentBook.ExecKey(EventType.UNKNOWN_EXECUTION, sha, path);
      events.addAll(b.offer(unknown(pid++, "exec", path, sha), now()));
      assertThat(b.offerRepeat(key, file, pid++, now(), () -> true, () -> null)).isTrue();
    }
    assertThat(kernel.started).containsExactly(file);
    for (int i = 0; i < 10; i++) {
      vts.advanceTimeBy(Duration.ofMillis(10));
      kernel.exec(file, now(), pid++);
    }
    for (int i = 0; i < 60; i++) {
      vts.advanceTimeBy(Pipeline.INCIDENT_TICK);
      events.addAll(b.tick(now()));
    }
    assertThat(countedExecs(events)).as("2 counted here, 10 in the kernel").isEqualTo(12);
    assertThat(kernel.stopped).containsExactly(file);
  }

  @Test
  void aFileTheKernelStoppedCountingIsCountedThereAgainFromItsNextReportedExec() {
    CountingKernel kernel = new CountingKernel();
    IncidentBook b = countingIn(kernel);
    Storm storm = new Storm("cf", 4343);
    FileIdentity file = storm.file();
    List<SecurityEvent> events = new ArrayList<>(b.offer(storm.exec(80_000), now()));
    assertThat(storm.countedIn(b, 80_001)).isTrue();
    for (int pid = 80_002; pid < 80_005; pid++) {
      vts.advanceTimeBy(Duration.ofMillis(10));
      kernel.exec(file, now(), pid);
    }
    events.addAll(b.tick(now()));
    kernel.counts.clear(); // evicted
    vts.advanceTimeBy(Pipeline.INCIDENT_TICK);
    events.addAll(b.tick(now()));
    // Its next exec is reported (the kernel no longer counts it) and counted here: the kernel
    // counts the ones after it again.
    assertThat(storm.countedIn(b, 80_005)).isTrue();
    assertThat(kernel.started).containsExactly(file, file);
    vts.advanceTimeBy(Duration.ofMillis(10));
    kernel.exec(file, now(), 80_006);
    for (int i = 0; i < 60; i++) {
      vts.advanceTimeBy(Pipeline.INCIDENT_TICK);
      events.addAll(b.tick(now()));
    }
    assertThat(countedExecs(events)).isEqualTo(6);
  }

  @Test
  void aCountedExecWhoseProcessStillRunsIsItsOwnIncident() {
    Disposable d = run();
    List<Integer> built = new ArrayList<>();
    exec(30_000, "/tmp/helper", "dd".repeat(32), built);
    vts.advanceTimeBy(Duration.ofSeconds(2)); // reported resolved: its next execs are counted
    alive.put(30_001, 5L);
    exec(30_001, "/tmp/helper", "dd".repeat(32), built);
    vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(built).containsExactly(30_000, 30_001);
    assertThat(book.openIncidents())
        .extracting(IncidentBook.OpenIncident::pid)
        .containsExactly(30_001);
    alive.remove(30_001);
    vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(out.stream().mapToLong(SecurityEvent::count).sum()).isEqualTo(3); // open + resolved
    d.dispose();
  }

  @Test
  void anotherFindingAboutACountedProcessIsGroupedWithItsExec() {
    Disposable d = run();
    List<Integer> built = new ArrayList<>();
    exec(40_000, "/tmp/helper", "dd".repeat(32), built);
    vts.advanceTimeBy(Duration.ofSeconds(2));
    exec(40_001, "/tmp/helper", "dd".repeat(32), built);
    source.tryEmitNext(unknown(40_001, "executable mapping", "/tmp/libx.so", "cc".repeat(32)));
    vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(about(40_001)).hasSize(1);
    assertThat(about(40_001).get(0).details()).containsEntry(Grouping.ITEM_COUNT, 2);
    assertThat(about(40_001).get(0).exe().path()).isEqualTo("/tmp/helper");
    d.dispose();
  }

  /** What an alert's verification reports about a patched process: asked by {@code rule}. */
  private SecurityEvent askedDrift(int pid, String rule, String alertId) {
    return SecurityEvent.builder(EventType.RUNTIME_DRIFT, now())
        .pid(pid)
        .exe("/opt/app/server", 2049, 131, PATCHED_SHA)
        .reason("Falco rule '" + rule + "' → RUNTIME_DRIFT: running process /opt/app/server: …")
        .detail("check", "alert")
        .detail(IncidentBook.ASKED_BY, "falco/" + rule)
        .detail("alert", Map.of("source", "falco", "id", alertId, "rule", rule))
        .detail("finding", "CODE_MODIFIED")
        .detail("scope", "MEMORY_CODE")
        .finding("CODE_MODIFIED", "MEMORY_CODE", "code at 0x1", Map.of())
        .build();
  }

  @Test
  void anAlertAboutWhatAnIncidentHoldsIsReportedOncePerRuleInThatIncident() {
    alive.put(PID, 1000L);
    Disposable d = run();
    source.tryEmitNext(codeModified(PID, 1));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    String id = about(PID).get(0).incident().id();

    // Falco asks about the process: its answer names the alert, in the open incident.
    source.tryEmitNext(askedDrift(PID, "Terminal shell in container", "u-1"));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    // The same rule again (a later alert, after the intake's fold window): counted only.
    source.tryEmitNext(askedDrift(PID, "Terminal shell in container", "u-2"));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    // Another rule is another question: answered once more.
    source.tryEmitNext(askedDrift(PID, "Read sensitive file untrusted", "u-3"));
    vts.advanceTimeBy(Duration.ofSeconds(2));

    List<SecurityEvent> asked =
        about(PID).stream().filter(e -> e.details().containsKey("alert")).toList();
    assertThat(asked).hasSize(2);
    assertThat(asked).allMatch(e -> e.incident().id().equals(id));
    assertThat(asked).allMatch(e -> e.incident().state() == IncidentState.UPDATED);
    assertThat(asked.get(0).reason()).startsWith("Falco rule 'Terminal shell in container' → ");
    assertThat(asked.get(1).details().get("alert")).asString().contains("u-3");
    assertThat(asked.get(1).incident().occurrences()).isEqualTo(4);
    assertThat(about(PID)).hasSize(3);
    d.dispose();
  }

  @Test
  void anAlertAboutAnUnknownProcessJoinsItsExecIncident() {
    alive.put(PID, 1000L);
    Disposable d = run();
    String sha = "ef".repeat(32);
    source.tryEmitNext(unknown(PID, "exec", "/tmp/x", sha));
    vts.advanceTimeBy(Duration.ofSeconds(2));
    String id = about(PID).get(0).incident().id();
    // What Classifier.answer makes of an UNKNOWN verdict: no finding fact, like the exec event.
    for (String alertId : List.of("u-1", "u-2")) {
      source.tryEmitNext(
          SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, now())
              .pid(PID)
              .exe("/tmp/x", 2049, "/tmp/x".hashCode(), sha)
              .reason(
                  "Falco rule 'Drop and execute new binary in container' → UNKNOWN_EXECUTION: …")
              .detail("check", "alert")
              .detail(IncidentBook.ASKED_BY, "falco/Drop and execute new binary in container")
              .detail("alert", Map.of("source", "falco", "id", alertId))
              .detail(Grouping.OBSERVED, "running process")
              .finding("UNKNOWN_BINARY", "DISK_HASH", "no reference", Map.of())
              .build());
      vts.advanceTimeBy(Duration.ofSeconds(2));
    }
    assertThat(about(PID)).hasSize(2);
    SecurityEvent answered = about(PID).get(1);
    assertThat(answered.incident().id()).as("joins the exec's incident").isEqualTo(id);
    assertThat(answered.incident().state()).isEqualTo(IncidentState.UPDATED);
    assertThat(answered.details().get("alert")).asString().contains("u-1");
    assertThat(book.openIncidents()).hasSize(1);
    d.dispose();
  }

  @Test
  void anAlertAboutAProcessWithoutAnIncidentOpensOneAndItsRepeatsAreCounted() {
    alive.put(PID, 1000L);
    Disposable d = run();
    for (int i = 0; i < 100; i++) {
      source.tryEmitNext(askedDrift(PID, "Drop and execute new binary in container", "u" + i));
      vts.advanceTimeBy(Duration.ofSeconds(3));
    }
    List<SecurityEvent> reported =
        about(PID).stream().filter(e -> e.incident().state() != IncidentState.REMINDER).toList();
    assertThat(reported).hasSize(1);
    assertThat(reported.get(0).incident().state()).isEqualTo(IncidentState.OPENED);
    assertThat(reported.get(0).details().get("alert")).asString().contains("id=u0");
    d.dispose();
  }

  @Test
  void eventsNotAboutAProcessPassAtOnce() {
    Disposable d = run();
    source.tryEmitNext(
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, now())
            .reason("probe program x not attached")
            .build());
    assertThat(out).hasSize(1);
    assertThat(out.get(0).incident()).isNull();
    d.dispose();
  }
}
