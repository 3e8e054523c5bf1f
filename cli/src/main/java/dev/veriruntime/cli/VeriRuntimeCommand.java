package dev.veriruntime.cli;

import java.util.OptionalInt;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code veriruntime} command line. Every user-facing operation is a subcommand here; run
 * through {@code bin/veriruntime}. Exit codes are listed in {@link ExitCodes} and docs/api.md.
 */
@Command(
    name = "veriruntime",
    mixinStandardHelpOptions = true,
    versionProvider = VeriRuntimeCommand.Version.class,
    description = "Is the code running on this host the code we intended to run?",
    subcommands = {
      CommandLine.HelpCommand.class,
      DemoCommand.class,
      ElfCommand.class,
      EventsCommand.class,
      FleetCommand.class,
      JournalCommand.class,
      RefsCommand.class,
      ReportCommand.class,
      StateCommand.class,
      VerifyBinaryCommand.class,
      VerifyProcessCommand.class,
      WatchCommand.class,
    })
public final class VeriRuntimeCommand implements Runnable {
  private static final int MIN_WIDTH = 55;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    // Before anything logs: the manager is chosen once, when java.util.logging first starts.
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", StopAwareLogManager.class.getName());
    }
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code; never throws. */
  public static int run(String... args) {
    ConsoleLogging.install();
    CommandLine cli = commandLine();
    return cli.execute(args);
  }

  /**
   * The command tree with its exception handling, help wrapped to the terminal: to {@code COLUMNS}
   * when the environment sets it (shells keep it unexported unless asked), else to the width
   * picocli asks the terminal for, else 80.
   */
  public static CommandLine commandLine() {
    return commandLine(System.getenv("COLUMNS"));
  }

  static CommandLine commandLine(String columns) {
    CommandLine cli = new CommandLine(new VeriRuntimeCommand());
    OptionalInt width = parseColumns(columns);
    if (width.isPresent()) {
      cli.setUsageHelpWidth(width.getAsInt());
    } else {
      cli.setUsageHelpAutoWidth(true);
    }
    headings(cli);
    cli.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          cmd.getErr()
              .println(
                  "veriruntime: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
          return ex instanceof CliException ce ? ce.exitCode() : ExitCodes.INTERNAL;
        });
    cli.setExitCodeExceptionMapper(
        ex ->
            ex instanceof CliException ce
                ? ce.exitCode()
                : ex instanceof CommandLine.ParameterException
                    ? ExitCodes.USAGE
                    : ExitCodes.INTERNAL);
    return cli;
  }

  /** A blank line before the option and command lists, below a description of paragraphs. */
  private static void headings(CommandLine command) {
    command.getCommandSpec().usageMessage().optionListHeading("%nOptions:%n");
    command.getCommandSpec().usageMessage().commandListHeading("%nCommands:%n");
    command.getSubcommands().values().stream().distinct().forEach(VeriRuntimeCommand::headings);
  }

  /** A usable help width from {@code COLUMNS}: picocli refuses less than 55 columns. */
  static OptionalInt parseColumns(String columns) {
    if (columns == null) {
      return OptionalInt.empty();
    }
    try {
      int n = Integer.parseInt(columns.trim());
      return n > 0 ? OptionalInt.of(Math.max(MIN_WIDTH, n)) : OptionalInt.empty();
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = VeriRuntimeCommand.class.getPackage().getImplementationVersion();
      return new String[] {"veriruntime " + (v == null ? "dev" : v)};
    }
  }
}
