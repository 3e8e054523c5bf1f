package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Keeps the docs honest: every {@code veriruntime COMMAND [SUBCOMMAND] --flag} written in the
 * README and docs/ names a command that exists, and every flag shown exists on that command.
 */
class DocsCommandsTest {
  private static final Pattern INVOCATION =
      Pattern.compile("veriruntime((?: [a-z][a-z-]*)+)((?: [^`|\\n]*)?)");
  private static final Pattern FLAG = Pattern.compile("(?<![\\w-])(--[a-z][a-z-]*)");

  @Test
  void everyDocumentedCommandAndFlagExists() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> docs = new ArrayList<>();
    docs.add(root.resolve("README.md"));
    try (Stream<Path> files = Files.list(root.resolve("docs"))) {
      files.filter(p -> p.toString().endsWith(".md")).forEach(docs::add);
    }
    CommandLine cli = VeriRuntimeCommand.commandLine();
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (Path doc : docs) {
      for (String line : Files.readAllLines(doc)) {
        Matcher m = INVOCATION.matcher(line);
        while (m.find()) {
          CommandLine target = cli;
          for (String word : m.group(1).trim().split(" ")) {
            CommandLine sub = target.getSubcommands().get(word);
            if (sub == null) {
              break; // an argument (PATH, PID...) or prose follows the command path
            }
            target = sub;
          }
          if (target == cli) {
            continue; // "veriruntime runs ..." in prose
          }
          checked++;
          Matcher f = FLAG.matcher(m.group(2));
          while (f.find()) {
            if (target.getCommandSpec().findOption(f.group(1)) == null) {
              problems.add(
                  doc.getFileName()
                      + ": "
                      + target.getCommandName()
                      + " has no option "
                      + f.group(1)
                      + " ("
                      + line.trim()
                      + ")");
            }
          }
        }
      }
    }
    assertThat(checked).as("documented invocations found").isGreaterThan(5);
    assertThat(problems).isEmpty();
  }
}
