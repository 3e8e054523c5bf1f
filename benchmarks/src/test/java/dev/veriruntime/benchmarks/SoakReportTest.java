package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SoakReportTest {
  /** An hour of samples: RSS flat with noise, fds leaking one per minute, threads constant. */
  private static Path csv(Path dir) throws Exception {
    Random random = new Random(7);
    List<String> lines = new ArrayList<>();
    lines.add("time,elapsed_s,rss_kib,threads,fds,journal_bytes,load1");
    for (int minute = 0; minute <= 60; minute++) {
      long rss = 200_000 + random.nextInt(20_000);
      lines.add(
          "t,"
              + minute * 60
              + ","
              + rss
              + ",40,"
              + (50 + minute)
              + ","
              + minute * 100_000L
              + ","
              + (5 + random.nextDouble()));
    }
    Path file = dir.resolve("soak.csv");
    Files.write(file, lines);
    return file;
  }

  private static SoakReport.Trend trend(List<SoakReport.Trend> trends, String column) {
    return trends.stream().filter(t -> t.column().name().equals(column)).findFirst().orElseThrow();
  }

  @Test
  void aLeakGrowsAndNoiseOrAConstantDoesNot(@TempDir Path dir) throws Exception {
    List<Map<String, String>> rows = SoakReport.read(csv(dir));
    List<SoakReport.Trend> trends = SoakReport.trends(rows, SoakReport.WINDOW_S);

    assertThat(trend(trends, "fds").grows()).isTrue();
    assertThat(trend(trends, "fds").slopePerHour())
        .isCloseTo(60.0, org.assertj.core.data.Offset.offset(0.01));
    assertThat(trend(trends, "rss_kib").grows()).isFalse();
    assertThat(trend(trends, "threads").grows()).isFalse();
    assertThat(trend(trends, "threads").windowSamples()).isEqualTo(31);
    // The journal is append-only: reported, never judged.
    assertThat(trend(trends, "journal_bytes").grows()).isFalse();
    // Columns the CSV lacks are left out, not reported as zero.
    assertThat(trends.stream().map(t -> t.column().name()).collect(Collectors.toList()))
        .doesNotContain("heap_after_gc_kib");
  }

  @Test
  void theReportNamesTheGrowingSeriesAndTheRun(@TempDir Path dir) throws Exception {
    List<Map<String, String>> rows = SoakReport.read(csv(dir));
    Properties run = new Properties();
    run.setProperty("load_start", "5.0 4.0 3.0");
    String md = SoakReport.markdown(rows, SoakReport.trends(rows, SoakReport.WINDOW_S), run);

    assertThat(md).contains("| load_start | 5.0 4.0 3.0 |");
    assertThat(md).containsPattern("\\| file descriptors \\|[^\\n]*\\*\\*grows\\*\\*");
    assertThat(md).containsPattern("\\| threads \\|[^\\n]*\\| flat \\|");
    assertThat(md).contains("1 judged series grow over the window");
  }

  @Test
  void thePlotIsAnSvgDocument(@TempDir Path dir) throws Exception {
    List<Map<String, String>> rows = SoakReport.read(csv(dir));
    Path svg = dir.resolve("soak.svg");
    SoakReport.writeSvg(svg, rows);

    String text = Files.readString(svg);
    assertThat(text).contains("<svg").contains("file descriptors").contains("</svg");
  }
}
