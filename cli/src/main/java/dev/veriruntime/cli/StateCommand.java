package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.process.NotAUserProcessException;
import dev.veriruntime.verifier.process.ProcFs;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessState;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.RuntimeState;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime state}: ListRuntimeState. With a daemon running it lists the daemon's live
 * state: every user process from the start-up scan and exec events, with its exec-time verdict
 * until it is re-attested. Without one it verifies every user process once, in this process, and
 * lists those. Either way kernel threads are counted, not listed, and processes that exit while
 * being listed are left out and counted ({@code kernelThreads}, {@code exitedWhileListing}). {@code
 * --verdict} keeps only the processes with one of the given verdicts. Exit code 0 (the listing
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

  @Option(
      names = "--verdict",
      split = ",",
      paramLabel = "VERDICT",
      description =
          "List only processes with one of these verdicts: ${COMPLETION-CANDIDATES}"
              + " (repeat or separate with commas).")
  List<Verdict> verdicts = List.of();

  @Override
  public Integer call() {
    boolean ownReferences = options.ownReferences();
    JsonNode state;
    try {
      state =
          VerdictOutput.call(
              options.socket, ownReferences, this::listInProcess, api -> api.listRuntimeState());
    } catch (ApiException e) {
      throw ExitCodes.failure(e);
    }
    ObjectNode root = state.deepCopy();
    ArrayNode processes = root.putArray("processes");
    Set<String> wanted = verdicts.stream().map(Verdict::name).collect(Collectors.toSet());
    int listed = 0;
    for (JsonNode v : state.path("processes")) {
      listed++;
      if (wanted.isEmpty() || wanted.contains(v.path("verdict").asText())) {
        processes.add(v);
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (options.json) {
      JsonOutput.print(out, root);
      return ExitCodes.OK;
    }
    out.printf(
        "%7s  %-8s  %-24s  %-11s  %-20s  %s%n",
        "PID", "VERDICT", "CHECKED", "REATTESTED", "NOT VERIFIED/FAILED", "EXECUTABLE");
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
          "%7d  %-8s  %-24s  %-11s  %-20s  %s%n",
          v.path("pid").asInt(),
          v.path("verdict").asText(),
          v.path("checkedAt").isTextual() ? v.get("checkedAt").asText() : "pending",
          v.path("reattested").asBoolean() ? "yes" : "not yet",
          problems.isEmpty() ? "-" : problems,
          v.path("path").isTextual() ? v.get("path").asText() : "");
    }
    printIncidents(out, processes);
    String filtered = wanted.isEmpty() ? "" : " of " + listed + " shown (" + wanted + ")";
    out.printf(
        "%d processes%s%s; %d kernel threads counted; %d exited while listing%s%n",
        processes.size(),
        filtered,
        root.path("capacity").asInt() > 0 ? " (from the daemon)" : "",
        root.path("kernelThreads").asInt(),
        root.path("exitedWhileListing").asInt(),
        root.path("refusedAtCapacity").asLong() > 0
            ? "; "
                + root.path("refusedAtCapacity").asLong()
                + " refused at capacity "
                + root.path("capacity").asInt()
            : "");
    out.flush();
    return ExitCodes.OK;
  }

  /** Verifies every process once and serves that listing. */
  private LocalCoreApi listInProcess() {
    InProcessVerifiers verifiers = options.loadVerifiers();
    ProcFs procFs = verifiers.processes().procFs();
    List<Integer> pids;
    try {
      pids = procFs.pids();
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, "cannot list /proc: " + IoErrors.describe(e));
    }
    List<ProcessState> listed = new ArrayList<>();
    int exited = 0;
    int kernelThreads = 0;
    for (int pid : pids) {
      try {
        ProcessVerification v = verifiers.processes().verify(pid);
        listed.add(ProcessState.reattested(v, parent(procFs, pid), null));
      } catch (ProcessGoneException e) {
        exited++;
      } catch (NotAUserProcessException e) {
        kernelThreads++;
      } catch (IOException e) {
        exited++;
      }
    }
    RuntimeState state = RuntimeState.listing(listed, kernelThreads, exited);
    return verifiers.api(() -> state);
  }

  /** The parent's pid from {@code /proc/PID/status}; 0 when it cannot be read. */
  private static int parent(ProcFs procFs, int pid) {
    try {
      return Integer.parseInt(procFs.status(pid).fields().getOrDefault("PPid", "0").trim());
    } catch (IOException | NumberFormatException e) {
      return 0;
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
}
