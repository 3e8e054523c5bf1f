package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import reactor.core.publisher.Flux;

/**
 * Stage 4: observations into security events through the {@link Classifier}. Executed and mapped
 * files by their verdict; fileless (memfd) and deleted executables, anonymous executable memory and
 * injection syscalls as RUNTIME_DRIFT. Anonymous executable memory is tolerated only for
 * executables whose verified SHA-256 is in the JIT allowance, never by name or path.
 *
 * <p>Takes batches of observations (see {@link Pipeline#runBatches}) and emits security events one
 * by one: the end of batching, as what follows works on the few events that say something. A batch
 * of execs and mappings of verified files (the steady state) emits nothing.
 */
public final class ClassifyStage implements Function<Flux<List<Observation>>, Flux<SecurityEvent>> {
  private final Classifier classifier;
  private final ProcessTable table;
  private final Set<String> jitAllowance;
  private final PipelineMetrics metrics;
  private final DropLedger ledger;
  private final MappingFilter mappingFilter;
  private final IncidentBook incidents;

  /**
   * With {@code incidents} (may be null): an exec that the book counts as a repeat of one it
   * reported ({@link IncidentBook#offerRepeat}) is handed to it unbuilt, its event built only if it
   * is reported after all.
   */
  public ClassifyStage(
      Classifier classifier,
      ProcessTable table,
      Set<String> jitAllowance,
      PipelineMetrics metrics,
      DropLedger ledger,
      MappingFilter mappingFilter,
      IncidentBook incidents) {
    this.incidents = incidents;
    this.ledger = ledger;
    this.mappingFilter = mappingFilter;
    this.classifier = classifier;
    this.table = table;
    this.jitAllowance = Set.copyOf(jitAllowance);
    this.metrics = metrics;
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<List<Observation>> batches) {
    return batches.concatMapIterable(this::classifyBatch);
  }

  private List<SecurityEvent> classifyBatch(List<Observation> batch) {
    List<SecurityEvent> out = List.of();
    for (int i = 0; i < batch.size(); i++) {
      List<SecurityEvent> events = classifySafely(batch.get(i));
      if (events.isEmpty()) {
        continue;
      }
      if (out.isEmpty()) {
        out = new ArrayList<>(events.size());
      }
      for (SecurityEvent e : events) {
        metrics.emitted(e.type().name());
        out.add(e);
      }
    }
    return out;
  }

  /**
   * A bug in classification must not stop the agent: the observation is counted as not handled
   * (reported as VERIFICATION_DEGRADED by the drop reporter) and the stream goes on.
   */
  private List<SecurityEvent> classifySafely(Observation o) {
    try {
      return classify(o);
    } catch (RuntimeException e) {
      ledger.increment("stage.classify.error");
      return List.of();
    }
  }

