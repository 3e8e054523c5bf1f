package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime verify-binary PATH}: the VerifyBinary operation from the command line. Exit
 * code is the verdict (VERIFIED 0, FAILED 1, UNKNOWN 3, DEGRADED 4) or an input error (10-13).
 */
@Command(
    name = "verify-binary",
    mixinStandardHelpOptions = true,
    description = {
      "Verify one file against trusted references: whole-file SHA-256, ELF header,",
      "per-section digests and the signature of the reference that vouches for it.",
      "Exit: 0 VERIFIED, 1 FAILED, 3 UNKNOWN, 4 DEGRADED; 10-13 input errors (docs/references.md)."
    })
public final class VerifyBinaryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PATH", description = "the file to verify")
  Path path;

  @Option(
      names = "--refs",
      paramLabel = "FILE",
      description = "reference file: DSSE envelope(s) or plain statement (repeatable)")
  List<Path> refs = new ArrayList<>();

  @Option(
      names = "--trusted-key",
      paramLabel = "PUB",
      description = "SPKI PEM public key whose signatures are trusted (repeatable)")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Override
  public Integer call() {
    ReferenceStore store;
    try {
      store =
          new ReferenceLoader(RefsCommand.trustedKeys(trustedKeys), SignaturePolicy.ALLOW_UNSIGNED)
              .loadAll(refs);
    } catch (ReferenceException e) {
      throw RefsCommand.cliError(e);
    }
    BinaryVerification v;
    try {
      v =
          new BinaryVerifier(store, Clock.systemUTC(), BinaryVerifier.Options.defaults())
              .verify(path);
    } catch (FileSystemException e) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, "cannot read " + path + ": " + reason(e));
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, "cannot read " + path + ": " + RefsCommand.describe(e));
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      RefsCommand.printJson(out, toJson(v));
    } else {
      printText(out, v);
    }
    return exitCode(v);
  }

  private static String reason(FileSystemException e) {
    return e.getReason() != null ? e.getReason() : RefsCommand.describe(e);
  }

  /** The exit code for a verdict. */
  static int exitCode(BinaryVerification v) {
    return switch (v.verdict()) {
      case VERIFIED -> ExitCodes.OK;
      case FAILED -> ExitCodes.VERDICT_FAILED;
      case UNKNOWN -> ExitCodes.VERDICT_UNKNOWN;
      case DEGRADED -> ExitCodes.VERDICT_DEGRADED;
    };
  }

  /**
   * The JSON form of a verification (schema in docs/references.md): {@code verdict}, {@code path},
   * {@code sha256}, {@code identity}, {@code checkedAt}, {@code coverage} (scope to {@code {status,
   * reason}}), {@code findings} ({@code [{type, scope, reason, detail}]}) and {@code reference}.
   */
  public static ObjectNode toJson(BinaryVerification v) {
    ObjectNode root = RefsCommand.JSON.createObjectNode();
    root.put("verdict", v.verdict().name());
    root.put("path", v.path());
    root.put("sha256", v.sha256());
    ObjectNode id = root.putObject("identity");
    id.put("dev", v.identity().dev())
        .put("inode", v.identity().inode())
        .put("ctimeNanos", v.identity().ctimeNanos())
        .put("size", v.identity().size());
    root.put("checkedAt", v.checkedAt().toString());
    ObjectNode coverage = root.putObject("coverage");
    for (ScopeResult r : v.coverage().results().values()) {
      coverage
          .putObject(r.scope().name())
          .put("status", r.status().name())
          .put("reason", r.reason());
    }
    ArrayNode findings = root.putArray("findings");
    for (Finding f : v.findings()) {
      ObjectNode o =
          findings
              .addObject()
              .put("type", f.type().name())
              .put("scope", f.scope().name())
              .put("reason", f.reason());
      ObjectNode detail = o.putObject("detail");
      new TreeMap<>(f.detail()).forEach(detail::put);
    }
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

  private static void printText(PrintWriter out, BinaryVerification v) {
    out.printf("%s  %s%n", v.verdict(), v.path());
    out.printf("  sha256  %s%n", v.sha256());
    for (ScopeResult r : v.coverage().results().values()) {
      out.printf("  %-13s %-14s %s%n", r.scope(), r.status(), r.reason());
    }
    for (Finding f : v.findings()) {
      out.printf("  finding %s [%s]: %s%n", f.type(), f.scope(), f.reason());
    }
    out.flush();
  }
}
