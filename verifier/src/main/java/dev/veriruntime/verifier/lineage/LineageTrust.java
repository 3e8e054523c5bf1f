package dev.veriruntime.verifier.lineage;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.LineageVouch;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Build-lineage trust: whether a file no reference knows is trusted because verified toolchain
 * processes wrote it inside a configured lineage root and nothing changed it since.
 *
 * <p>Rules, in order: lineage is asked only when the verdict is {@link Verdict#UNKNOWN} (it never
 * overrides a failure, and never completes a reference that lacks a signature); only for a path
 * inside one of the roots; then the record for the file's exact kernel identity makes {@link
 * Scope#LINEAGE} VERIFIED, naming the chain, and the verdict follows {@link
 * Verdict#decideByLineage}; a record for the same inode with another change time or size means the
 * file was changed after the toolchain was done ({@link FindingType#LINEAGE_BROKEN}, verdict
 * unchanged); no record at all means nothing from the toolchain wrote it (same).
 *
 * <p>Pure and thread-safe: roots are fixed at construction; the caller looks the records up.
 *
 * <pre>{@code
 * LineageTrust trust = new LineageTrust(List.of(Path.of("/srv/build")));
 * LineageDecision d = trust.decide(verification, "/srv/build/out/app", store.exact(id), store.byInode(id));
 * }</pre>
 */
public final class LineageTrust {
  private final List<Path> roots;

  /**
   * @param roots absolute directories; a file is inside one when its path starts below it
   */
  public LineageTrust(List<Path> roots) {
    List<Path> normalized = new ArrayList<>();
    for (Path r : roots) {
      if (!r.isAbsolute()) {
        throw new IllegalArgumentException("a lineage root must be absolute: " + r);
      }
      normalized.add(r.normalize());
    }
    this.roots = List.copyOf(normalized);
  }

  public List<Path> roots() {
    return roots;
  }

  /** Whether any root is configured (no root: lineage is off). */
  public boolean enabled() {
    return !roots.isEmpty();
  }

  /** The root that contains {@code path}, if any; a relative or empty path is in none. */
  public Optional<Path> rootOf(String path) {
    if (path == null || !path.startsWith("/")) {
      return Optional.empty();
    }
    Path p = Path.of(path).normalize();
    return roots.stream().filter(p::startsWith).findFirst();
  }

  /**
   * The decision for {@code base}, the verification of the file executed or mapped as {@code path}.
   *
   * @param exact the lineage record for {@code base.identity()} exactly, or {@code null}
   * @param sameInode a record for the same device and inode with another identity, or {@code null}
   */
  public LineageDecision decide(
      BinaryVerification base, String path, LineageRecord exact, LineageRecord sameInode) {
    if (base.verdict() != Verdict.UNKNOWN) {
      return new LineageDecision(LineageDecision.Outcome.NOT_ASKED, base, null, null);
    }
    Optional<Path> root = rootOf(path);
    if (root.isEmpty()) {
      return new LineageDecision(LineageDecision.Outcome.OUTSIDE_ROOTS, base, null, null);
    }
    String rootName = root.get().toString();
    if (exact != null && exact.identity().equals(base.identity())) {
      return new LineageDecision(
          LineageDecision.Outcome.TRUSTED, trusted(base, exact, rootName), rootName, exact);
    }
    if (sameInode != null && sameInode.sameInode(base.identity())) {
      String reason =
          "written by "
              + sameInode.describeChain()
              + " in lineage root "
              + rootName
              + ", then changed by something else ("
              + changes(sameInode.identity(), base.identity())
              + "): its lineage is void";
      return new LineageDecision(
          LineageDecision.Outcome.CHANGED_SINCE_WRITTEN,
          broken(base, reason, Map.of("root", rootName, "writtenBy", sameInode.describeChain())),
          rootName,
          sameInode);
    }
    String reason =
        "no verified toolchain process wrote this file in lineage root "
            + rootName
            + " (copied, downloaded, or written by something else)";
    return new LineageDecision(
        LineageDecision.Outcome.NO_LINEAGE,
        broken(base, reason, Map.of("root", rootName)),
        rootName,
        null);
  }

  private static BinaryVerification trusted(
      BinaryVerification base, LineageRecord record, String root) {
    String reason =
        "trusted by build lineage, not by a reference or signature: built in "
            + root
            + " by "
            + record.describeChain()
            + "; toolchain "
            + record.toolchainDigests().entrySet().stream()
                .map(e -> e.getKey() + " sha256 " + e.getValue())
                .toList();
    Coverage coverage = base.coverage().with(ScopeResult.verified(Scope.LINEAGE, reason));
    LineageVouch vouch =
        new LineageVouch(
            root,
            record.chain().stream()
                .map(s -> new LineageVouch.Step(s.exePath(), s.sha256(), s.toolchain()))
                .toList(),
            record.writtenAt());
    return rebuild(base, coverage, base.findings(), Verdict.decideByLineage(coverage), vouch);
  }

  private static BinaryVerification broken(
      BinaryVerification base, String reason, Map<String, String> detail) {
    Coverage coverage = base.coverage().with(ScopeResult.notVerified(Scope.LINEAGE, reason));
    List<Finding> findings = new ArrayList<>(base.findings());
    findings.add(new Finding(FindingType.LINEAGE_BROKEN, Scope.LINEAGE, reason, detail));
    return rebuild(base, coverage, findings, base.verdict(), null);
  }

  private static BinaryVerification rebuild(
      BinaryVerification base,
      Coverage coverage,
      List<Finding> findings,
      Verdict verdict,
      LineageVouch vouch) {
    return new BinaryVerification(
        verdict,
        base.path(),
        base.sha256(),
        base.identity(),
        coverage,
        findings,
        base.reference(),
        base.checkedAt(),
        base.packageRecord(),
        vouch);
  }

  private static String changes(FileIdentity was, FileIdentity now) {
    List<String> what = new ArrayList<>();
    if (was.ctimeNanos() != now.ctimeNanos()) {
      what.add("change time");
    }
    if (was.size() != now.size()) {
      what.add("size");
    }
    return what.isEmpty() ? "identity differs" : String.join(", ", what) + " differ";
  }
}
