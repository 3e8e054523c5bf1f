package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@link Scope#MEMORY_MAP} check: is every executable mapping of a process a verified file that
 * belongs there?
 *
 * <p>Rules, per executable mapping: {@code [vdso]} and {@code [vsyscall]} are the kernel's own and
 * accepted; anonymous (including heap and stack), shared-memory and other special executable memory
 * is {@link FindingType#ANONYMOUS_EXECUTABLE_MEMORY} unless the policy allows it for the
 * executable's SHA-256; a memfd is {@link FindingType#MEMFD_MAPPING}; a deleted file {@link
 * FindingType#DELETED_MAPPING}; a file outside the dependency closure is {@link
 * FindingType#PRELOADED_LIBRARY} (saying whether {@code LD_PRELOAD} or {@code /etc/ld.so.preload}
 * brought it) or {@link FindingType#UNEXPECTED_LIBRARY} ("loaded at run time (dlopen)") unless the
 * policy allows its SHA-256 (or, for dlopen only, {@link ProcessPolicy#acceptVerifiedDlopen()} and
 * the library itself is VERIFIED); every other mapped file is verified through the {@link
 * FileChecker} and must not be FAILED (FAILED fails the scope) nor unknown (that leaves it
 * NOT_VERIFIED). The executable itself is judged once: deleted, replaced by rename, or a memfd. A
 * deleted or replaced executable or library that is one of the {@link SupersededFiles} (the
 * previous version of an upgraded package's file) is a {@link FindingType#PREVIOUS_PACKAGE_VERSION}
 * note, not a failure.
 *
 * <p>Pure apart from the checker it is given; thread-safe.
 */
public final class MappingAnalyzer {
  private static final int MAX_ANONYMOUS_FINDINGS = 32;

  private final ProcessPolicy policy;
  private final SupersededFiles superseded;

  public MappingAnalyzer(ProcessPolicy policy) {
    this(policy, SupersededFiles.NONE);
  }

  public MappingAnalyzer(ProcessPolicy policy, SupersededFiles superseded) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.superseded = Objects.requireNonNull(superseded, "superseded");
  }

  /** How the executable's path relates to the inode that runs. */
  public enum PathState {
    /** The path still names the inode that runs. */
    SAME,
    /** The file was unlinked and nothing has its name now. */
    DELETED,
    /** The path now names another file (replaced by rename or unlinked and re-created). */
    REPLACED,
    /** The executable is a memfd: it never had a path. */
    MEMFD,
    /** Could not be determined (for example the path could not be stat-ed). */
    UNKNOWN
  }

  /**
   * What is known about the running executable.
   *
   * @param path its path without {@code " (deleted)"} (a {@code /memfd:} name for memfd)
   * @param kernelDev device of the inode that runs (kernel encoding)
   * @param inode the inode that runs
   * @param sha256 its SHA-256 read through {@code /proc/PID/exe}, or null if it could not be read
   * @param pathState how {@code path} relates to that inode
   * @param pathNow what the path names now, for REPLACED (else empty)
   */
  public record ExecutableFacts(
      String path, long kernelDev, long inode, String sha256, PathState pathState, String pathNow) {
    public ExecutableFacts {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(pathState, "pathState");
      pathNow = pathNow == null ? "" : pathNow;
    }

    /** The path no longer names the inode that runs: it was deleted or replaced. */
    public boolean replacedOrDeleted() {
      return pathState == PathState.DELETED || pathState == PathState.REPLACED;
    }
  }

  /**
   * What verifying one mapped file found.
   *
   * @param sha256 its SHA-256, or null when it could not be read
   * @param verdict the VerifyBinary verdict, or null when it could not be read
   * @param reason why it is not VERIFIED (empty when it is)
   */
  public record FileCheck(String sha256, Verdict verdict, String reason) {}

  /** Device (kernel encoding) and inode naming one file. */
  public record FileKey(long kernelDev, long inode) {}

  /** Verifies the file behind a mapping (once per file: callers cache). */
  @FunctionalInterface
  public interface FileChecker {
    FileCheck check(MemoryMapping mapping);

    /**
     * The identity of the file behind {@code mapping} as {@code stat} sees it, comparable with the
     * executable's and the dependency closure's identities. The default takes the maps line's
     * device and inode; on overlayfs those name the underlying file while {@code stat} names the
     * overlay's, so implementations that can should {@code stat} {@code /proc/PID/map_files}.
     */
    default FileKey identity(MemoryMapping mapping) {
      return new FileKey(mapping.kernelDev(), mapping.inode());
    }
  }

  /** The scope result and its findings. */
  public record Analysis(ScopeResult result, List<Finding> findings) {
    public Analysis {
      findings = List.copyOf(findings);
    }
  }

  /**
   * Analyzes {@code mappings}.
   *
   * @param closure the executable's dependency closure, or empty when it could not be computed
   *     ({@code closureProblem} says why; libraries then cannot be judged and the scope is at best
   *     NOT_VERIFIED)
   * @param preloads closures of preload lists keyed by their source (for example {@code "LD_PRELOAD
   *     in the process environment"})
   */
  public Analysis analyze(
      int pid,
      List<MemoryMapping> mappings,
      ExecutableFacts exe,
      Optional<DependencyClosure> closure,
      String closureProblem,
      Map<String, DependencyClosure> preloads,
      FileChecker checker) {
    Judgement j = new Judgement();
    judgeExecutable(pid, exe, j);
    boolean anonAllowed =
        exe.sha256() != null && policy.allowAnonymousExec().contains(exe.sha256());
    Map<String, MemoryMapping> seenFiles = new LinkedHashMap<>();
    for (MemoryMapping m : mappings) {
      if (!m.executable()) {
        continue;
      }
      switch (m.kind()) {
        case VDSO, VSYSCALL -> {}
        case ANONYMOUS, HEAP, STACK, SPECIAL, OTHER_INODE -> judgeAnonymous(m, anonAllowed, j);
        case MEMFD, DELETED_FILE, FILE -> {
          FileKey id = checker.identity(m);
          boolean isExe = id.kernelDev() == exe.kernelDev() && id.inode() == exe.inode();
          if (isExe || seenFiles.putIfAbsent(m.kernelDev() + ":" + m.inode(), m) != null) {
            continue;
          }
          j.files++;
          judgeFile(m, id, exe, closure, preloads, checker, j);
        }
      }
    }
    if (j.anonymous > MAX_ANONYMOUS_FINDINGS && !anonAllowed) {
      j.failures.add(
          new Finding(
              FindingType.ANONYMOUS_EXECUTABLE_MEMORY,
              Scope.MEMORY_MAP,
              (j.anonymous - MAX_ANONYMOUS_FINDINGS)
                  + " more anonymous executable regions not listed",
              Map.of()));
    }
    if (closure.isEmpty()) {
      j.unverified.add("dependency closure unknown: " + closureProblem);
    }
    return j.analysis(exe);
  }

  /**
   * What the analysis has found so far: failures fail the scope, unverified problems leave it
   * NOT_VERIFIED, notes accompany any result.
   */
  private static final class Judgement {
    final List<Finding> failures = new ArrayList<>();
    final List<String> unverified = new ArrayList<>();
    final List<Finding> notes = new ArrayList<>();
    int anonymous;
    int files;

    Analysis analysis(ExecutableFacts exe) {
      List<Finding> findings = new ArrayList<>(failures);
      findings.addAll(notes);
      return new Analysis(result(exe), findings);
    }

    private ScopeResult result(ExecutableFacts exe) {
      if (!failures.isEmpty()) {
        return ScopeResult.failed(
            Scope.MEMORY_MAP, failures.size() + " finding(s); first: " + failures.get(0).reason());
      }
      if (!unverified.isEmpty()) {
        return ScopeResult.notVerified(
            Scope.MEMORY_MAP,
            unverified.size() + " mapping problem(s); first: " + unverified.get(0));
      }
      return ScopeResult.verified(
          Scope.MEMORY_MAP,
          "executable and "
              + files
              + " mapped file(s) verified, all in the"
              + " dependency closure or allowed"
              + (anonymous > 0
                  ? "; "
                      + anonymous
                      + " anonymous executable region(s) allowed"
                      + " by policy for sha256 "
                      + exe.sha256()
                  : ""));
    }
  }

  /** The executable itself: deleted, replaced by rename, or a memfd; or a superseded version. */
  private void judgeExecutable(int pid, ExecutableFacts exe, Judgement j) {
    if (exe.replacedOrDeleted()
        && exe.sha256() != null
        && superseded.contains(exe.path(), exe.sha256())) {
      j.notes.add(
          new Finding(
              FindingType.PREVIOUS_PACKAGE_VERSION,
              Scope.MEMORY_MAP,
              "executable "
                  + exe.path()
                  + " was replaced by a package upgrade while process "
                  + pid
                  + " runs it: it runs the previous version (sha256 "
                  + exe.sha256()
                  + ") until restarted",
              exeDetail(exe)));
      return;
    }
    switch (exe.pathState()) {
      case DELETED -> j.failures.add(deletedExecutable(pid, exe));
      case REPLACED -> j.failures.add(replacedExecutable(pid, exe));
      case MEMFD -> j.failures.add(memfdExecutable(pid, exe));
      case UNKNOWN ->
          j.unverified.add(
              "whether " + exe.path() + " still names the executable that runs is unknown");
      case SAME -> {}
    }
  }

  private static Finding deletedExecutable(int pid, ExecutableFacts exe) {
    return new Finding(
        FindingType.BINARY_DELETED,
        Scope.MEMORY_MAP,
        "executable "
            + exe.path()
            + " was deleted while process "
            + pid
            + " runs it (inode "
            + exe.inode()
            + "); its content was read through /proc/"
            + pid
            + "/exe",
        exeDetail(exe));
  }

  private static Finding replacedExecutable(int pid, ExecutableFacts exe) {
    return new Finding(
        FindingType.BINARY_REPLACED,
        Scope.MEMORY_MAP,
        "executable "
            + exe.path()
            + " was replaced while process "
            + pid
            + " runs it: the path now names "
            + exe.pathNow()
            + ", the process runs inode "
            + exe.inode()
            + " (read through /proc/"
            + pid
            + "/exe)",
        exeDetail(exe));
  }

  private static Finding memfdExecutable(int pid, ExecutableFacts exe) {
    return new Finding(
        FindingType.MEMFD_EXECUTION,
        Scope.MEMORY_MAP,
        "process "
            + pid
            + " runs a memfd ("
            + exe.path()
            + "): code that exists in no file system"
            + (exe.sha256() == null
                ? ""
                : "; sha256 " + exe.sha256() + " read through /proc/" + pid + "/exe"),
        exeDetail(exe));
  }

  /** Anonymous, heap, stack, special or shared executable memory: counted, listed up to a cap. */
  private static void judgeAnonymous(MemoryMapping m, boolean anonAllowed, Judgement j) {
    j.anonymous++;
    if (anonAllowed || j.anonymous > MAX_ANONYMOUS_FINDINGS) {
      return;
    }
    j.failures.add(
        new Finding(
            FindingType.ANONYMOUS_EXECUTABLE_MEMORY,
            Scope.MEMORY_MAP,
            anonymousReason(m)
                + " at "
                + range(m)
                + " ("
                + m.length()
                + " bytes, "
                + m.permissions()
                + ") is executable",
            Map.of(
                "address",
                hex(m.start()),
                "end",
                hex(m.end()),
                "permissions",
                m.permissions(),
                "mapping",
                m.describe())));
  }

  /** A mapped file other than the executable: memfd, deleted, outside the closure, unverified. */
  private void judgeFile(
      MemoryMapping m,
      FileKey id,
      ExecutableFacts exe,
      Optional<DependencyClosure> closure,
      Map<String, DependencyClosure> preloads,
      FileChecker checker,
      Judgement j) {
    FileCheck check = checker.check(m);
    Map<String, String> detail = new LinkedHashMap<>();
    detail.put("library", m.filePath());
    detail.put("address", hex(m.start()));
    detail.put("mapping", m.describe());
    if (check.sha256() != null) {
      detail.put("sha256", check.sha256());
    }
    if (m.kind() == MemoryMapping.Kind.MEMFD) {
      j.failures.add(memfdMapping(m, detail));
      return;
    }
    if (m.kind() == MemoryMapping.Kind.DELETED_FILE) {
      judgeDeletedLibrary(m, check, detail, j);
      return;
    }
    if (closure.isPresent()
        && !closure.get().contains(id.kernelDev(), id.inode())
        && !judgeOutsideClosure(m, id, exe, preloads, check, detail, j)) {
      return;
    }
    judgeFileVerdict(m.filePath(), check, detail, j);
  }

  private static Finding memfdMapping(MemoryMapping m, Map<String, String> detail) {
    return new Finding(
        FindingType.MEMFD_MAPPING,
        Scope.MEMORY_MAP,
        "executable memfd "
            + m.filePath()
            + " mapped at "
            + hex(m.start())
            + ": code that exists in no file system",
        detail);
  }

  /** A deleted library is a failure, unless it is the previous version of an upgraded package's. */
  private void judgeDeletedLibrary(
      MemoryMapping m, FileCheck check, Map<String, String> detail, Judgement j) {
    String path = m.filePath();
    if (check.sha256() != null && superseded.contains(path, check.sha256())) {
      j.notes.add(
          new Finding(
              FindingType.PREVIOUS_PACKAGE_VERSION,
              Scope.MEMORY_MAP,
              "library "
                  + path
                  + " mapped at "
                  + hex(m.start())
                  + " is the previous version of an upgraded package's file, in use until"
                  + " the process restarts",
              detail));
      return;
    }
    j.failures.add(
        new Finding(
            FindingType.DELETED_MAPPING,
            Scope.MEMORY_MAP,
            "library "
                + path
                + " mapped at "
                + hex(m.start())
                + " was deleted or replaced after it was loaded (inode "
                + m.inode()
                + ")",
            detail));
  }

  /**
   * A library outside the dependency closure: preloaded or loaded at run time. Allowed by its
   * SHA-256, or an accepted verified dlopen, it is a note; otherwise a failure.
   *
   * @return whether the file's own verdict still has to be judged (false after a failure)
   */
  private boolean judgeOutsideClosure(
      MemoryMapping m,
      FileKey id,
      ExecutableFacts exe,
      Map<String, DependencyClosure> preloads,
      FileCheck check,
      Map<String, String> detail,
      Judgement j) {
    String how = null;
    FindingType type = FindingType.UNEXPECTED_LIBRARY;
    for (Map.Entry<String, DependencyClosure> p : preloads.entrySet()) {
      Optional<ResolvedLibrary> hit = p.getValue().find(id.kernelDev(), id.inode());
      if (hit.isPresent()) {
        type = FindingType.PRELOADED_LIBRARY;
        how =
            hit.get().foundVia().equals(p.getKey())
                ? "injected through " + p.getKey()
                : "needed by preloaded " + hit.get().neededBy() + " (" + p.getKey() + ")";
        break;
      }
    }
    if (how == null) {
      how = "loaded at run time (dlopen)";
    }
    detail.put("how", how);
    String reason =
        "library "
            + m.filePath()
            + " is outside the dependency closure of "
            + exe.path()
            + ": "
            + how;
    boolean allowed = check.sha256() != null && policy.allowedLibraries().contains(check.sha256());
    boolean verifiedPlugin =
        type == FindingType.UNEXPECTED_LIBRARY
            && policy.acceptVerifiedDlopen()
            && check.verdict() == Verdict.VERIFIED;
    if (allowed) {
      j.notes.add(
          new Finding(
              type,
              Scope.MEMORY_MAP,
              reason + "; allowed by policy for sha256 " + check.sha256(),
              detail));
    } else if (verifiedPlugin) {
      j.notes.add(
          new Finding(
              type,
              Scope.MEMORY_MAP,
              reason + "; accepted by policy: the library itself is verified",
              detail));
    } else {
      j.failures.add(new Finding(type, Scope.MEMORY_MAP, reason, detail));
      return false;
    }
    return true;
  }

  /** The mapped file's own verification: FAILED fails the scope, anything but VERIFIED degrades. */
  private static void judgeFileVerdict(
      String path, FileCheck check, Map<String, String> detail, Judgement j) {
    if (check.verdict() == Verdict.FAILED) {
      j.failures.add(
          new Finding(
              FindingType.UNVERIFIED_MAPPING,
              Scope.MEMORY_MAP,
              "mapped file " + path + " failed verification: " + check.reason(),
              detail));
    } else if (check.verdict() != Verdict.VERIFIED) {
      String why =
          check.verdict() == null
              ? "could not be read: " + check.reason()
              : "is " + check.verdict() + ": " + check.reason();
      j.unverified.add("mapped file " + path + " " + why);
      j.notes.add(
          new Finding(
              FindingType.UNVERIFIED_MAPPING,
              Scope.MEMORY_MAP,
              "mapped file " + path + " " + why,
              detail));
    }
  }

  private static String anonymousReason(MemoryMapping m) {
    return switch (m.kind()) {
      case HEAP -> "heap";
      case STACK -> "stack " + m.pathname();
      case SPECIAL ->
          "kernel special mapping "
              + m.pathname()
              + (m.pathname().equals("[uprobes]") ? " (uprobes instrument this process)" : "");
      case OTHER_INODE -> "shared memory (inode " + m.inode() + ")";
      default -> m.pathname().isEmpty() ? "anonymous memory" : "anonymous memory " + m.pathname();
    };
  }

  private static Map<String, String> exeDetail(ExecutableFacts exe) {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("path", exe.path());
    d.put("inode", Long.toString(exe.inode()));
    if (exe.sha256() != null) {
      d.put("sha256", exe.sha256());
    }
    if (!exe.pathNow().isEmpty()) {
      d.put("pathNow", exe.pathNow());
    }
    return d;
  }

  private static String range(MemoryMapping m) {
    return hex(m.start()) + "-" + hex(m.end());
  }

  static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
