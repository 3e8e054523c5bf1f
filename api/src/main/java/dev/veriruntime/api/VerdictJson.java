package dev.veriruntime.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.reference.Reference;
import java.util.List;
import java.util.TreeMap;

/**
 * The verdict JSON of docs/api.md, one shape for {@code verify-binary}, {@code verify-process},
 * {@code state} and the socket: flat {@code verdict}, {@code path}, {@code sha256}, {@code
 * identity}, {@code checkedAt}, {@code coverage} (scope name to {@code {status, reason}}), {@code
 * findings} ({@code [{type, scope, reason, detail}]}); binaries add {@code reference}, processes
 * add {@code pid}, {@code startTicks} and {@code codeBytesCompared}. Stateless; thread safe.
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
    return root;
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
    coverageAndFindings(root, v.coverage(), v.findings());
    return root;
  }

  /** Processes in the given order, each as {@link #process}. */
  public static ArrayNode processes(List<ProcessVerification> state) {
    ArrayNode array = ApiJson.mapper().createArrayNode();
    state.forEach(v -> array.add(process(v)));
    return array;
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
