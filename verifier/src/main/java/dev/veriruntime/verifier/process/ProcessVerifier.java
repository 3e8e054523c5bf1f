package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * VerifyProcess(pid): is the code this process runs the code we intended to run?
 *
 * <p>Checks, for the scopes the {@link ProcessPolicy} intends: the executable through {@code
 * /proc/PID/exe} (the inode that runs, even deleted, replaced or a memfd) with VerifyBinary for
 * DISK_HASH, ELF_HEADER, ELF_SECTIONS and SIGNATURE; {@link Scope#MEMORY_MAP} with {@link
 * MappingAnalyzer} against the dependency closure resolved by {@link DependencyResolver} and the
 * preload lists ({@code LD_PRELOAD} from {@code /proc/PID/environ}, {@code /etc/ld.so.preload});
 * {@link Scope#MEMORY_CODE} with a full {@link CodeScan}, failed as well when a tracer is attached
 * ({@code TracerPid}), since a tracer can rewrite code at any moment.
 *
 * <p>A process that runs the previous version of an upgraded package's file (one of the {@link
 * SupersededFiles} given with {@link #withSupersededFiles}) is not drift: DISK_HASH says so instead
 * of comparing those bytes with the new package record, and MEMORY_MAP notes it.
 *
 * <p>Never silent success: a process that exits during verification, or a read the kernel refuses,
 * leaves the scopes not yet checked NOT_VERIFIED with the reason (and a {@link
 * FindingType#PROCESS_GONE} or {@link FindingType#READ_REFUSED} finding), so the verdict is at best
 * DEGRADED.
 *
 * <p>Thread-safe: no mutable state besides the cache of mapped-file verifications (by identity), so
 * one instance may verify many processes concurrently.
 *
 * <pre>{@code
 * ProcessVerifier verifier = new ProcessVerifier(
 *     ExecutableVerifier.of(binaryVerifier), ProcessPolicy.defaults(), Clock.systemUTC());
 * ProcessVerification v = verifier.verify(pid);   // throws ProcessGoneException if no such pid
 * }</pre>
 */
public final class ProcessVerifier {
  private static final ElfReader HEADERS = ElfReader.create();
  private static final Scope[] BINARY_SCOPES = {
    Scope.DISK_HASH, Scope.ELF_HEADER, Scope.ELF_SECTIONS, Scope.SIGNATURE
  };
  private static final int FILE_CACHE_ENTRIES = 4096;

  private final ExecutableVerifier.Caching executables;
  private final ProcessPolicy policy;
  private final Clock clock;
  private final ProcFs procFs;
  private final ProcessMemory.Opener memory;
  private final MemoryCodeComparator comparator;
  private final MappingAnalyzer analyzer;
  private final SupersededFiles superseded;

  /** Verifies host processes through {@code /proc} and {@code /proc/PID/mem}. */
  public ProcessVerifier(ExecutableVerifier executables, ProcessPolicy policy, Clock clock) {
    this(
        executables, policy, clock, ProcFs.host(), ProcMemReader::open, new MemoryCodeComparator());
  }

  /**
   * @param executables VerifyBinary for open files; wrapped in a cache by file identity
   * @param memory opens a process's memory ({@code ProcMemReader::open})
   */
  public ProcessVerifier(
      ExecutableVerifier executables,
      ProcessPolicy policy,
      Clock clock,
      ProcFs procFs,
      ProcessMemory.Opener memory,
      MemoryCodeComparator comparator) {
    this(
        ExecutableVerifier.caching(
            Objects.requireNonNull(executables, "executables"), FILE_CACHE_ENTRIES),
        policy,
        clock,
        procFs,
        memory,
        comparator,
        SupersededFiles.NONE);
  }

  private ProcessVerifier(
      ExecutableVerifier.Caching cachedExecutables,
      ProcessPolicy policy,
      Clock clock,
      ProcFs procFs,
      ProcessMemory.Opener memory,
      MemoryCodeComparator comparator,
      SupersededFiles superseded) {
    this.superseded = Objects.requireNonNull(superseded, "superseded");
    this.executables = cachedExecutables;
    this.policy = Objects.requireNonNull(policy, "policy");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.procFs = Objects.requireNonNull(procFs, "procFs");
    this.memory = Objects.requireNonNull(memory, "memory");
    this.comparator = Objects.requireNonNull(comparator, "comparator");
    this.analyzer = new MappingAnalyzer(policy, superseded);
  }

  public ProcessPolicy policy() {
    return policy;
  }

  /** The same verifier (sharing its cache of mapped-file verifications) under another policy. */
  public ProcessVerifier withPolicy(ProcessPolicy other) {
    return new ProcessVerifier(executables, other, clock, procFs, memory, comparator, superseded);
  }

  /**
   * The same verifier (sharing its cache) that knows which files package upgrades replaced, so a
   * process still running the previous version is noted rather than reported.
   */
  public ProcessVerifier withSupersededFiles(SupersededFiles files) {
    return new ProcessVerifier(executables, policy, clock, procFs, memory, comparator, files);
  }

  public ProcFs procFs() {
    return procFs;
  }

  /**
   * Forgets the remembered verifications of executables and mapped files (shared with every {@link
   * #withPolicy} sibling): what vouches for them changed, for example the package database.
   */
  public void forgetFileVerifications() {
    executables.clear();
  }

  /**
   * Verifies process {@code pid} now.
   *
   * @throws ProcessGoneException if there is no process {@code pid}, or only its zombie (a process
   *     that exits <em>during</em> verification is a DEGRADED result instead)
   * @throws NotAUserProcessException if {@code pid} is a kernel thread
   * @throws IOException if {@code /proc} itself cannot be read
   */
  public ProcessVerification verify(int pid) throws IOException {
    Instant at = clock.instant();
    if (pid <= 0 || !procFs.exists(pid)) {
      throw new ProcessGoneException(pid, "no such process: " + pid);
    }
    Run run = new Run(pid);
    long ticks;
    ProcStatus status;
    try {
      ticks = procFs.startTicks(pid);
      status = procFs.status(pid);
    } catch (ProcessGoneException e) {
      throw new ProcessGoneException(pid, "no such process: " + pid + " (exited)", e);
    }
    run.realUid(status.realUid());
    if (status.fields().getOrDefault("State", "").startsWith("Z")) {
      // A zombie has released its memory and executable; only its exit status waits to be reaped.
      throw new ProcessGoneException(
          pid, "no such process: " + pid + " (exited; a zombie not yet reaped)");
    }
    Optional<String> link;
    try {
      link = executableLink(pid, status);
    } catch (ProcessGoneException e) {
      return run.gone(e, ticks, at);
    } catch (AccessDeniedException e) {
      run.refused("the executable link /proc/" + pid + "/exe", e, BINARY_SCOPES);
      link = Optional.empty();
    }
    ExecutableRead exe =
        link.isPresent() ? readExecutable(run, pid, link.get()) : ExecutableRead.NONE;
    if (exe.gone() != null) {
      return run.gone(exe.gone(), ticks, at);
    }
    if (exe.verification() != null) {
      binaryScopes(run, exe.verification(), exe.facts());
    }
    return verifyMemory(run, pid, ticks, at, status, exe);
  }

  /**
   * The target of {@code /proc/PID/exe}.
   *
   * @throws NotAUserProcessException if there is none: a kernel thread
   */
  private Optional<String> executableLink(int pid, ProcStatus status) throws IOException {
    Optional<String> link = procFs.exeLink(pid);
    if (link.isEmpty()) {
      throw new NotAUserProcessException(
          "process "
              + pid
              + " ("
              + status.name()
              + ") is a kernel thread: it has no"
              + " executable or user memory to verify");
    }
    return link;
  }

  /**
   * What reading the executable through {@code /proc/PID/exe} gave.
   *
   * @param verification the binary verification, or null if the file could not be read
   * @param elf its ELF headers, or null ({@code elfProblem} says why when it was read)
   * @param facts how its path relates to the inode that runs, or null if it could not be read
   * @param gone why the process is known to have exited meanwhile, or null
   */
  private record ExecutableRead(
      BinaryVerification verification,
      ElfFile elf,
      String elfProblem,
      MappingAnalyzer.ExecutableFacts facts,
      IOException gone) {
    static final ExecutableRead NONE = new ExecutableRead(null, null, null, null, null);

    static ExecutableRead gone(IOException e) {
      return new ExecutableRead(null, null, null, null, e);
    }
  }

  /** The executable, through /proc/PID/exe: the exact inode that runs, even if deleted. */
  private ExecutableRead readExecutable(Run run, int pid, String link) {
    BinaryVerification exe = null;
    ElfFile exeElf = null;
    String elfProblem = null;
    MappingAnalyzer.ExecutableFacts facts = null;
    Path exePath = procFs.exePath(pid);
    try (FileChannel ch = FileChannel.open(exePath, StandardOpenOption.READ)) {
      exe = executables.verify(ch, exePath, stripDeleted(link));
      try {
        exeElf = HEADERS.read(ch);
      } catch (MalformedElfException e) {
        elfProblem = "the executable is not a well-formed ELF file: " + e.getMessage();
      }
      facts = facts(link, exe);
    } catch (NoSuchFileException | ProcessGoneException e) {
      return ExecutableRead.gone(e);
    } catch (AccessDeniedException e) {
      run.refused(exePath.toString(), e, BINARY_SCOPES);
    } catch (IOException e) {
      if (!procFs.exists(pid)) {
        return ExecutableRead.gone(e);
      }
      run.refused(exePath.toString(), e, BINARY_SCOPES);
    }
    return new ExecutableRead(exe, exeElf, elfProblem, facts, null);
  }

  /** DISK_HASH, ELF_HEADER, ELF_SECTIONS and SIGNATURE, as the binary verifier judged them. */
  private void binaryScopes(
      Run run, BinaryVerification exe, MappingAnalyzer.ExecutableFacts facts) {
    boolean previousVersion = previousPackageVersion(facts);
    for (Scope s : BINARY_SCOPES) {
      ScopeResult r =
          exe.scope(s).orElse(ScopeResult.notVerified(s, "not checked by the binary verifier"));
      if (previousVersion && s == Scope.DISK_HASH && r.status() == ScopeStatus.FAILED) {
        // The package record now describes the new version; these bytes were verified before the
        // upgrade.
        r =
            ScopeResult.verified(
                Scope.DISK_HASH,
                "the previous version of "
                    + facts.path()
                    + ", verified before a package upgrade replaced it; runs until the process restarts");
      }
      run.put(r);
    }
    exe.findings().stream()
        .filter(
            f ->
                !(previousVersion
                    && f.scope() == Scope.DISK_HASH
                    && f.type() == FindingType.DIGEST_MISMATCH))
        .forEach(run::finding);
  }

  /** MEMORY_MAP and MEMORY_CODE, which both start from the maps. */
  private ProcessVerification verifyMemory(
      Run run, int pid, long ticks, Instant at, ProcStatus status, ExecutableRead exeRead) {
    BinaryVerification exe = exeRead.verification();
    List<MemoryMapping> maps;
    try {
      maps = procFs.maps(pid);
    } catch (ProcessGoneException e) {
      return run.gone(e, ticks, at, exe);
    } catch (IOException e) {
      run.refused("/proc/" + pid + "/maps", e, Scope.MEMORY_MAP, Scope.MEMORY_CODE);
      return run.finish(ticks, at, exe, 0);
    }
    if (maps.isEmpty()) {
      // An exiting process has released its memory (a zombie) but still has its /proc entry.
      return run.gone(
          new ProcessGoneException(
              pid, "process " + pid + " has no memory mappings (exiting or zombie)"),
          ticks,
          at,
          exe);
    }
    if (policy.intends(Scope.MEMORY_MAP)) {
      try {
        memoryMap(run, pid, ticks, maps, exeRead);
      } catch (ProcessGoneException e) {
        return run.gone(e, ticks, at, exe);
      }
    }
    long compared = 0;
    if (policy.intends(Scope.MEMORY_CODE)) {
      CodeScan scan = CodeScan.of(procFs, pid, ticks, maps, comparator, memory);
      scan.advance(Long.MAX_VALUE);
      compared = scan.bytesCompared();
      List<Finding> codeFindings = new ArrayList<>();
      ScopeResult code = memoryCodeResult(scan, status.tracerPid(), codeFindings);
      codeFindings.forEach(run::finding);
      run.put(code);
    }
    return run.finish(ticks, at, exe, compared);
  }

  /**
   * The MEMORY_CODE result of a completed {@code scan}, failed as well when a tracer is attached
   * (seen in {@code tracerPidBefore} or in {@code TracerPid} now); adds the findings to {@code
   * out}.
   */
  public ScopeResult memoryCodeResult(CodeScan scan, int tracerPidBefore, List<Finding> out) {
    ScopeResult code = scan.result();
    out.addAll(scan.findings());
    int tracer = tracerPidBefore;
    try {
      tracer = tracer != 0 ? tracer : procFs.status(scan.pid()).tracerPid();
    } catch (IOException e) {
      // The scan already recorded why the process can no longer be read.
    }
    if (tracer != 0) {
      String who = tracerName(tracer);
      String reason =
          "tracer "
              + tracer
              + who
              + " is attached (TracerPid): it can rewrite code and registers at any moment";
      out.add(
          new Finding(
              FindingType.TRACER_ATTACHED,
              Scope.MEMORY_CODE,
              reason,
              Map.of(
                  "tracerPid",
                  Integer.toString(tracer),
                  "tracer",
                  who.isEmpty() ? "" : who.substring(2, who.length() - 1))));
      code =
          ScopeResult.failed(
              Scope.MEMORY_CODE,
              reason + (code.status() == ScopeStatus.FAILED ? "; " + code.reason() : ""));
    }
    return code;
  }

  /**
   * A resumable MEMORY_CODE scan of {@code pid}, for re-attestation under a byte budget (see {@link
   * ReattestationPlanner}).
   *
   * @throws ProcessGoneException if there is no such process
   */
  public CodeScan startCodeScan(int pid) throws IOException {
    return CodeScan.start(procFs, pid, comparator, memory);
  }

  /** MEMORY_MAP: the mappings against the dependency closure and the preloads. */
  private void memoryMap(Run run, int pid, long ticks, List<MemoryMapping> maps, ExecutableRead exe)
      throws ProcessGoneException {
    MappingAnalyzer.ExecutableFacts facts = exe.facts();
    if (facts == null) {
      // The executable could not be read: judge what can be judged without it.
      facts =
          new MappingAnalyzer.ExecutableFacts(
              "(unreadable executable)", -1, -1, null, MappingAnalyzer.PathState.UNKNOWN, "");
    }
    Closures closures = closures(pid, facts, exe);
    MappingAnalyzer.Analysis analysis =
        analyzer.analyze(
            pid,
            maps,
            facts,
            closures.closure(),
            closures.problem() == null ? "unknown" : closures.problem(),
            closures.preloads(),
            fileChecker(pid, run));
    // The closure was resolved under /proc/PID/root and the files opened through map_files: had the
    // process ended meanwhile, those reads failed and the analysis would blame its own libraries.
    boolean runs;
    try {
      runs = procFs.stillRuns(pid, ticks);
    } catch (IOException e) {
      runs = procFs.exists(pid);
    }
    if (!runs) {
      throw new ProcessGoneException(
          pid, "process " + pid + " exited while its memory map was checked");
    }
    run.put(analysis.result());
    analysis.findings().forEach(run::finding);
  }

  /**
   * The executable's dependency closure and the closures of its preload lists.
   *
   * @param closure empty when it could not be resolved; {@code problem} says why (null: unknown)
   */
  private record Closures(
      Optional<DependencyClosure> closure,
      String problem,
      Map<String, DependencyClosure> preloads) {}

  /** Resolved as the process's loader would: under its root, with its environment. */
  private Closures closures(int pid, MappingAnalyzer.ExecutableFacts facts, ExecutableRead exe)
      throws ProcessGoneException {
    Map<String, String> env;
    try {
      env = procFs.environ(pid);
    } catch (ProcessGoneException e) {
      throw e;
    } catch (IOException e) {
      return new Closures(
          Optional.empty(), "environment unreadable (" + e.getMessage() + ")", Map.of());
    }
    ElfFile exeElf = exe.elf();
    if (exeElf == null) {
      String problem =
          exe.verification() == null ? "the executable could not be read" : exe.elfProblem();
      return new Closures(Optional.empty(), problem, Map.of());
    }
    Path root = procFs.dir(pid).resolve("root");
    LoaderConfiguration loader;
    try {
      loader = LoaderConfiguration.read(root, exeElf.header().machine());
    } catch (IOException e) {
      loader =
          new LoaderConfiguration(
              List.of(),
              LoaderConfiguration.defaultDirectories(exeElf.header().machine()),
              List.of());
    }
    DependencyResolver resolver = new DependencyResolver(loader, root);
    List<String> ldLibraryPath = splitPath(env.get("LD_LIBRARY_PATH"), ":;");
    DependencyClosure closure = resolver.resolve(exeElf, facts.path(), ldLibraryPath);
    Map<String, DependencyClosure> preloads = new LinkedHashMap<>();
    List<String> envPreload = splitPath(env.get("LD_PRELOAD"), " :");
    if (!envPreload.isEmpty()) {
      String source = "LD_PRELOAD in the process environment";
      preloads.put(
          source, resolver.resolvePreload(envPreload, source, exeElf, facts.path(), ldLibraryPath));
    }
    if (!loader.systemPreload().isEmpty()) {
      String source = "/etc/ld.so.preload";
      preloads.put(
          source,
          resolver.resolvePreload(
              loader.systemPreload(), source, exeElf, facts.path(), ldLibraryPath));
    }
    return new Closures(Optional.of(closure), exe.elfProblem(), preloads);
  }

  /** Verifies each mapped file once, through {@code /proc/PID/map_files}. */
  private MappingAnalyzer.FileChecker fileChecker(int pid, Run run) {
    Map<String, MappingAnalyzer.FileCheck> checked = new HashMap<>();
    return new MappingAnalyzer.FileChecker() {
      @Override
      public MappingAnalyzer.FileCheck check(MemoryMapping m) {
        return checked.computeIfAbsent(
            m.kernelDev() + ":" + m.inode(), k -> checkFile(pid, m, run));
      }

      @Override
      public MappingAnalyzer.FileKey identity(MemoryMapping m) {
        // stat through map_files: the same view (overlayfs included) as /proc/PID/exe and
        // paths.
        try {
          FileIdentity id = BinaryVerifier.identity(procFs.mapFile(pid, m));
          return new MappingAnalyzer.FileKey(id.dev(), id.inode());
        } catch (IOException | RuntimeException e) {
          return new MappingAnalyzer.FileKey(m.kernelDev(), m.inode());
        }
      }
    };
  }

  private MappingAnalyzer.FileCheck checkFile(int pid, MemoryMapping m, Run run) {
    try (ProcFs.MappedFile file = procFs.openMapped(pid, m)) {
      BinaryVerification v = executables.verify(file.channel(), file.statPath(), m.filePath());
      run.mapped(new MappedFileCheck(m.filePath(), v, ""));
      String reason =
          v.coverage().results().values().stream()
              .filter(
                  r ->
                      r.status() != ScopeStatus.VERIFIED
                          && r.status() != ScopeStatus.NOT_APPLICABLE)
              .map(r -> r.scope() + " " + r.status() + ": " + r.reason())
              .findFirst()
              .orElse("");
      return new MappingAnalyzer.FileCheck(v.sha256(), v.verdict(), reason);
    } catch (IOException e) {
      run.mapped(new MappedFileCheck(m.filePath(), null, String.valueOf(e.getMessage())));
      return new MappingAnalyzer.FileCheck(null, null, e.getMessage());
    }
  }

  private boolean previousPackageVersion(MappingAnalyzer.ExecutableFacts facts) {
    return facts != null
        && facts.replacedOrDeleted()
        && facts.sha256() != null
        && superseded.contains(facts.path(), facts.sha256());
  }

  private MappingAnalyzer.ExecutableFacts facts(String link, BinaryVerification exe) {
    FileIdentity id = exe.identity();
    String path = stripDeleted(link);
    if (link.startsWith(MemoryMapping.MEMFD_PREFIX)) {
      return new MappingAnalyzer.ExecutableFacts(
          path, id.dev(), id.inode(), exe.sha256(), MappingAnalyzer.PathState.MEMFD, "");
    }
    MappingAnalyzer.PathState state;
    String now = "";
    try {
      FileIdentity atPath = BinaryVerifier.identity(Path.of(path));
      if (atPath.dev() == id.dev() && atPath.inode() == id.inode()) {
        state =
            link.endsWith(MemoryMapping.DELETED_SUFFIX)
                ? MappingAnalyzer.PathState.UNKNOWN
                : MappingAnalyzer.PathState.SAME;
      } else {
        state = MappingAnalyzer.PathState.REPLACED;
        now =
            "inode "
                + atPath.inode()
                + " (dev "
                + (atPath.dev() >>> 20)
                + ":"
                + (atPath.dev() & 0xfffff)
                + ")";
      }
    } catch (NoSuchFileException e) {
      state = MappingAnalyzer.PathState.DELETED;
    } catch (IOException | RuntimeException e) {
      state = MappingAnalyzer.PathState.UNKNOWN;
    }
    return new MappingAnalyzer.ExecutableFacts(
        path, id.dev(), id.inode(), exe.sha256(), state, now);
  }

  private String tracerName(int tracer) {
    try {
      return " (" + procFs.readString(tracer, "comm").strip() + ")";
    } catch (IOException e) {
      return "";
    }
  }

  static String stripDeleted(String link) {
    return link.endsWith(MemoryMapping.DELETED_SUFFIX)
        ? link.substring(0, link.length() - MemoryMapping.DELETED_SUFFIX.length())
        : link;
  }

  private static List<String> splitPath(String value, String separators) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    return Arrays.stream(value.split("[" + separators + "]+")).filter(s -> !s.isEmpty()).toList();
  }

  /** Results and findings of one verification, restricted to the intended scopes. */
  private final class Run {
    private final int pid;
    private final Map<Scope, ScopeResult> results = new EnumMap<>(Scope.class);
    private final List<Finding> findings = new ArrayList<>();
    private final List<MappedFileCheck> mapped = new ArrayList<>();
    private int realUid = -1;

    Run(int pid) {
      this.pid = pid;
    }

    void mapped(MappedFileCheck file) {
      mapped.add(file);
    }

    void realUid(int uid) {
      realUid = uid;
    }

    void put(ScopeResult r) {
      if (policy.intends(r.scope())) {
        results.put(r.scope(), r);
      }
    }

    void finding(Finding f) {
      if (policy.intends(f.scope())) {
        findings.add(f);
      }
    }

    void refused(String what, IOException e, Scope... scopes) {
      String reason = "reading " + what + " was refused: " + e.getMessage();
      for (Scope s : scopes) {
        if (policy.intends(s) && !results.containsKey(s)) {
          results.put(s, ScopeResult.notVerified(s, reason));
        }
      }
      Scope first = Arrays.stream(scopes).filter(policy::intends).findFirst().orElse(null);
      if (first != null) {
        findings.add(
            new Finding(
                FindingType.READ_REFUSED,
                first,
                reason,
                Map.of("pid", Integer.toString(pid), "file", what)));
      }
    }

    ProcessVerification gone(IOException e, long ticks, Instant at) {
      return gone(e, ticks, at, null);
    }

    ProcessVerification gone(IOException e, long ticks, Instant at, BinaryVerification exe) {
      String reason = "process " + pid + " exited during verification: " + e.getMessage();
      Scope first = null;
      for (Scope s : Scope.values()) {
        if (policy.intends(s) && !results.containsKey(s)) {
          results.put(s, ScopeResult.notVerified(s, reason));
          first = first == null ? s : first;
        }
      }
      findings.add(
          new Finding(
              FindingType.PROCESS_GONE,
              first == null ? Scope.MEMORY_CODE : first,
              reason,
              Map.of("pid", Integer.toString(pid))));
      return finish(ticks, at, exe, 0);
    }

    ProcessVerification finish(long ticks, Instant at, BinaryVerification exe, long compared) {
      for (Scope s : policy.intendedScopes()) {
        results.putIfAbsent(s, ScopeResult.notVerified(s, "not checked"));
      }
      Coverage coverage = Coverage.of(List.copyOf(results.values()));
      // Without the executable's digest nothing says "unknown": what is missing is coverage.
      boolean referenceFound = exe == null || exe.known();
      List<Finding> ordered = new ArrayList<>(findings);
      ordered.sort(Comparator.comparing(Finding::scope));
      ProcessVerification.Executable executable =
          exe == null
              ? new ProcessVerification.Executable("", null, null)
              : new ProcessVerification.Executable(exe.path(), exe.identity(), exe.sha256());
      return new ProcessVerification(
          pid,
          ticks,
          Verdict.decide(coverage, referenceFound),
          executable,
          coverage,
          ordered,
          at,
          compared,
          referenceFound,
          exe,
          exe == null
              ? mapped
              : mapped.stream()
                  .filter(
                      f -> f.checked().map(v -> !v.identity().equals(exe.identity())).orElse(true))
                  .toList(),
          realUid);
    }
  }
}
