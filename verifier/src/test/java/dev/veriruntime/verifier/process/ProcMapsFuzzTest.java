package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Jazzer target for {@link ProcMaps}: the text of {@code /proc/PID/maps} is written by the kernel
 * but its pathnames are chosen by whoever names a file, memfd or anonymous mapping ({@code
 * PR_SET_VMA_ANON_NAME}), so any text must give mappings or the declared {@link
 * IllegalArgumentException}, and every accepted mapping must be safe to query. Bounded per input by
 * {@link InputBudget}.
 *
 * <p>Regression mode (plain {@code mvn test}) replays {@code ProcMapsFuzzTestInputs/}: real maps of
 * this host's processes and every crash found. Fuzzing: see docs/reliability.md.
 */
class ProcMapsFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void parseMaps(byte[] input) {
    // ProcFs reads the file as UTF-8; a stray byte becomes U+FFFD just as it does there.
    String text = new String(input, StandardCharsets.UTF_8);
    InputBudget.of(input.length).run(() -> parseAndQuery(text));
  }

  private static void parseAndQuery(String text) {
    List<MemoryMapping> maps;
    try {
      maps = ProcMaps.parse(text);
    } catch (IllegalArgumentException declared) {
      assertThat(declared.getMessage()).startsWith("maps line ");
      return;
    }
    for (MemoryMapping m : maps) {
      assertThat(Long.compareUnsigned(m.end(), m.start())).isGreaterThanOrEqualTo(0);
      m.kind();
      m.length();
      m.fileBacked();
      m.kernelDev();
      m.describe();
      m.contains(m.start());
      if (m.kind() == MemoryMapping.Kind.FILE
          || m.kind() == MemoryMapping.Kind.DELETED_FILE
          || m.kind() == MemoryMapping.Kind.MEMFD) {
        m.filePath();
        m.mapFilesName();
      }
      // What a finding prints of a mapping parses back.
      assertThat(ProcMaps.parseLine(m.describe())).isPresent();
    }
  }
}
