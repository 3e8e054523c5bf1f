package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.CoreApi;
import dev.veriruntime.api.CoreApis;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What the verify commands share: reaching the Core API (the daemon, else in-process), the exit
 * code of a verdict, and the human rendering of the verdict JSON, so a verdict prints the same
 * whichever form answered.
 */
final class VerdictOutput {
  /** One Core API call. */
  @FunctionalInterface
  interface Call {
    JsonNode on(CoreApi api) throws ApiException;
  }

  private VerdictOutput() {}

  /**
   * Run {@code call} on the daemon listening on {@code socket}, or on {@code local} when none is
   * running or {@code inProcess} (the command was given its own references, which the daemon does
   * not have).
   */
  static JsonNode call(Path socket, boolean inProcess, Supplier<? extends CoreApi> local, Call call)
      throws ApiException {
    if (inProcess) {
      return call.on(local.get());
    }
    try (CoreApis.Session session = CoreApis.forCli(socket, local)) {
      return call.on(session.api());
    }
  }

  /** VERIFIED 0, FAILED 1, UNKNOWN 3, DEGRADED 4, from the {@code verdict} field. */
  static int exitCode(JsonNode verdict) {
    String v = verdict.path("verdict").asText();
    return switch (v) {
      case "VERIFIED" -> ExitCodes.OK;
      case "FAILED" -> ExitCodes.VERDICT_FAILED;
      case "UNKNOWN" -> ExitCodes.VERDICT_UNKNOWN;
      case "DEGRADED" -> ExitCodes.VERDICT_DEGRADED;
      default ->
          throw new CliException(ExitCodes.INTERNAL, "the API answered without a verdict: " + v);
    };
  }

  /**
   * The human form: a header line ({@code VERDICT pid N PATH} for a process, {@code VERDICT PATH}
   * for a binary), the sha256, one line per scope and one per finding.
   */
  static void printText(PrintWriter out, JsonNode v) {
    String path = v.path("path").isTextual() ? v.get("path").asText() : null;
    if (v.has("pid")) {
      out.printf(
          "%s  pid %d  %s%n",
          v.path("verdict").asText(),
          v.get("pid").asInt(),
          path == null ? "(executable unreadable)" : path);
    } else {
      out.printf("%s  %s%n", v.path("verdict").asText(), path);
    }
    if (v.path("sha256").isTextual()) {
      out.printf("  sha256  %s%n", v.get("sha256").asText());
    }
    v.path("coverage")
        .fields()
        .forEachRemaining(
            e ->
                out.printf(
                    "  %-13s %-14s %s%n",
                    e.getKey(),
                    e.getValue().path("status").asText(),
                    e.getValue().path("reason").asText()));
    for (JsonNode f : v.path("findings")) {
      out.printf(
          "  finding %s [%s]: %s%n",
          f.path("type").asText(), f.path("scope").asText(), f.path("reason").asText());
    }
    out.flush();
  }
}
