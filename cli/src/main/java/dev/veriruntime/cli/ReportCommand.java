package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.agent.ui.ReportPage;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiJson;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime report --pid PID --html FILE}: a self-contained HTML incident report of one
 * process (its trust chain and the evidence records of its open incidents), for attaching to a
 * ticket. Asks the running daemon when there is one (then the open incidents and their evidence are
 * known), else verifies in this process (the chain only).
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description = {
      "Write a self-contained HTML report of one process: its trust chain (what runs, what vouched for the executable and each mapped library, what could not be verified and why) and the evidence records of its open incidents.",
      "%nThe file inlines everything it shows and fetches nothing when opened, so it can be attached to an incident ticket and read offline.",
      "%nExit codes: 0 written, 2 usage error, 14 the file cannot be written, 22 no such process; 10-13 input errors."
    })
public final class ReportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--pid",
      required = true,
      paramLabel = "PID",
      description = "The process to report on.")
  String pidArgument;

  @Option(
      names = "--html",
      required = true,
      paramLabel = "FILE",
      description = "Where to write the HTML file (replaced if it exists).")
  Path html;

  @Mixin VerifierOptions options;

  @Override
  public Integer call() {
    int pid = pid(pidArgument);
    JsonNode both;
    try {
      both =
          VerdictOutput.call(
              options.socket,
              options.ownReferences(),
              () -> options.loadVerifiers().api(new RuntimeStateRegistry()),
              api -> gather(api, pid));
    } catch (ApiException e) {
      if (e.code() == ApiException.Code.NOT_FOUND) {
        throw new CliException(ExitCodes.NO_SUCH_PROCESS, "no such process: " + pid);
      }
      throw ExitCodes.failure(e);
    }
    List<JsonNode> evidence = new ArrayList<>();
    both.path("evidence").forEach(evidence::add);
    String page =
        ReportPage.render(
            both.path("verdict"), evidence, both.path("evidenceNote").asText(), Instant.now());
    try {
      Files.writeString(html, page, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + html + ": " + IoErrors.describe(e));
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "wrote "
            + html
            + ": pid "
            + pid
            + " "
            + both.path("verdict").path("verdict").asText()
            + ", "
            + evidence.size()
            + " evidence record(s)");
    out.flush();
    return ExitCodes.OK;
  }

  /**
   * The verdict and the evidence of the process's open incidents: the daemon's runtime state names
   * them; without a daemon there are none to name.
   */
  private static JsonNode gather(dev.veriruntime.api.CoreApi api, int pid) throws ApiException {
    ObjectNode both = ApiJson.mapper().createObjectNode();
    both.set("verdict", api.verifyProcess(pid));
    List<JsonNode> evidence = new ArrayList<>();
    String note = "the process has no open incidents";
    JsonNode state;
    try {
      state = api.listRuntimeState();
    } catch (ApiException e) {
      state = null;
      note = "the runtime state is not available: " + e.getMessage();
    }
    if (state != null) {
      for (JsonNode p : state.path("processes")) {
        if (p.path("pid").asInt() != pid) {
          continue;
        }
        for (JsonNode incident : p.path("incidents")) {
          String id = incident.path("id").asText("");
          if (id.isEmpty()) {
            continue;
          }
          try {
            evidence.add(api.getEvidence(id));
          } catch (ApiException e) {
            note = "evidence of incident " + id + " not available: " + e.getMessage();
          }
        }
      }
    }
    both.putArray("evidence").addAll(evidence);
    both.put("evidenceNote", evidence.isEmpty() ? note : "");
    return both;
  }

  private static int pid(String text) {
    try {
      int pid = Integer.parseInt(text.strip());
      if (pid > 0) {
        return pid;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new CliException(ExitCodes.USAGE, "--pid must be a positive process id: " + text);
  }
}
