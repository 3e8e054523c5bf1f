package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.process.NotAUserProcessException;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime state}: ListRuntimeState. Until the daemon serves its live registry, this
 * verifies every user process once, in this process, and lists each with its verdict, coverage and
 * time. Kernel threads are skipped; processes that exit while being listed are left out and
 * counted. Exit code 0 (the listing itself succeeded), 10 if {@code /proc} cannot be listed.
 */
@Command(
    name = "state",
    mixinStandardHelpOptions = true,
    description = {
      "List every running process with its verdict, coverage and time (ListRuntimeState).",
      "For now verifies all processes once in-process; the daemon will serve its live state."
    })
public final class StateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

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

  @Option(names = "--json", description = "print the state as JSON")
  boolean json;

  @Override
  public Integer call() {
    ProcessVerifier verifier = VerifyProcessCommand.verifier(refs, trustedKeys);
    RuntimeStateRegistry registry = new RuntimeStateRegistry();
    List<Integer> pids;
    try {
      pids = verifier.procFs().pids();
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, "cannot list /proc: " + RefsCommand.describe(e));
    }
    int exited = 0;
    int kernelThreads = 0;
    for (int pid : pids) {
      try {
        registry.record(verifier.verify(pid));
      } catch (ProcessGoneException e) {
        exited++;
      } catch (NotAUserProcessException e) {
        kernelThreads++;
      } catch (IOException e) {
        exited++;
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    List<ProcessVerification> state = registry.snapshot();
    if (json) {
      ObjectNode root = RefsCommand.JSON.createObjectNode();
      ArrayNode processes = root.putArray("processes");
      state.forEach(v -> processes.add(VerifyProcessCommand.toJson(v)));
      root.put("kernelThreadsSkipped", kernelThreads);
      root.put("exitedWhileListing", exited);
      RefsCommand.printJson(out, root);
    } else {
      out.printf(
          "%7s  %-8s  %-24s  %-20s  %s%n",
          "PID", "VERDICT", "CHECKED", "NOT VERIFIED/FAILED", "EXECUTABLE");
      for (ProcessVerification v : state) {
        String problems =
            v.coverage().results().values().stream()
                .filter(
                    r -> r.status() == ScopeStatus.FAILED || r.status() == ScopeStatus.NOT_VERIFIED)
                .map(StateCommand::shortName)
                .collect(Collectors.joining(","));
        out.printf(
            "%7d  %-8s  %-24s  %-20s  %s%n",
            v.pid(),
            v.verdict(),
            v.checkedAt(),
            problems.isEmpty() ? "-" : problems,
            v.executable().path());
      }
      out.printf(
          "%d processes; %d kernel threads skipped; %d exited while listing%n",
          state.size(), kernelThreads, exited);
      out.flush();
    }
    return ExitCodes.OK;
  }

  private static String shortName(ScopeResult r) {
    String s =
        switch (r.scope()) {
          case DISK_HASH -> "hash";
          case ELF_HEADER -> "hdr";
          case ELF_SECTIONS -> "sect";
          case MEMORY_MAP -> "map";
          case MEMORY_CODE -> "code";
          case SIGNATURE -> "sig";
        };
    return r.status() == ScopeStatus.FAILED ? s.toUpperCase() + "!" : s;
  }
}
