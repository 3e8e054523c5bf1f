package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The help a person reads at 80 columns: every command list shows each command's whole first
 * sentence, descriptions are paragraphs (no hard line breaks inside one), and nothing runs past the
 * width.
 */
class HelpTextTest {
  private static final int WIDTH = 80;

  /** Up to the first full stop that ends a sentence (not "e.g." or a dot inside a file name). */
  private static final Pattern FIRST_SENTENCE = Pattern.compile("^(.+?\\.)(?= [A-Z(]|$)");

  private static List<CommandLine> all(CommandLine root) {
    List<CommandLine> out = new ArrayList<>();
    out.add(root);
    root.getSubcommands().values().stream().distinct().forEach(c -> out.addAll(all(c)));
    return out;
  }

  private static String firstSentence(CommandLine c) {
    // picocli's command list shows the header when there is one (help has), else the description
    String[] header = c.getCommandSpec().usageMessage().header();
    String[] d = header.length > 0 ? header : c.getCommandSpec().usageMessage().description();
    String text = d.length == 0 ? "" : String.format(d[0]).trim();
    Matcher m = FIRST_SENTENCE.matcher(text);
    return m.find() ? m.group(1) : text;
  }

  /** The "Commands:" section of {@code usage}: each name with its wrapped lines joined. */
  private static Map<String, String> commandList(String usage) {
    Map<String, String> entries = new LinkedHashMap<>();
    String[] lines = usage.split("\n");
    int i = 0;
    while (i < lines.length && !lines[i].equals("Commands:")) {
      i++;
    }
    String current = null;
    Pattern entry = Pattern.compile("^  (\\S+)\\s+(.*)$");
    for (i++; i < lines.length && !lines[i].isBlank(); i++) {
      Matcher m = entry.matcher(lines[i]);
      if (m.matches()) {
        current = m.group(1);
        entries.put(current, m.group(2));
      } else {
        entries.put(current, entries.get(current) + " " + lines[i].trim());
      }
    }
    return entries;
  }

  /** Whitespace removed: picocli may break a line after a dot inside a word ("api.\nsock"). */
  private static String squeezed(String s) {
    return s.replaceAll("\\s+", "");
  }

  @Test
  void everyCommandListShowsEachCommandsWholeFirstSentence() {
    CommandLine root = VeriRuntimeCommand.commandLine(String.valueOf(WIDTH));
    int lists = 0;
    for (CommandLine c : all(root)) {
      if (c.getSubcommands().isEmpty()) {
        continue;
      }
      lists++;
      Map<String, String> listed = commandList(c.getUsageMessage(CommandLine.Help.Ansi.OFF));
      assertThat(listed.keySet())
          .as(c.getCommandSpec().qualifiedName())
          .containsExactlyInAnyOrderElementsOf(c.getSubcommands().keySet());
      for (Map.Entry<String, String> e : listed.entrySet()) {
        String sentence = firstSentence(c.getSubcommands().get(e.getKey()));
        assertThat(sentence).as(e.getKey()).endsWith(".");
        assertThat(squeezed(e.getValue()))
            .as("%s in the list of %s", e.getKey(), c.getCommandSpec().qualifiedName())
            .startsWith(squeezed(sentence));
      }
    }
    assertThat(lists).as("commands with subcommands").isGreaterThanOrEqualTo(3);
  }

  @Test
  void descriptionsAreWholeParagraphs() {
    List<String> broken = new ArrayList<>();
    for (CommandLine c : all(VeriRuntimeCommand.commandLine(String.valueOf(WIDTH)))) {
      String name = c.getCommandSpec().qualifiedName();
      for (String element : c.getCommandSpec().usageMessage().description()) {
        String paragraph = String.format(element).trim();
        // one array element per paragraph: it starts a sentence and ends one
        if (!paragraph.matches("(?s)^[A-Z].*[.?]$")) {
          broken.add(name + ": \"" + paragraph + "\"");
        }
      }
      for (OptionSpec o : c.getCommandSpec().options()) {
        if (o.description().length > 1) {
          broken.add(name + " " + o.longestName() + ": " + o.description().length + " lines");
        }
      }
    }
    assertThat(broken).isEmpty();
  }

  @Test
  void noHelpLineRunsPastTheWidth() {
    for (CommandLine c : all(VeriRuntimeCommand.commandLine(String.valueOf(WIDTH)))) {
      String usage = c.getUsageMessage(CommandLine.Help.Ansi.OFF);
      assertThat(usage.lines())
          .as(c.getCommandSpec().qualifiedName())
          .allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(WIDTH));
    }
  }

  @Test
  void columnsSetsTheWidthWhenItIsANumber() {
    assertThat(VeriRuntimeCommand.parseColumns("160")).hasValue(160);
    assertThat(VeriRuntimeCommand.parseColumns("20")).hasValue(55); // picocli's minimum
    assertThat(VeriRuntimeCommand.parseColumns("wide")).isEqualTo(OptionalInt.empty());
    assertThat(VeriRuntimeCommand.parseColumns(null)).isEqualTo(OptionalInt.empty());
    String wide = VeriRuntimeCommand.commandLine("160").getUsageMessage(CommandLine.Help.Ansi.OFF);
    assertThat(wide.lines().mapToInt(String::length).max().orElse(0)).isGreaterThan(WIDTH);
  }
}