  List<SecurityEvent> classify(Observation o) {
    List<SecurityEvent> out = new ArrayList<>();
    if (o.event() instanceof ExecEvent e) {
      int pid = e.task().tgid();
      if (e.late() && incidents != null && incidents.countsInKernel(e.file().identity())) {
        return out; // the kernel counted this exec already, in a repeat report to come
      }
      if (countedAsRepeat(e, o.check())) {
        metrics.emitted(Classifier.executionType(o.check()).name());
        return out;
      }
      classifier.execution(pid, "exec", o.check(), b -> context(b, pid)).ifPresent(out::add);
      fileDrift(pid, "executed", e.file(), o.check()).ifPresent(out::add);
      if (out.isEmpty() && quietable(e.file(), o.check())) {
        // Nothing to say about this executable: let the probe count its next execs instead of
        // sending them (a JIT runtime is always followed: its code maps need its digest at hand).
        mappingFilter.skipExecs(e.file());
      }
    } else if (o.event() instanceof ScannedProcess s && o.check() != null) {
      classifier
          .execution(s.pid(), "running process", o.check(), b -> context(b, s.pid()))
          .ifPresent(out::add);
      s.executable().flatMap(x -> fileDrift(s.pid(), "runs", x, o.check())).ifPresent(out::add);
    } else if (o.event() instanceof ExecMappingEvent m) {
      int pid = m.task().tgid();
      classifier
          .execution(pid, "executable mapping", o.check(), b -> context(b, pid))
          .ifPresent(out::add);
      fileDrift(pid, "mapped executable", m.file(), o.check()).ifPresent(out::add);
      if (out.isEmpty()
          && m.source() == MappingSource.MMAP
          && !m.file().deleted()
          && !m.file().memfd()) {
        // Nothing to say about this file: let the probe count its next mappings instead of sending
        // them.
        mappingFilter.skip(m.file());
      }
    } else if (o.event() instanceof AnonymousExecEvent a) {
      anonymous(a, o.check()).ifPresent(out::add);
    } else if (o.event() instanceof InjectionEvent i) {
      out.add(injection(i));
    } else if (o.event() instanceof FileWriteEvent w) {
      List<Integer> mappers = ProcessMappings.mapping(w.file().identity());
      out.add(
          w.reasons().contains(WatchReason.SELF) ? selfWrite(w, mappers) : fileWrite(w, mappers));
    }
    return out;
  }

  /**
   * Whether the incident book took this exec as a repeat: an executable whose execs are reported
   * already (an exec storm of an unknown binary). Its event (with the parent chain as it is then)
   * is built only if the book needs it.
   */
  private boolean countedAsRepeat(ExecEvent e, ExecutableCheck check) {
    if (incidents == null || check == null || e.file().memfd() || e.file().deleted()) {
      return false;
    }
    EventType type = Classifier.executionType(check);
    if (type == null || !check.verified()) {
      return false;
    }
    int pid = e.task().tgid();
    return incidents.offerRepeat(
        new IncidentBook.ExecKey(type, check.verification().sha256(), check.path()),
        e.file().identity(),
        pid,
        classifier.now(),
        () -> table.sawExit(pid, e.file().identity()),
        () -> classifier.execution(pid, "exec", check, b -> context(b, pid)).orElseThrow());
  }

  private boolean quietable(ExecutableFile file, ExecutableCheck check) {
    return check != null
        && check.verified()
        && !file.deleted()
        && !file.memfd()
        && !jitAllowance.contains(check.verification().sha256());
  }

  private Optional<SecurityEvent> fileDrift(
      int pid, String verb, ExecutableFile file, ExecutableCheck check) {
    String sha = check != null && check.verified() ? check.verification().sha256() : null;
    if (file.memfd()) {
      return Optional.of(
          classifier.drift(
              pid,
              file.path(),
              file.identity(),
              sha,
              "fileless execution: "
                  + verb
                  + " a memfd ("
                  + file.path()
                  + "), code that exists on no file system",
              Map.of("finding", "MEMFD_EXECUTION", Grouping.OBSERVED, observed(verb))));
    }
    if (file.deleted()) {
      return Optional.of(
          classifier.drift(
              pid,
              file.path(),
              file.identity(),
              sha,
              verb + " a deleted file " + file.path() + " (unlinked while in use)",
              Map.of("finding", "BINARY_DELETED", Grouping.OBSERVED, observed(verb))));
    }
    return Optional.empty();
  }

  /** What {@link Classifier#execution} calls the same observation. */
  private static String observed(String verb) {
    return switch (verb) {
      case "executed" -> "exec";
      case "runs" -> "running process";
      default -> "executable mapping";
    };
  }

