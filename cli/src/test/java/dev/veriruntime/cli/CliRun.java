package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One run of the command line with captured output. */
record CliRun(int exitCode, String out, String err) {
  static CliRun of(String... args) {
    CommandLine cli = VeriRuntimeCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new CliRun(code, out.toString(), err.toString());
  }

  JsonNode json() {
    try {
      return new ObjectMapper().readTree(out);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + out, e);
    }
  }

  /** A refused input: the given exit code and exactly one line on stderr, no stack trace. */
  CliRun refused(int expectedCode) {
    assertThat(exitCode).as("exit code; stderr: %s", err).isEqualTo(expectedCode);
    assertThat(err.strip())
        .startsWith("veriruntime: ")
        .doesNotContain("\n")
        .doesNotContain("\tat ");
    return this;
  }
}
