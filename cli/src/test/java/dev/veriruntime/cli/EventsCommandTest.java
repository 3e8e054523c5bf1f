package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class EventsCommandTest {

  record Result(int exitCode, String out, String err) {}

  static Result run(EventsCommand command, String... args) {
    CommandLine.IFactory factory =
        new CommandLine.IFactory() {
          @Override
          @SuppressWarnings("unchecked")
          public <K> K create(Class<K> type) throws Exception {
            return type == EventsCommand.class
                ? (K) command
                : CommandLine.defaultFactory().create(type);
          }
        };
    CommandLine cli = new CommandLine(new VeriRuntimeCommand(), factory);
    CommandLine production = VeriRuntimeCommand.commandLine();
    cli.setExecutionExceptionHandler(production.getExecutionExceptionHandler());
    cli.setExitCodeExceptionMapper(production.getExitCodeExceptionMapper());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] full = new String[args.length + 1];
    full[0] = "events";
    System.arraycopy(args, 0, full, 1, args.length);
    int code = cli.execute(full);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void withoutKernelSupportPrintsOneLineAndExitsKernelUnsupported() {
    Result result =
        run(new EventsCommand(() -> Optional.of("kernel BTF is missing")), "--duration", "1s");
    assertThat(result.exitCode()).isEqualTo(ExitCodes.KERNEL_UNSUPPORTED);
    assertThat(result.err().strip())
        .isEqualTo("veriruntime: cannot load the probe here: kernel BTF is missing");
    assertThat(result.out()).isEmpty();
  }

  @Test
  void rejectsABadDurationAsUsage() {
    Result result = run(new EventsCommand(() -> Optional.of("unused")), "--duration", "soon");
    assertThat(result.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(result.err()).contains("not a duration: 'soon'");
  }

  @Test
  void parsesHumanAndIsoDurations() {
    DurationConverter converter = new DurationConverter();
    assertThat(converter.convert("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(converter.convert("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(converter.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(converter.convert("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(converter.convert("3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(converter.convert("PT1.5S")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> converter.convert("0s"))
        .isInstanceOf(CommandLine.TypeConversionException.class);
  }
}
