package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.VerdictJson;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime verify-process PID}: the VerifyProcess operation from the command line. Exit
 * code is the verdict (VERIFIED 0, FAILED 1, UNKNOWN 3, DEGRADED 4), 22 when there is no such
 * process, or an input error for the reference files (10-13). Asks the running daemon when there is
 * one (its references and policy), else verifies in this process; both print the same JSON.
 */
@Command(
    name = "verify-process",
    mixinStandardHelpOptions = true,
    description = {
      "Verify a running process: its executable, its executable mappings and the code in its memory.",
      "%nReads the executable through /proc/PID/exe, every executable mapping from /proc/PID/maps, and compares the code in memory (/proc/PID/mem) with the mapped files.",
      "%nExit codes: 0 VERIFIED, 1 FAILED, 3 UNKNOWN, 4 DEGRADED, 22 no such process; 10-13 input errors."
    })
public final class VerifyProcessCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PID", description = "the process to verify")
  String pidArgument;

  @Mixin VerifierOptions options;

  @Override
  public Integer call() {
    int pid = parsePid(pidArgument);
    boolean ownReferences = options.ownReferences();
    JsonNode v;
    try {
      v =
          VerdictOutput.call(
              options.socket,
              ownReferences,
              () -> options.loadVerifiers().api(new RuntimeStateRegistry()),
              api -> api.verifyProcess(pid));
    } catch (ApiException e) {
      if (e.code() == ApiException.Code.NOT_FOUND) {
        throw new CliException(ExitCodes.NO_SUCH_PROCESS, "no such process: " + pid);
      }
      if (e.code() == ApiException.Code.INTERNAL && e.getCause() instanceof IOException io) {
        // In-process only (a remote error carries no cause): /proc itself could not be read.
        throw new CliException(
            ExitCodes.INPUT_UNREADABLE,
            "cannot read /proc for process " + pid + ": " + IoErrors.describe(io));
      }
      throw ExitCodes.failure(e);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (options.json) {
      JsonOutput.print(out, v);
    } else {
      VerdictOutput.printText(out, v);
    }
    return VerdictOutput.exitCode(v);
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

  /**
   * The JSON form of a process verification ({@link VerdictJson#process}): the keys of {@code
   * verify-binary} plus {@code pid}, {@code startTicks} and {@code codeBytesCompared}.
   */
  public static ObjectNode toJson(ProcessVerification v) {
    return VerdictJson.process(v);
  }
}
