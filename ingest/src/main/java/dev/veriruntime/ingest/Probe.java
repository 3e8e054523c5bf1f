package dev.veriruntime.ingest;

import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.ingest.kernel.BpfException;
import dev.veriruntime.ingest.kernel.BpfLink;
import dev.veriruntime.ingest.kernel.BpfLoadException;
import dev.veriruntime.ingest.kernel.BpfMaps;
import dev.veriruntime.ingest.kernel.BpfObject;
import dev.veriruntime.ingest.kernel.BpfProgramInfo;
import dev.veriruntime.ingest.kernel.BpfRingBuffer;
import dev.veriruntime.ingest.kernel.Tracefs;
import dev.veriruntime.ingest.record.WireFormat;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loaded, attached probe: the live handle for a {@link ProbeSpec}. It owns the kernel objects
 * (programs, maps, their file descriptors, the links) and the native callbacks of its readers;
 * {@link #close()} stops its readers, detaches and unloads, exactly once.
 *
 * <p>Load policy: a program the kernel refuses to load or attach is reported in {@link
 * #attachReport()} and left out, unless it is required by the spec's wiring (the exec program), in
 * which case {@link #load} fails. Optional accelerators (fentry, lsm) therefore degrade gracefully
 * on kernels that refuse them. After attaching, one log line says either that every program is
 * attached (INFO) or which are not, what is missing and the command that fixes it (WARNING, from
 * {@link AttachReport#summary()}). The product probe uses only BTF-typed tracepoints, which need no
 * tracefs.
 *
 * <p>Thread safety: {@link #attachReport()}, {@link #lostRecords()} and {@link #close()} may be
 * called from any thread; readers run on their own threads.
 *
 * <pre>{@code
 * try (Probe probe = Probe.load(ProbeSpec.veriRuntime(), ProbeSettings.forCurrentProcess())) {
 *   System.err.println(probe.attachReport().describe());
 *   RingBufferReader.events(probe).take(Duration.ofSeconds(10)).subscribe(System.out::println);
 * }
 * }</pre>
 */
public final class Probe implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Probe.class.getName());
  private static final String RODATA = ".rodata";

  private final ProbeSpec spec;
  private final BpfObject object;
  private final List<BpfLink> links;
  private final AttachReport report;
  private final int ringFd;
  private final int lostFd;
  private final int verifiedFilesFd;
  private final int filteredFd;
  private final int watchedFilesFd;
  private final int toolchainExesFd;
  private final int quietExesFd;
  private final int quietTasksFd;
  private final int followTasksFd;
  private final int followExesFd;
  private final int taskCountsFd;
  private final List<RingBufferReader<?>> readers = new CopyOnWriteArrayList<>();
  private boolean closed;
  private long[] reportedLost = new long[0];

  private Probe(ProbeSpec spec, BpfObject object, List<BpfLink> links, AttachReport report) {
    this.spec = spec;
    this.object = object;
    this.links = links;
    this.report = report;
    this.ringFd = object.mapFd(spec.wiring().ringBufferMap());
    this.lostFd =
        spec.wiring().lossCounters() == null
            ? -1
            : object.mapFd(spec.wiring().lossCounters().map());
    ProbeSpec.MappingFilter filter = spec.wiring().mappingFilter();
    this.verifiedFilesFd = filter == null ? -1 : object.mapFd(filter.verifiedFilesMap());
    this.filteredFd = filter == null ? -1 : object.mapFd(filter.filteredCounter());
    ProbeSpec.WriteWatch watch = spec.wiring().writeWatch();
    this.watchedFilesFd = watch == null ? -1 : object.mapFd(watch.watchedFilesMap());
    this.toolchainExesFd =
        spec.maps().contains(WireFormat.Maps.TOOLCHAIN_EXES)
            ? object.mapFd(WireFormat.Maps.TOOLCHAIN_EXES)
            : -1;
    boolean quiet =
        filteredFd >= 0
            && spec.maps().contains(WireFormat.Maps.QUIET_EXES)
            && spec.maps().contains(WireFormat.Maps.QUIET_TASKS);
    this.quietExesFd = quiet ? object.mapFd(WireFormat.Maps.QUIET_EXES) : -1;
    this.quietTasksFd = quiet ? object.mapFd(WireFormat.Maps.QUIET_TASKS) : -1;
    this.followTasksFd = optionalMap(spec, object, WireFormat.Maps.FOLLOW_TASKS);
    this.followExesFd = optionalMap(spec, object, WireFormat.Maps.FOLLOW_EXES);
    this.taskCountsFd = optionalMap(spec, object, WireFormat.Maps.TASK_COUNTS);
  }

  private static int optionalMap(ProbeSpec spec, BpfObject object, String map) {
    return spec.maps().contains(map) ? object.mapFd(map) : -1;
  }

  /**
   * Loads the probe into the kernel and attaches every program it can.
   *
   * @throws ProbeException when libbpf is missing, the object or a required program is refused, or
   *     a required program cannot attach; the message is one line with the errno text
   * @throws IllegalArgumentException when a setting does not exist in the object or does not fit
   */
  public static Probe load(ProbeSpec spec, ProbeSettings settings) {
    Map<String, Long> constants = new HashMap<>(settings.constants());
    if (spec.wiring().ignoredTgidConstant() != null) {
      constants.put(spec.wiring().ignoredTgidConstant(), settings.ignoredTgid());
    }
    byte[] rodata = spec.rodataWith(constants);
    Map<String, ProgramAttachment> refused = new LinkedHashMap<>();
    BpfObject object = null;
    try {
      // Each refused optional program costs one reopen: libbpf cannot resume a failed load.
      for (int attempt = 0; object == null; attempt++) {
        BpfObject candidate = BpfObject.open(spec.name(), spec.objectBytes());
        try {
          for (String program : refused.keySet()) {
            candidate.setAutoload(program, false);
          }
          if (rodata.length > 0) {
            candidate.setInitialValue(RODATA, rodata);
          }
          candidate.setMaxEntries(spec.wiring().ringBufferMap(), settings.ringBufferBytes());
          candidate.load();
          object = candidate;
        } catch (BpfLoadException e) {
          candidate.close();
          String failed = e.failedProgram().orElse(null);
          if (failed == null
              || spec.isRequired(failed)
              || refused.containsKey(failed)
              || attempt > spec.programs().size()) {
            throw new ProbeException(
                "cannot load probe '" + spec.name() + "': " + e.getMessage(), e);
          }
          refused.put(
              failed, attachment(spec, failed, ProgramAttachment.Status.LOAD_REFUSED, e, null));
        } catch (RuntimeException e) {
          candidate.close();
          throw e;
        }
      }
      return attachAll(spec, object, refused, settings.rawSyscallHooks());
    } catch (BpfException e) {
      if (object != null) {
        object.close();
      }
      throw new ProbeException("cannot load probe '" + spec.name() + "': " + e.getMessage(), e);
    }
  }

  private static Probe attachAll(
      ProbeSpec spec,
      BpfObject object,
      Map<String, ProgramAttachment> refused,
      boolean rawSyscallHooks) {
    List<BpfLink> links = new ArrayList<>();
    List<ProgramAttachment> outcomes = new ArrayList<>();
    try {
      Map<String, ProgramAttachment> syscallHooks =
          spec.wiring().syscallHooks() == null
              ? Map.of()
              : attachSyscallHooks(spec, object, refused, rawSyscallHooks, links);
      for (ProbeSpec.ProgramSpec program : spec.programs()) {
        if (syscallHooks.containsKey(program.name())) {
          outcomes.add(syscallHooks.get(program.name()));
          continue;
        }
        if (refused.containsKey(program.name())) {
          outcomes.add(refused.get(program.name()));
          continue;
        }
        BpfProgramInfo info = object.programInfo(program.name());
        try {
          links.add(object.attach(program.name()));
          outcomes.add(
              new ProgramAttachment(
                  program.name(),
                  program.section(),
                  ProgramAttachment.Status.ATTACHED,
                  spec.isRequired(program.name()),
                  0,
                  "",
                  info.id(),
                  info.tag(),
                  "",
                  List.of(program.section().substring(program.section().indexOf('/') + 1))));
        } catch (BpfException e) {
          if (spec.isRequired(program.name())) {
            throw new ProbeException(
                "cannot attach required program '"
                    + program.name()
                    + "' ("
                    + program.section()
                    + "): "
                    + e.getMessage(),
                e);
          }
          outcomes.add(
              attachment(spec, program.name(), ProgramAttachment.Status.ATTACH_REFUSED, e, info));
        }
      }
      AttachReport report = new AttachReport(outcomes);
      // One line either way: the operator sees at once whether every program is in place.
      LOG.log(
          report.failed().isEmpty() ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
          "probe {0}: {1}",
          spec.name(),
          report.summary());
      return new Probe(spec, object, links, report);
    } catch (RuntimeException e) {
      links.forEach(BpfLink::close);
      object.close();
      throw e;
    }
  }

  private static ProgramAttachment attachment(
      ProbeSpec spec,
      String program,
      ProgramAttachment.Status status,
      BpfException e,
      BpfProgramInfo info) {
    String section = section(spec, program);
    String error = e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2);
    return new ProgramAttachment(
        program,
        section,
        status,
        spec.isRequired(program),
        e.errno(),
        error,
        info == null ? 0 : info.id(),
        info == null ? "" : info.tag(),
        AttachRemedy.remedy(section, e.errno(), Tracefs.mountedOnHost()),
        List.of());
  }

  /**
   * Attaches the per-syscall pair of the spec's syscall programs to their syscalls' tracepoints
   * (through a tracefs of its own when the host has none, {@link Tracefs}) and puts the raw pair on
   * standby; when that cannot be done, puts the per-syscall pair on standby, says why in one log
   * line, and leaves the raw pair to the caller. Returns the outcomes it decided; the links it made
   * are added to {@code links}.
   */
  private static Map<String, ProgramAttachment> attachSyscallHooks(
      ProbeSpec spec,
      BpfObject object,
      Map<String, ProgramAttachment> refused,
      boolean raw,
      List<BpfLink> links) {
    ProbeSpec.SyscallHooks hooks = spec.wiring().syscallHooks();
    Map<String, ProgramAttachment> outcomes = new LinkedHashMap<>();
    String why;
    if (raw) {
      why = "the raw syscall tracepoints were asked for";
    } else if (refused.containsKey(hooks.enter()) || refused.containsKey(hooks.exit())) {
      ProgramAttachment first = refused.getOrDefault(hooks.enter(), refused.get(hooks.exit()));
      why = "the kernel refused to load " + first.program() + ": " + first.error();
    } else {
      List<BpfLink> made = new ArrayList<>();
      try {
        Map<String, List<String>> points =
            Tracefs.call(
                events -> {
                  Map<String, List<String>> attached = new LinkedHashMap<>();
                  attached.put(
                      hooks.enter(),
                      attachToSyscalls(
                          object,
                          hooks.enter(),
                          "sys_enter_",
                          hooks.enterSyscalls(),
                          hooks,
                          events,
                          made));
                  attached.put(
                      hooks.exit(),
                      attachToSyscalls(
                          object,
                          hooks.exit(),
                          "sys_exit_",
                          hooks.exitSyscalls(),
                          hooks,
                          events,
                          made));
                  return attached;
                });
        links.addAll(made);
        points.forEach(
            (program, attachedTo) -> {
              BpfProgramInfo info = object.programInfo(program);
              outcomes.put(
                  program,
                  new ProgramAttachment(
                      program,
                      section(spec, program),
                      ProgramAttachment.Status.ATTACHED,
                      false,
                      0,
                      "",
                      info.id(),
                      info.tag(),
                      "",
                      attachedTo));
            });
        for (String program : List.of(hooks.rawEnter(), hooks.rawExit())) {
          outcomes.put(
              program, standby(spec, program, "the per-syscall tracepoints are attached instead"));
        }
        return outcomes;
      } catch (BpfException e) {
        made.forEach(BpfLink::close);
        why = e.getMessage();
      }
    }
    LOG.log(
        raw ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
        "probe {0}: syscall programs on the raw syscall tracepoints, which run at every syscall on"
            + " the host, because {1}",
        spec.name(),
        why);
    for (String program : List.of(hooks.enter(), hooks.exit())) {
      outcomes.put(program, standby(spec, program, "not used: " + why));
    }
    return outcomes;
  }

  /**
   * Attaches {@code program} to {@code syscalls/PREFIX+NAME} for each of {@code syscalls} (one the
   * architecture lacks, and the hooks call optional, is left out); returns where it attached.
   */
  private static List<String> attachToSyscalls(
      BpfObject object,
      String program,
      String prefix,
      List<String> syscalls,
      ProbeSpec.SyscallHooks hooks,
      Path events,
      List<BpfLink> made) {
    List<String> points = new ArrayList<>();
    for (String syscall : syscalls) {
      String name = prefix + syscall;
      if (hooks.optionalSyscalls().contains(syscall)
          && !Files.isDirectory(events.resolve("syscalls").resolve(name))) {
        continue;
      }
      made.add(object.attachTracepoint(program, "syscalls", name));
      points.add("syscalls/" + name);
    }
    return points;
  }

  private static ProgramAttachment standby(ProbeSpec spec, String program, String why) {
    return new ProgramAttachment(
        program,
        section(spec, program),
        ProgramAttachment.Status.STANDBY,
        false,
        0,
        why,
        0,
        "",
        "",
        List.of());
  }

  private static String section(ProbeSpec spec, String program) {
    return spec.programs().stream()
        .filter(p -> p.name().equals(program))
        .map(ProbeSpec.ProgramSpec::section)
        .findFirst()
        .orElse("?");
  }

  public ProbeSpec spec() {
    return spec;
  }

  /** What attached and what the kernel refused. */
  public AttachReport attachReport() {
    return report;
  }

  /**
   * Records the probe could not put in the ring since load, per counter key (for the product probe
   * the key is the {@code enum vr_kind} code), summed over CPUs. Empty when the spec has no
   * counters.
   *
   * @throws IllegalStateException when closed
   * @throws dev.veriruntime.ingest.kernel.BpfException when the counters cannot be read
   */
  public synchronized long[] lostByKey() {
    requireOpen();
    ProbeSpec.LossCounters counters = spec.wiring().lossCounters();
    if (counters == null) {
      return new long[0];
    }
    long[] lost = new long[counters.keys()];
    for (int key = 0; key < lost.length; key++) {
      lost[key] = BpfMaps.sumPerCpu(lostFd, key, counters.valueLongs(), counters.lostField());
    }
    return lost;
  }

  /**
   * Lets the probe skip executable mappings of {@code file} from now on (it counts them in {@link
   * #filteredMappings()} instead): call it only for a file whose mappings need no report. The probe
   * still reports the file if it is deleted or a memfd, and any change to the file changes its
   * identity (ctime, size), so a modified file is reported again. The kernel keeps the most
   * recently used entries (an evicted file is simply reported again).
   *
   * @return false when this probe has no mapping filter
   * @throws IllegalStateException when closed
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses the update
   */
  public synchronized boolean skipMappingsOf(FileIdentity file) {
    requireOpen();
    if (verifiedFilesFd < 0) {
      return false;
    }
    byte[] key =
        ByteBuffer.allocate(spec.wiring().mappingFilter().keySize())
            .order(ByteOrder.nativeOrder())
            .putLong(file.dev())
            .putLong(file.inode())
            .putLong(file.ctimeNanos())
            .putLong(file.size())
            .array();
    BpfMaps.update(verifiedFilesFd, key, new byte[4]);
    return true;
  }

  /**
   * Forgets every file given to {@link #skipMappingsOf}: all executable mappings are reported again
   * (for example after the trusted references changed). Returns how many files were forgotten.
   */
  public synchronized int reportAllMappings() {
    requireOpen();
    return verifiedFilesFd < 0
        ? 0
        : BpfMaps.clear(verifiedFilesFd, spec.wiring().mappingFilter().keySize());
  }

  /**
   * Executable mappings the probe did not report because of {@link #skipMappingsOf}, since load.
   */
  public synchronized long filteredMappings() {
    return filtered(WireFormat.Filtered.MAPPINGS);
  }

  /**
   * Lets the probe send no exec record for {@code file} from now on: call it only for an executable
   * whose exec needs no report. A process that executes exactly this identity (device, inode,
   * ctime, size), still linked, not a memfd, not through a script or binfmt_misc interpreter and
   * not a toolchain executable, is counted in {@link #filteredExecs()} and kept in the kernel as a
   * {@link QuietTask} until {@link #adoptQuietTasks} takes it or it exits (then no exit record is
   * sent either, counted in {@link #filteredExits()}). The kernel keeps the most recently used
   * files (an evicted file is simply reported again).
   *
   * @return false when this probe has no exec filter
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses the update
   */
  public synchronized boolean skipExecsOf(FileIdentity file) {
    requireOpen();
    if (quietExesFd < 0) {
      return false;
    }
    BpfMaps.update(quietExesFd, fileKey(file), new byte[WireFormat.QuietExe.SIZE]);
    return true;
  }

  /**
   * Lets the probe count the execs of {@code file} instead of sending them: for an executable the
   * agent reported as unknown and whose further execs it only counts (an exec storm). Its execs are
   * quiet as after {@link #skipExecsOf} (the same conditions; processes that live on are adopted)
   * and also counted in the file's entry, read with {@link #execCount}. A file counted already
   * keeps its count.
   *
   * @return false when this probe has no exec filter
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses the update
   */
  public synchronized boolean countExecsOf(FileIdentity file) {
    requireOpen();
    if (quietExesFd < 0) {
      return false;
    }
    byte[] key = fileKey(file);
    if (!BpfMaps.lookup(quietExesFd, key, new byte[WireFormat.QuietExe.SIZE])) {
      // A fresh buffer: a failed lookup may leave anything in the one it was given.
      byte[] value = new byte[WireFormat.QuietExe.SIZE];
      ByteBuffer.wrap(value)
          .order(ByteOrder.nativeOrder())
          .putInt(WireFormat.QuietExe.FLAGS, WireFormat.QuietExe.COUNT);
      BpfMaps.update(quietExesFd, key, value);
    }
    return true;
  }

  /**
   * What the probe counted for a file given to {@link #countExecsOf}: execs, the first and the
   * latest exec ({@code System.nanoTime()} clock) and the latest's tgid.
   */
  public record ExecCount(long execs, long firstNanos, long lastNanos, int lastPid) {}

  /**
   * The count of a file given to {@link #countExecsOf}; empty when the probe no longer counts it
   * (the kernel evicted it, {@link #reportAllExecs}, {@link #stopCountingExecsOf}).
   */
  public synchronized Optional<ExecCount> execCount(FileIdentity file) {
    requireOpen();
    byte[] value = new byte[WireFormat.QuietExe.SIZE];
    if (quietExesFd < 0 || !BpfMaps.lookup(quietExesFd, fileKey(file), value)) {
      return Optional.empty();
    }
    ByteBuffer v = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
    if ((v.getInt(WireFormat.QuietExe.FLAGS) & WireFormat.QuietExe.COUNT) == 0) {
      return Optional.empty();
    }
    return Optional.of(
        new ExecCount(
            v.getLong(WireFormat.QuietExe.EXECS),
            v.getLong(WireFormat.QuietExe.FIRST_NS),
            v.getLong(WireFormat.QuietExe.LAST_NS),
            v.getInt(WireFormat.QuietExe.LAST_PID)));
  }

  /**
   * Execs of a file given to {@link #countExecsOf} are sent again.
   *
   * @return whether it was counted
   */
  public synchronized boolean stopCountingExecsOf(FileIdentity file) {
    requireOpen();
    return execCount(file).isPresent() && BpfMaps.delete(quietExesFd, fileKey(file));
  }

  /** Forgets every file given to {@link #skipExecsOf}; returns how many were forgotten. */
  public synchronized int reportAllExecs() {
    requireOpen();
    return quietExesFd < 0 ? 0 : BpfMaps.clear(quietExesFd, WireFormat.FileKey.SIZE);
  }

  /** A process that started quietly (see {@link #skipExecsOf}). */
  public record QuietTask(int tgid, int ppid, long execNanos) {}

  /**
   * Takes the quiet processes that exec'd at or before {@code execBeforeNanos} ({@code
   * System.nanoTime()} clock) out of the kernel's set and returns them: from now on their exits are
   * reported as usual. A process whose exit raced with this call may be returned although it is
   * gone; the caller checks /proc.
   */
  public synchronized List<QuietTask> adoptQuietTasks(long execBeforeNanos) {
    requireOpen();
    if (quietTasksFd < 0) {
      return List.of();
    }
    List<QuietTask> adopted = new ArrayList<>();
    BpfMaps.forEach(
        quietTasksFd,
        4,
        WireFormat.QuietTask.SIZE,
        (key, value) -> {
          ByteBuffer k = ByteBuffer.wrap(key).order(ByteOrder.nativeOrder());
          ByteBuffer v = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
          long execNanos = v.getLong(WireFormat.QuietTask.EXEC_NS);
          if (execNanos - execBeforeNanos > 0) {
            return false;
          }
          adopted.add(new QuietTask(k.getInt(0), v.getInt(WireFormat.QuietTask.PPID), execNanos));
          return true;
        });
    return adopted;
  }

  /**
   * Takes one quiet process out of the kernel's set (its exit is reported from now on).
   *
   * @return whether {@code tgid} was a quiet process not adopted yet
   */
  public synchronized boolean adoptQuietTask(int tgid) {
    requireOpen();
    return quietTasksFd >= 0
        && BpfMaps.delete(
            quietTasksFd,
            ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(tgid).array());
  }

  /**
   * Execs the probe did not report because of {@link #skipExecsOf} or {@link #countExecsOf}, since
   * load.
   */
  public synchronized long filteredExecs() {
    return filtered(WireFormat.Filtered.EXECS);
  }

  /** Exits of never-adopted quiet processes the probe did not report, since load. */
  public synchronized long filteredExits() {
    return filtered(WireFormat.Filtered.EXITS);
  }

  private long filtered(int key) {
    requireOpen();
    if (filteredFd < 0 || (key != WireFormat.Filtered.MAPPINGS && quietExesFd < 0)) {
      return 0;
    }
    return BpfMaps.sumPerCpu(filteredFd, key, 1, 0);
  }

  /**
   * Follows process {@code tgid}: from now on every exec of it and of its descendants forked from
   * now on (for {@link FollowReason#INCIDENT}, its children, grandchildren and great-grandchildren:
   * see {@link #follow(int, Set, int)}) is reported, even of an executable given to {@link
   * #skipExecsOf}. The kernel adds children at fork and forgets each process at its exit. The
   * reasons are added to those the process already has.
   *
   * @param reasons at least one
   * @return false when this probe cannot follow processes
   * @throws IllegalArgumentException when {@code reasons} is empty
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses the update (E2BIG:
   *     {@value WireFormat.Maps#FOLLOW_TASKS_MAX} processes are followed already)
   */
  public boolean follow(int tgid, Set<FollowReason> reasons) {
    return follow(tgid, reasons, 0);
  }

  /**
   * {@link #follow(int, Set)} for a process {@code generation} forks below the process with an
   * incident (with {@link FollowReason#INCIDENT}): its children inherit the incident up to {@link
   * #INCIDENT_GENERATIONS} generations below that process. A process followed for an incident
   * already keeps the nearer of the two generations.
   *
   * @param generation 0 for the process with the incident itself
   */
  public synchronized boolean follow(int tgid, Set<FollowReason> reasons, int generation) {
    requireOpen();
    if (reasons.isEmpty()) {
      throw new IllegalArgumentException("following a process needs a reason");
    }
    if (generation < 0 || generation > INCIDENT_GENERATIONS) {
      throw new IllegalArgumentException("no incident is followed " + generation + " forks down");
    }
    if (followTasksFd < 0) {
      return false;
    }
    byte[] key = tgidKey(tgid);
    byte[] value = new byte[4];
    int bits = FollowReason.bits(reasons);
    if (reasons.contains(FollowReason.INCIDENT)) {
      bits |= generation << WireFormat.FollowGeneration.SHIFT;
    }
    if (BpfMaps.lookup(followTasksFd, key, value)) {
      int old = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt(0);
      int mask = WireFormat.FollowGeneration.MASK;
      if ((old & FollowReason.INCIDENT.bit()) != 0 && reasons.contains(FollowReason.INCIDENT)) {
        bits = ((bits | old) & ~mask) | Math.min(bits & mask, old & mask); // the nearer one
      } else {
        bits |= old;
      }
    }
    ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).putInt(0, bits);
    BpfMaps.update(followTasksFd, key, value);
    return true;
  }

  /**
   * Takes {@code reasons} off process {@code tgid}; when none but {@link FollowReason#INHERITED} is
   * left, the process is followed no more (its children already forked stay followed until they
   * exit).
   *
   * @return whether the process was followed
   */
  public synchronized boolean unfollow(int tgid, Set<FollowReason> reasons) {
    requireOpen();
    if (followTasksFd < 0) {
      return false;
    }
    byte[] key = tgidKey(tgid);
    byte[] value = new byte[4];
    if (!BpfMaps.lookup(followTasksFd, key, value)) {
      return false;
    }
    int left =
        ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt(0)
            & ~FollowReason.bits(reasons);
    if ((left & FollowReason.INCIDENT.bit()) == 0) {
      left &= ~WireFormat.FollowGeneration.MASK;
    }
    if ((left & ~FollowReason.INHERITED.bit() & ~WireFormat.FollowGeneration.MASK) == 0) {
      BpfMaps.delete(followTasksFd, key);
    } else {
      ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).putInt(0, left);
      BpfMaps.update(followTasksFd, key, value);
    }
    return true;
  }

  /** The processes followed now and why, by tgid. */
  public synchronized Map<Integer, Set<FollowReason>> followed() {
    requireOpen();
    Map<Integer, Set<FollowReason>> out = new HashMap<>();
    if (followTasksFd >= 0) {
      BpfMaps.forEach(
          followTasksFd,
          4,
          4,
          (key, value) -> {
            out.put(
                ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()).getInt(0),
                FollowReason.of(ByteBuffer.wrap(value).order(ByteOrder.nativeOrder()).getInt(0)));
            return false;
          });
    }
    return out;
  }

  /**
   * Makes every process that executes exactly {@code executable} (device, inode, ctime, size) from
   * now on followed ({@link FollowReason#LINEAGE}), with its descendants: for build roots (make,
   * ninja...). Only with the {@code vr_trace_lineage} setting on.
   *
   * @return false when this probe has no such map
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses (E2BIG: map full)
   */
  public synchronized boolean followExecsOf(FileIdentity executable) {
    requireOpen();
    if (followExesFd < 0) {
      return false;
    }
    BpfMaps.update(followExesFd, fileKey(executable), new byte[] {1, 0, 0, 0});
    return true;
  }

  /**
   * What the probe did about followed and untracked processes since load, by {@link
   * WireFormat.TaskCounts} key (execs reported because followed, children that inherited, follow
   * entries refused for a full map, exits of never-exec'd forks not reported); zeros when it has no
   * such counters.
   */
  public synchronized long[] taskCounts() {
    requireOpen();
    long[] counts = new long[WireFormat.TaskCounts.KEYS];
    if (taskCountsFd >= 0) {
      for (int key = 0; key < counts.length; key++) {
        counts[key] = BpfMaps.sumPerCpu(taskCountsFd, key, 1, 0);
      }
    }
    return counts;
  }

  /** How many generations of descendants inherit an incident ({@code VR_INCIDENT_GENERATIONS}). */
  public static final int INCIDENT_GENERATIONS = WireFormat.FollowGeneration.INCIDENT_GENERATIONS;

  /** Processes the kernel follows at most at once ({@code VR_FOLLOW_TASKS_MAX}). */
  public static final int FOLLOW_CAPACITY = WireFormat.Maps.FOLLOW_TASKS_MAX;

  /** Execs of quiet executables reported because the process was followed, since load. */
  public long followedExecs() {
    return taskCounts()[WireFormat.TaskCounts.FOLLOWED_EXECS];
  }

  /** Children that inherited following at fork, since load. */
  public long inheritedFollows() {
    return taskCounts()[WireFormat.TaskCounts.INHERITED];
  }

  /** Processes the kernel could not follow because {@link #FOLLOW_CAPACITY} were, since load. */
  public long droppedFollows() {
    return taskCounts()[WireFormat.TaskCounts.FOLLOW_DROPPED];
  }

  /**
   * Children that did not inherit their parent's incident: more than {@link #INCIDENT_GENERATIONS}
   * forks below its process, since load.
   */
  public long incidentDepthEnds() {
    return taskCounts()[WireFormat.TaskCounts.INCIDENT_DEPTH];
  }

  /** Exits of forks that never exec'd, counted instead of reported, since load. */
  public long untrackedExits() {
    return taskCounts()[WireFormat.TaskCounts.UNTRACKED_EXITS];
  }

  /**
   * Watches ({@link #watchWrites}) the kernel dropped since load: the watched file was gone and a
   * new file with its inode number was written.
   */
  public long staleWatches() {
    return taskCounts()[WireFormat.TaskCounts.WATCH_STALE];
  }

  private static byte[] tgidKey(int tgid) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(tgid).array();
  }

  /**
   * Asks the probe to report, as a {@link dev.veriruntime.ingest.event.FileWriteEvent}, every
   * successful open for writing (or with O_TRUNC) and every ftruncate of {@code file} from now on,
   * by any process but the ignored one. The file is matched by device and inode only, so it stays
   * watched after the write changed its ctime and size; with a {@code generation}, a write into a
   * new file that got the same inode number after this one was deleted drops the watch instead of
   * being reported (counted, {@link #staleWatches}). Calling it again replaces the entry. Writes
   * through descriptors opened before the call, truncate(2) by path and a rename over the file are
   * not seen (see bpf/README.md).
   *
   * @param generation the file's {@link dev.veriruntime.ingest.event.ExecutableFile#generation()};
   *     0 when not known: then any file with this device and inode is the watched one
   * @param reasons echoed in each event; at least one
   * @return false when this probe has no watched-file map
   * @throws IllegalStateException when closed
   * @throws IllegalArgumentException when {@code reasons} is empty
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses the update (E2BIG:
   *     the map is full; nothing is evicted silently)
   */
  public synchronized boolean watchWrites(
      FileIdentity file, int generation, Set<WatchReason> reasons) {
    requireOpen();
    if (reasons.isEmpty()) {
      throw new IllegalArgumentException("watching a file needs a reason");
    }
    if (watchedFilesFd < 0) {
      return false;
    }
    byte[] value =
        ByteBuffer.allocate(WireFormat.Watch.SIZE)
            .order(ByteOrder.nativeOrder())
            .putInt(WireFormat.Watch.REASONS, WatchReason.bits(reasons))
            .putInt(WireFormat.Watch.GENERATION, generation)
            .array();
    BpfMaps.update(watchedFilesFd, watchKey(file), value);
    return true;
  }

  /**
   * Stops reporting writes into {@code file} (matched by device and inode).
   *
   * @return whether it was watched
   * @throws IllegalStateException when closed
   */
  public synchronized boolean unwatchWrites(FileIdentity file) {
    requireOpen();
    return watchedFilesFd >= 0 && BpfMaps.delete(watchedFilesFd, watchKey(file));
  }

  /** Stops reporting writes into any file; returns how many were watched. */
  public synchronized int unwatchAllWrites() {
    requireOpen();
    return watchedFilesFd < 0
        ? 0
        : BpfMaps.clear(watchedFilesFd, spec.wiring().writeWatch().keySize());
  }

  private byte[] watchKey(FileIdentity file) {
    return ByteBuffer.allocate(spec.wiring().writeWatch().keySize())
        .order(ByteOrder.nativeOrder())
        .putLong(file.dev())
        .putLong(file.inode())
        .array();
  }

  /**
   * Marks {@code executable} as a toolchain executable (compiler, assembler, linker) for build
   * lineage: every process that executes exactly this identity (device, inode, ctime, size) from
   * now on is marked in the kernel, and the regular files it opens for writing are reported as
   * {@link dev.veriruntime.ingest.event.ToolchainWriteEvent}s, with their final identity when it is
   * done. Only with the {@code vr_trace_lineage} setting on ({@link
   * WireFormat.Config#TRACE_LINEAGE_SYMBOL}); call it only for executables the caller verified.
   *
   * @return false when this probe has no toolchain map
   * @throws IllegalStateException when closed
   * @throws dev.veriruntime.ingest.kernel.BpfException when the kernel refuses (E2BIG: map full)
   */
  public synchronized boolean markToolchain(FileIdentity executable) {
    requireOpen();
    if (toolchainExesFd < 0) {
      return false;
    }
    BpfMaps.update(toolchainExesFd, fileKey(executable), new byte[] {1, 0, 0, 0});
    return true;
  }

  /** Stops marking processes of {@code executable}; returns whether it was marked. */
  public synchronized boolean unmarkToolchain(FileIdentity executable) {
    requireOpen();
    return toolchainExesFd >= 0 && BpfMaps.delete(toolchainExesFd, fileKey(executable));
  }

  /** {@code struct vr_file_key}: dev, ino, ctime_ns, size. */
  private static byte[] fileKey(FileIdentity file) {
    return ByteBuffer.allocate(32)
        .order(ByteOrder.nativeOrder())
        .putLong(file.dev())
        .putLong(file.inode())
        .putLong(file.ctimeNanos())
        .putLong(file.size())
        .array();
  }

  /** Sum of {@link #lostByKey()}. */
  public long lostRecords() {
    long total = 0;
    for (long lost : lostByKey()) {
      total += lost;
    }
    return total;
  }

  /** The ring and loss counters as a {@link RecordSource}, for {@link RingBufferReader}. */
  RecordSource recordSource() {
    return source;
  }

  private final RecordSource source =
      new RecordSource() {
        @Override
        public String name() {
          return spec.name();
        }

        @Override
        public long[] claimLost() {
          synchronized (Probe.this) {
            long[] total = lostByKey();
            if (reportedLost.length != total.length) {
              reportedLost = new long[total.length];
            }
            long[] delta = new long[total.length];
            for (int key = 0; key < total.length; key++) {
              delta[key] = total[key] - reportedLost[key];
            }
            reportedLost = total;
            return delta;
          }
        }

        @Override
        public RecordSource.Stream open(BpfRingBuffer.RecordHandler handler) {
          BpfRingBuffer ring;
          synchronized (Probe.this) {
            requireOpen();
            ring = new BpfRingBuffer(ringFd, handler);
          }
          return new RecordSource.Stream() {
            @Override
            public int poll(int timeoutMillis) {
              return ring.poll(timeoutMillis);
            }

            @Override
            public int consume() {
              return ring.consume();
            }

            @Override
            public void release() {
              ring.release();
            }

            @Override
            public void close() {
              ring.close();
            }
          };
        }

        @Override
        public void register(RingBufferReader<?> reader) {
          synchronized (Probe.this) {
            requireOpen();
            if (!readers.isEmpty()) {
              throw new IllegalStateException(
                  "probe '"
                      + spec.name()
                      + "' already has an active reader: records cannot be shared");
            }
            readers.add(reader);
          }
        }

        @Override
        public void unregister(RingBufferReader<?> reader) {
          readers.remove(reader);
        }
      };

  /**
   * Detaches {@code program} alone (its link destroyed) while the others stay attached: what a
   * damaged or tampered probe looks like from inside the agent. For the self-integrity tests (the
   * test jar's {@code ProbeTampering}), which must see it noticed; the agent never calls it.
   *
   * @return whether a link of that program was attached until now
   */
  synchronized boolean detachOne(String program) {
    requireOpen();
    for (BpfLink link : links) {
      if (link.program().equals(program) && link.isAttached()) {
        link.close();
        return true;
      }
    }
    return false;
  }

  public synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Completes every reader (each emits its final loss count), then detaches every program and
   * closes every descriptor. Idempotent; safe from a shutdown hook.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
    }
    // Outside the lock: readers call lostRecords() while finishing.
    for (RingBufferReader<?> reader : readers) {
      reader.stopAndJoin();
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      links.forEach(BpfLink::close);
      object.close();
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("probe '" + spec.name() + "' is closed");
    }
  }
}
