package dev.veriruntime.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.LineageVouch;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.MappedFileCheck;
import dev.veriruntime.verifier.process.ProcessState;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.RuntimeState;
import dev.veriruntime.verifier.reference.Reference;
import java.time.Instant;
import java.util.List;
import java.util.TreeMap;

/**
 * The verdict JSON of docs/api.md, one shape for {@code verify-binary}, {@code verify-process},
 * {@code state} and the socket: flat {@code verdict}, {@code path}, {@code sha256}, {@code
 * identity}, {@code checkedAt}, {@code coverage} (scope name to {@code {status, reason}}), {@code
 * findings} ({@code [{type, scope, reason, detail}]}); binaries add {@code reference}, processes
 * add {@code pid}, {@code startTicks} and {@code codeBytesCompared}. What vouched for a file is in
 * {@code vouchedBy} ({@link #vouchedBy}); a process adds {@code uid} and {@code mappedFiles}, the
 * runtime state {@code uid} and {@code container}. Stateless; thread safe.
 */
public final class VerdictJson {
  private VerdictJson() {}

  /** A binary verification; {@code reference} is null when no reference vouched for the file. */
  public static ObjectNode binary(BinaryVerification v) {
    ObjectNode root = ApiJson.mapper().createObjectNode();
    root.put("verdict", v.verdict().name());
    root.put("path", v.path());
    root.put("sha256", v.sha256());
    identity(root, v.identity());
    root.put("checkedAt", v.checkedAt().toString());
    coverageAndFindings(root, v.coverage(), v.findings());
    Reference ref = v.reference();
    if (ref == null) {
      root.putNull("reference");
    } else {
      root.putObject("reference")
          .put("name", ref.name())
          .put("sha256", ref.sha256())
          .put("file", ref.source().file().toString())
          .put("predicateType", ref.source().predicateType())
          .put("signedBy", ref.source().signedByKeyId());
    }
    root.set("vouchedBy", vouchedBy(v));
    return root;
  }

  /**
   * What vouched for (or was compared with) a file: {@code reference} (the statement's subject,
   * digest, file, statement digest, predicate type, signer key id and the trusted key's file, and
   * whether the digest matches), {@code package} (package, version, path, MD5, its md5sums line and
   * file, and whether it matches) and {@code lineage} (root, chain from the build's root process to
   * the writer, when the file was written); each null when it took no part.
   */
  public static ObjectNode vouchedBy(BinaryVerification v) {
    ObjectNode o = ApiJson.mapper().createObjectNode();
    Reference ref = v.reference();
    if (ref == null) {
      o.putNull("reference");
    } else {
      ObjectNode r =
          o.putObject("reference")
              .put("subject", ref.name())
              .put("sha256", ref.sha256())
              .put("matches", ref.sha256().equals(v.sha256()))
              .put("file", ref.source().file().toString())
              .put("statementSha256", ref.source().payloadSha256())
              .put("predicateType", ref.source().predicateType())
              .put("signed", ref.signed())
              .put("signedBy", ref.source().signedByKeyId())
              .put("trustedKeyFile", ref.source().signedByKeyOrigin());
      if (!ref.signed()) {
        r.put("unsignedBecause", ref.source().unsignedBecause());
      }
    }
    PackageDatabase.PackageFile pkg = v.packageRecord();
    if (pkg == null) {
      o.putNull("package");
    } else {
      o.putObject("package")
          .put("name", pkg.packageName())
          .put("version", pkg.version())
          .put("path", pkg.path())
          .put("md5", pkg.md5())
          .put("md5sumsLine", pkg.md5sumsLine())
          .put("md5sumsFile", pkg.listFile())
          .put(
              "matches",
              v.scope(Scope.DISK_HASH).map(r -> r.status() == ScopeStatus.VERIFIED).orElse(false));
    }
    LineageVouch lineage = v.lineage();
    if (lineage == null) {
      o.putNull("lineage");
    } else {
      ObjectNode l = o.putObject("lineage").put("root", lineage.root());
      l.put("writtenAt", lineage.writtenAt().toString());
      ArrayNode chain = l.putArray("chain");
      for (LineageVouch.Step step : lineage.chain()) {
        chain
            .addObject()
            .put("exe", step.exePath())
            .put("sha256", step.sha256())
            .put("toolchain", step.toolchain());
      }
    }
    return o;
  }

  /**
   * One mapped file of a process: {@code path} and either its verification ({@code verdict}, {@code
   * sha256}, {@code identity}, {@code coverage}, {@code findings}, {@code vouchedBy}) or {@code
   * unreadable} with the reason.
   */
  private static ObjectNode mappedFile(MappedFileCheck f) {
    ObjectNode o = ApiJson.mapper().createObjectNode();
    o.put("path", f.path());
    BinaryVerification v = f.verification();
    if (v == null) {
      o.put("verdict", "DEGRADED");
      o.put("unreadable", f.unreadable());
      return o;
    }
    o.put("verdict", v.verdict().name());
    o.put("sha256", v.sha256());
    identity(o, v.identity());
    coverageAndFindings(o, v.coverage(), v.findings());
    o.set("vouchedBy", vouchedBy(v));
    return o;
  }

