package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.NotAUserProcessException;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.IOException;
import java.io.PrintWriter;
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
 * {@code veriruntime verify-process PID}: the VerifyProcess operation from the command line. Exit
 * code is the verdict (VERIFIED 0, FAILED 1, UNKNOWN 3, DEGRADED 4), 22 when there is no such
 * process, or an input error for the reference files (10-13).
 */
@Command(
    name = "verify-process",
    mixinStandardHelpOptions = true,
    description = {
      "Verify a running process: its executable (through /proc/PID/exe), every executable",
      "mapping (/proc/PID/maps) and the code in its memory against the mapped files"
          + " (/proc/PID/mem).",
      "Exit: 0 VERIFIED, 1 FAILED, 3 UNKNOWN, 4 DEGRADED, 22 no such process; 10-13 input errors."
    })
public final class VerifyProcessCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PID", description = "the process to verify")
  String pidArgument;

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
    int pid = parsePid(pidArgument);
    ProcessVerifier verifier = verifier(refs, trustedKeys);
    ProcessVerification v;
    try {
      v = verifier.verify(pid);
    } catch (ProcessGoneException e) {
      throw new CliException(ExitCodes.NO_SUCH_PROCESS, "no such process: " + pid);
    } catch (NotAUserProcessException e) {
      throw new CliException(ExitCodes.USAGE, e.getMessage());
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "cannot read /proc for process " + pid + ": " + RefsCommand.describe(e));
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      RefsCommand.printJson(out, toJson(v));
    } else {
      printText(out, v);
    }
    return exitCode(v);
  }

  static int parsePid(String text) {
    try {
      int pid = Integer.parseInt(text.strip());
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new CliException(ExitCodes.USAGE, "PID must be a positive process id: " + text);
  }

  /** A process verifier over the given reference files, with the default policy. */
  static ProcessVerifier verifier(List<Path> refs, List<Path> trustedKeys) {
    ReferenceStore store;
    try {
      store =
          new ReferenceLoader(RefsCommand.trustedKeys(trustedKeys), SignaturePolicy.ALLOW_UNSIGNED)
              .loadAll(refs);
    } catch (ReferenceException e) {
      throw RefsCommand.cliError(e);
    }
    BinaryVerifier binaries =
        new BinaryVerifier(store, Clock.systemUTC(), BinaryVerifier.Options.defaults());
    return new ProcessVerifier(
        ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), Clock.systemUTC());
  }

  static int exitCode(ProcessVerification v) {
    return switch (v.verdict()) {
      case VERIFIED -> ExitCodes.OK;
      case FAILED -> ExitCodes.VERDICT_FAILED;
      case UNKNOWN -> ExitCodes.VERDICT_UNKNOWN;
      case DEGRADED -> ExitCodes.VERDICT_DEGRADED;
    };
  }

  /**
   * The JSON form of a process verification: the keys of {@code verify-binary} ({@code verdict},
   * {@code path}, {@code sha256}, {@code identity}, {@code checkedAt}, {@code coverage}, {@code
   * findings} with {@code type}, {@code scope}, {@code reason}, {@code detail}) plus {@code pid},
   * {@code startTicks} and {@code codeBytesCompared}. {@code path}, {@code sha256} and {@code
   * identity} are null when the executable could not be read.
   */
  public static ObjectNode toJson(ProcessVerification v) {
    ObjectNode root = RefsCommand.JSON.createObjectNode();
    root.put("pid", v.pid());
    root.put("verdict", v.verdict().name());
    if (v.executable().path().isEmpty()) {
      root.putNull("path");
    } else {
      root.put("path", v.executable().path());
    }
    root.put("sha256", v.executable().sha256());
    if (v.executable().identity() == null) {
      root.putNull("identity");
    } else {
      root.putObject("identity")
          .put("dev", v.executable().identity().dev())
          .put("inode", v.executable().identity().inode())
          .put("ctimeNanos", v.executable().identity().ctimeNanos())
          .put("size", v.executable().identity().size());
    }
    root.put("startTicks", v.startTicks());
    root.put("checkedAt", v.checkedAt().toString());
    root.put("codeBytesCompared", v.codeBytesCompared());
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
    return root;
  }

  static void printText(PrintWriter out, ProcessVerification v) {
    out.printf(
        "%s  pid %d  %s%n",
        v.verdict(),
        v.pid(),
        v.executable().path().isEmpty() ? "(executable unreadable)" : v.executable().path());
    if (v.executable().sha256() != null) {
      out.printf("  sha256  %s%n", v.executable().sha256());
    }
    for (ScopeResult r : v.coverage().results().values()) {
      out.printf("  %-13s %-14s %s%n", r.scope(), r.status(), r.reason());
    }
    for (Finding f : v.findings()) {
      out.printf("  finding %s [%s]: %s%n", f.type(), f.scope(), f.reason());
    }
    out.flush();
  }
}