  /**
   * {@code check}: the process's executable, when its digest was not in the table yet; may be null.
   */
  private Optional<SecurityEvent> anonymous(AnonymousExecEvent a, ExecutableCheck check) {
    int pid = a.task().tgid();
    Optional<ProcessTable.Entry> proc = table.get(pid);
    String exe = proc.map(ProcessTable.Entry::exePath).orElse("comm " + a.task().comm());
    String sha =
        proc.map(ProcessTable.Entry::sha256)
            .orElse(
                proc.isPresent() && check != null && check.verified()
                    ? check.verification().sha256()
                    : null);
    if (sha != null && jitAllowance.contains(sha)) {
      return Optional.empty();
    }
    if (a.source() == MappingSource.MPROTECT && fileBacked(pid, a.address())) {
      return Optional
          .empty(); // mprotect of a file mapping: covered by the mapping's own verification
    }
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("finding", "ANONYMOUS_EXECUTABLE_MEMORY");
    facts.put("address", "0x" + Long.toHexString(a.address()));
    facts.put("length", a.length());
    facts.put("source", a.source().name().toLowerCase());
    facts.put("writable", (a.prot() & 0x2) != 0);
    String rwx = (a.prot() & 0x2) != 0 ? "writable+executable" : "executable";
    return Optional.of(
        classifier.drift(
            pid,
            proc.map(ProcessTable.Entry::exePath).orElse(null),
            proc.map(ProcessTable.Entry::identity).orElse(null),
            sha,
            "anonymous "
                + rwx
                + " memory created by "
                + a.source().name().toLowerCase()
                + " in "
                + exe
                + (sha == null ? "" : " (not in the JIT allowance)"),
            facts));
  }

  SecurityEvent injection(InjectionEvent i) {
    int pid = i.task().tgid();
    Optional<ProcessTable.Entry> actor = table.get(pid);
    Optional<ProcessTable.Entry> target = table.get(i.targetPid());
    String actorExe = actor.map(ProcessTable.Entry::exePath).orElse("comm " + i.task().comm());
    String targetExe = target.map(ProcessTable.Entry::exePath).orElse("a process");
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("finding", "CODE_INJECTION_ATTEMPT");
    facts.put("technique", i.technique().name());
    facts.put("actorPid", pid);
    facts.put("targetPid", i.targetPid());
    // process_vm_writev's pointer is the writer's own array of remote iovecs, not a target address
    // (the verification the write triggers names the code it changed).
    if (i.technique() == InjectionTechnique.PROCESS_VM_WRITEV) {
      facts.put("remoteIovecs", i.count());
    } else if (i.address() != 0) {
      facts.put("address", "0x" + Long.toHexString(i.address()));
    }
    return classifier.drift(
        i.targetPid(),
        target.map(ProcessTable.Entry::exePath).orElse(null),
        target.map(ProcessTable.Entry::identity).orElse(null),
        target.map(ProcessTable.Entry::sha256).orElse(null),
        i.technique().name().toLowerCase().replace('_', ' ')
            + " by "
            + actorExe
            + " aimed at "
            + targetExe,
        facts);
  }

  /**
   * A file that processes map executable (the probe watches the files it was told to skip) was
   * opened for writing or truncated: the code those processes run may change under them. Reported
   * as the writer's act, naming the file and the processes that map it now ({@code mappers}).
   */
  SecurityEvent fileWrite(FileWriteEvent w, List<Integer> mappers) {
    int pid = w.task().tgid();
    Optional<ProcessTable.Entry> writer = table.get(pid);
    String writerExe = writer.map(ProcessTable.Entry::exePath).orElse("comm " + w.task().comm());
    String what =
        switch (w.operation()) {
          case OPEN_FOR_WRITE -> w.truncated() ? "truncated (O_TRUNC)" : "opened for writing";
          case FTRUNCATE -> "truncated (ftruncate)";
        };
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("finding", "MAPPED_FILE_WRITTEN");
    facts.put("file", w.file().path());
    facts.put("operation", w.operation().name());
    facts.put("writerPid", pid);
    facts.put("writerExe", writerExe);
    facts.put("mappedBy", mappers);
    facts.put("watched", w.reasons().stream().map(r -> r.name().toLowerCase()).sorted().toList());
    return classifier.drift(
        pid,
        writer.map(ProcessTable.Entry::exePath).orElse(null),
        writer.map(ProcessTable.Entry::identity).orElse(null),
        writer.map(ProcessTable.Entry::sha256).orElse(null),
        w.file().path()
            + " "
            + what
            + " by "
            + writerExe
            + " while "
            + (mappers.isEmpty() ? "verified and cached" : mappers.size() + " process(es) map it"),
        facts);
  }