  /**
   * A process verification; {@code path}, {@code sha256} and {@code identity} are null when the
   * executable could not be read.
   */
  public static ObjectNode process(ProcessVerification v) {
    ObjectNode root = ApiJson.mapper().createObjectNode();
    root.put("pid", v.pid());
    root.put("verdict", v.verdict().name());
    if (v.executable().path().isEmpty()) {
      root.putNull("path");
    } else {
      root.put("path", v.executable().path());
    }
    root.put("sha256", v.executable().sha256());
    identity(root, v.executable().identity());
    root.put("startTicks", v.startTicks());
    root.put("checkedAt", v.checkedAt().toString());
    root.put("codeBytesCompared", v.codeBytesCompared());
    root.put("uid", v.realUid());
    coverageAndFindings(root, v.coverage(), v.findings());
    if (v.executableVerification() == null) {
      root.putNull("vouchedBy");
    } else {
      root.set("vouchedBy", vouchedBy(v.executableVerification()));
    }
    ArrayNode mapped = root.putArray("mappedFiles");
    v.mappedFiles().forEach(f -> mapped.add(mappedFile(f)));
    return root;
  }

  /**
   * ListRuntimeState: {@code processes} (each as {@link #processState}) and the counts of {@link
   * RuntimeState}: {@code kernelThreads}, {@code exitedWhileListing}, {@code untracked}, {@code
   * capacity}, {@code refusedAtCapacity}.
   */
  public static ObjectNode state(RuntimeState state) {
    ObjectNode root = ApiJson.mapper().createObjectNode();
    ArrayNode array = root.putArray("processes");
    state.processes().forEach(p -> array.add(processState(p)));
    root.put("kernelThreads", state.kernelThreads());
    root.put("exitedWhileListing", state.exitedWhileListing());
    root.put("untracked", state.untracked());
    root.put("capacity", state.capacity());
    root.put("refusedAtCapacity", state.refusedAtCapacity());
    return root;
  }

  /**
   * One process of the runtime state: the fields of {@link #process} ({@code checkedAt} is the
   * latest check, null when none yet) and {@code ppid}, {@code execCheckedAt}, {@code reattested},
   * {@code reattestedAt}, {@code tracked}, {@code incidents}.
   */
  public static ObjectNode processState(ProcessState p) {
    ObjectNode root = ApiJson.mapper().createObjectNode();
    root.put("pid", p.pid());
    root.put("ppid", p.ppid());
    root.put("verdict", p.verdict().name());
    if (p.executable().path().isEmpty()) {
      root.putNull("path");
    } else {
      root.put("path", p.executable().path());
    }
    root.put("sha256", p.executable().sha256());
    identity(root, p.executable().identity());
    root.put("startTicks", p.startTicks());
    instant(root, "checkedAt", p.checkedAt());
    instant(root, "execCheckedAt", p.execCheckedAt());
    root.put("reattested", p.reattested());
    instant(root, "reattestedAt", p.reattestedAt());
    root.put("tracked", p.tracked());
    root.put("uid", p.uid());
    root.put("container", p.container());
    root.put("codeBytesCompared", p.codeBytesCompared());
    coverageAndFindings(root, p.coverage(), p.findings());
    ArrayNode incidents = root.putArray("incidents");
    p.incidents().forEach(incidents::add);
    return root;
  }

  private static void instant(ObjectNode root, String field, Instant at) {
    if (at == null) {
      root.putNull(field);
    } else {
      root.put(field, at.toString());
    }
  }

  private static void identity(ObjectNode root, FileIdentity id) {
    if (id == null) {
      root.putNull("identity");
    } else {
      root.putObject("identity")
          .put("dev", id.dev())
          .put("inode", id.inode())
          .put("ctimeNanos", id.ctimeNanos())
          .put("size", id.size());
    }
  }

  private static void coverageAndFindings(
      ObjectNode root, Coverage coverage, List<Finding> findings) {
    ObjectNode c = root.putObject("coverage");
    for (ScopeResult r : coverage.results().values()) {
      c.putObject(r.scope().name()).put("status", r.status().name()).put("reason", r.reason());
    }
    ArrayNode array = root.putArray("findings");
    for (Finding f : findings) {
      ObjectNode o =
          array
              .addObject()
              .put("type", f.type().name())
              .put("scope", f.scope().name())
              .put("reason", f.reason());
      ObjectNode detail = o.putObject("detail");
      new TreeMap<>(f.detail()).forEach(detail::put);
    }
  }
}
