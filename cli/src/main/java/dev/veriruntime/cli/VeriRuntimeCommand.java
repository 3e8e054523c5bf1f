package dev.veriruntime.cli;

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
      JournalCommand.class,
      RefsCommand.class,
      StateCommand.class,
      VerifyBinaryCommand.class,
      VerifyProcessCommand.class,
      WatchCommand.class,
    })
public final class VeriRuntimeCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code; never throws. */
  public static int run(String... args) {
    CommandLine cli = commandLine();
    return cli.execute(args);
  }

  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new VeriRuntimeCommand());
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

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = VeriRuntimeCommand.class.getPackage().getImplementationVersion();
      return new String[] {"veriruntime " + (v == null ? "dev" : v)};
    }
  }
}
