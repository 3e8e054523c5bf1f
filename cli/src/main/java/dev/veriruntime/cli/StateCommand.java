package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.verifier.process.NotAUserProcessException;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime state}: ListRuntimeState. With a daemon running it lists the daemon's live
 * registry (the processes it has verified or re-attested). Without one it verifies every user
 * process once, in this process, and lists those; kernel threads are skipped and processes that
 * exit while being listed are left out, both counted ({@code kernelThreadsSkipped}, {@code
 * exitedWhileListing}: only in-process, where there is such a listing). Exit code 0 (the listing
 * itself succeeded), 10 if {@code /proc} cannot be listed.
 */
@Command(
    name = "state",
    mixinStandardHelpOptions = true,
    description = {
      "List every running process with its verdict, coverage and time (ListRuntimeState).",
      "Asks the running daemon for its live state; without a daemon, verifies all processes once"
          + " in-process."
    })
public final class StateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin VerifierOptions options;

  /** What the in-process listing skipped; stays null when the daemon answered. */
  private Map<String, Integer> skipped;

  @Override
  public Integer call() {
    boolean ownReferences = options.ownReferences();
    JsonNode processes;
    try {
      processes =
          VerdictOutput.call(
              options.socket, ownReferences, this::listInProcess, api -> api.listRuntimeState());
    } catch (ApiException e) {
      throw ExitCodes.failure(e);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (options.json) {
      ObjectNode root = RefsCommand.JSON.createObjectNode();
      root.set("processes", processes);
      if (skipped != null) {
        skipped.forEach(root::put);
      }
      RefsCommand.printJson(out, root);
    } else {
      out.printf(
          "%7s  %-8s  %-24s  %-20s  %s%n",
          "PID", "VERDICT", "CHECKED", "NOT VERIFIED/FAILED", "EXECUTABLE");
      for (JsonNode v : processes) {
        String problems =
            StreamSupport.stream(
                    ((Iterable<Map.Entry<String, JsonNode>>) () -> v.path("coverage").fields())
                        .spliterator(),
                    false)
                .filter(
                    e -> {
                      String status = e.getValue().path("status").asText();
                      return status.equals("FAILED") || status.equals("NOT_VERIFIED");
                    })
                .map(e -> shortName(e.getKey(), e.getValue().path("status").asText()))
                .collect(Collectors.joining(","));
        out.printf(
            "%7d  %-8s  %-24s  %-20s  %s%n",
            v.path("pid").asInt(),
            v.path("verdict").asText(),
            v.path("checkedAt").asText(),
            problems.isEmpty() ? "-" : problems,
            v.path("path").isTextual() ? v.get("path").asText() : "");
      }
      printIncidents(out, processes);
      if (skipped == null) {
        out.printf("%d processes (from the daemon)%n", processes.size());
      } else {
        out.printf(
            "%d processes; %d kernel threads skipped; %d exited while listing%n",
            processes.size(),
            skipped.get("kernelThreadsSkipped"),
            skipped.get("exitedWhileListing"));
      }
      out.flush();
    }
    return ExitCodes.OK;
  }

  /** Verifies every process once into a fresh registry and serves it. */
  private LocalCoreApi listInProcess() {
    InProcessVerifiers verifiers = options.loadVerifiers();
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    List<Integer> pids;
    try {
      pids = verifiers.processes().procFs().pids();
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, "cannot list /proc: " + RefsCommand.describe(e));
    }
    int exited = 0;
    int kernelThreads = 0;
    for (int pid : pids) {
      try {
        registry.record(verifiers.processes().verify(pid));
      } catch (ProcessGoneException e) {
        exited++;
      } catch (NotAUserProcessException e) {
        kernelThreads++;
      } catch (IOException e) {
        exited++;
      }
    }
    skipped = new LinkedHashMap<>();
    skipped.put("kernelThreadsSkipped", kernelThreads);
    skipped.put("exitedWhileListing", exited);
    return verifiers.api(registry);
  }

  /** The daemon's open incidents (docs/api.md), one line each, after the table. */
  private static void printIncidents(PrintWriter out, JsonNode processes) {
    int open = 0;
    for (JsonNode v : processes) {
      for (JsonNode i : v.path("incidents")) {
        if (open++ == 0) {
          out.println("open incidents:");
        }
        out.printf(
            "  %s  pid %d  %s since %s, found %d time(s): %s%n",
            i.path("id").asText(),
            v.path("pid").asInt(),
            i.path("type").asText(),
            i.path("opened").asText(),
            i.path("occurrences").asLong(),
            i.path("reason").asText());
      }
    }
  }

  private static String shortName(String scope, String status) {
    String s =
        switch (scope) {
          case "DISK_HASH" -> "hash";
          case "ELF_HEADER" -> "hdr";
          case "ELF_SECTIONS" -> "sect";
          case "MEMORY_MAP" -> "map";
          case "MEMORY_CODE" -> "code";
          case "SIGNATURE" -> "sig";
          default -> scope.toLowerCase();
        };
    return status.equals("FAILED") ? s.toUpperCase() + "!" : s;
  }
}
