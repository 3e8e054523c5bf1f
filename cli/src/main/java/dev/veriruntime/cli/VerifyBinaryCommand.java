package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.VerdictJson;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime verify-binary PATH}: the VerifyBinary operation from the command line. Exit
 * code is the verdict (VERIFIED 0, FAILED 1, UNKNOWN 3, DEGRADED 4) or an input error (10-13).
 * Without --refs/--trusted-key it asks the running daemon when there is one (its references), else
 * verifies in this process; with them it always verifies in this process.
 */
@Command(
    name = "verify-binary",
    mixinStandardHelpOptions = true,
    description = {
      "Verify one file against trusted references.",
      "%nChecks the whole-file SHA-256, the ELF header, per-section digests and the signature of the reference that vouches for the file.",
      "%nExit codes: 0 VERIFIED, 1 FAILED, 3 UNKNOWN, 4 DEGRADED; 10-13 input errors (docs/references.md)."
    })
public final class VerifyBinaryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PATH", description = "the file to verify")
  Path path;

  @Mixin VerifierOptions options;

  @Override
  public Integer call() {
    // Absolute here: the daemon does not share this shell's working directory.
    String target = path.toAbsolutePath().normalize().toString();
    boolean ownReferences = options.ownReferences();
    JsonNode v;
    try {
      v =
          VerdictOutput.call(
              options.socket,
              ownReferences,
              () -> options.loadVerifiers().api(new RuntimeStateRegistry()),
              api -> api.verifyBinary(target));
    } catch (ApiException e) {
      // Past argument validation, NOT_FOUND and BAD_REQUEST are about the file: missing, a
      // directory, a device, unreadable.
      if (e.code() == ApiException.Code.NOT_FOUND || e.code() == ApiException.Code.BAD_REQUEST) {
        throw new CliException(
            ExitCodes.INPUT_UNREADABLE,
            "cannot read " + target + ": " + withoutSubject(e.getMessage(), target));
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

  /**
   * "/x: /x: not a regular file" (API subject, then the file system's own) reads "not a regular
   * file".
   */
  private static String withoutSubject(String message, String target) {
    String m = message == null ? "" : message;
    while (m.startsWith(target + ": ")) {
      m = m.substring(target.length() + 2);
    }
    return m;
  }

  /**
   * The JSON form of a verification ({@link VerdictJson#binary}; schema in docs/api.md and
   * docs/references.md).
   */
  public static ObjectNode toJson(BinaryVerification v) {
    return VerdictJson.binary(v);
  }
}