  /**
   * A file the agent runs from (its jar, the JVM, libbpf) was opened for writing or truncated by
   * another process: SELF_INTEGRITY_FAILURE at once, naming the writer and the file.
   */
  SecurityEvent selfWrite(FileWriteEvent w, List<Integer> mappers) {
    int pid = w.task().tgid();
    Optional<ProcessTable.Entry> writer = table.get(pid);
    String writerExe = writer.map(ProcessTable.Entry::exePath).orElse("comm " + w.task().comm());
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("component", "own-file");
    facts.put("check", "self-watch");
    facts.put("file", w.file().path());
    facts.put("operation", w.operation().name());
    facts.put("writerPid", pid);
    facts.put("writerExe", writerExe);
    writer.map(ProcessTable.Entry::sha256).ifPresent(sha -> facts.put("writerSha256", sha));
    facts.put("mappedBy", mappers);
    return classifier.selfIntegrity(
        "agent file "
            + w.file().path()
            + (w.truncated() ? " truncated" : " opened for writing")
            + " by pid "
            + pid
            + " ("
            + writerExe
            + ")",
        facts);
  }

  /** Parent chains name at most this many parents. */
  static final int PARENT_DEPTH = 4;

  /** Detail key saying where the parent chain ends early, and why. */
  public static final String PARENTS_END = "parentsEnd";

  /**
   * Adds the parent chain (as the process table knows it when the event is built) and the cgroup
   * (which container or service) the process runs in; where the chain ends before a root or its
   * depth because a process is not known (any more), {@value #PARENTS_END} says so.
   */
  private void context(SecurityEvent.Builder b, int pid) {
    List<ProcessTable.Entry> line = table.ancestryThroughForks(pid, PARENT_DEPTH + 1);
    if (line.size() > 1) {
      List<String> parents = new ArrayList<>(line.size() - 1);
      for (int i = 1; i < line.size(); i++) {
        parents.add(line.get(i).exePath());
      }
      b.detail("parents", Collections.unmodifiableList(parents));
    }
    String end = chainEnd(pid, line);
    if (end != null) {
      b.detail(PARENTS_END, end);
    }
    long cgroup = line.isEmpty() ? 0L : line.get(0).cgroupId();
    if (cgroup != 0) {
      b.detail("cgroupId", cgroup);
    }
  }

  /**
   * The kernel's thread creator in the host's pid namespace, the agent's: the parent of kernel
   * threads and of the programs the kernel starts itself (usermode helpers), none with an
   * executable.
   */
  private static final int KTHREADD = 2;

  /** Why the chain of {@code line} ({@code pid} and its known ancestors) ends early, or null. */
  private static String chainEnd(int pid, List<ProcessTable.Entry> line) {
    if (line.isEmpty()) {
      return "process " + pid + " ended before this event was built: its parents are not known";
    }
    ProcessTable.Entry last = line.get(line.size() - 1);
    if (line.size() > PARENT_DEPTH || last.ppid() <= 1 || last.ppid() == last.pid()) {
      return null;
    }
    if (last.ppid() == KTHREADD) {
      return "started by the kernel (parent pid 2, kthreadd), as a usermode helper is: modprobe,"
          + " a core-dump handler, request-key";
    }
    return "parent pid " + last.ppid() + " not known: it ended before this event was built";
  }

  /** Whether the mapping containing {@code address} is backed by a named, existing file. */
  static boolean fileBacked(int pid, long address) {
    // Process gone or unreadable: report the memory as anonymous, the safer side.
    return ProcessMappings.containing(pid, address)
        .map(m -> m.kind() == dev.veriruntime.verifier.process.MemoryMapping.Kind.FILE)
        .orElse(false);
  }
}
