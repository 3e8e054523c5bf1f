package dev.veriruntime.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code veriruntime fleet}: questions about many hosts, answered from the Kafka topic. */
@Command(
    name = "fleet",
    mixinStandardHelpOptions = true,
    description = {
      "Answer questions about a fleet of hosts from the Kafka topic their agents write to.",
      "%nEvery agent started with --kafka sends its events (keyed by host) and a heartbeat to Kafka; see docs/operations.md."
    },
    subcommands = {FleetSummaryCommand.class})
public final class FleetCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
