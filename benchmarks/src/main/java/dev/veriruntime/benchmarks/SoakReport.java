package dev.veriruntime.benchmarks;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Dimension;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.batik.dom.GenericDOMImplementation;
import org.apache.batik.svggen.SVGGraphics2D;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;
import org.apache.commons.math3.stat.regression.SimpleRegression;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.w3c.dom.Document;

/**
 * The soak's report (benchmarks/soak/soak.sh): reads {@code soak.csv} and {@code run.properties}
 * from a directory and writes {@code soak.svg} (every sampled series against time, one panel per
 * unit, JFreeChart drawn into Batik's SVG generator) and {@code soak.md} (machine, load, run
 * counters, and per series its first, last, minimum and maximum value and its least-squares slope
 * over the last {@link #WINDOW_S} seconds).
 *
 * <p>A series "grows" when that slope is positive, significant (p &lt; 0.01) and would add more
 * than {@link #GROWTH_PER_HOUR} of the window's mean per hour; "flat" otherwise. The journal is
 * append only by design: its rate is reported, not judged.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.SoakReport DIR
 * </pre>
 */
public final class SoakReport {
  static final String SVG = "soak.svg";
  static final String MARKDOWN = "soak.md";
  static final long WINDOW_S = 1800;
  static final double GROWTH_PER_HOUR = 0.05;

  /** A judged column: its CSV name, what the report calls it, its unit and its scale from CSV. */
  record Column(String name, String label, String unit, double scale, boolean judged) {}

  static final List<Column> COLUMNS =
      List.of(
          new Column("rss_kib", "RSS", "MiB", 1 / 1024.0, true),
          new Column("hwm_kib", "peak RSS (VmHWM)", "MiB", 1 / 1024.0, false),
          new Column("heap_after_gc_kib", "heap after full GC", "MiB", 1 / 1024.0, true),
          new Column("heap_committed_kib", "heap committed", "MiB", 1 / 1024.0, true),
          new Column("metaspace_kib", "metaspace", "MiB", 1 / 1024.0, true),
          new Column("threads", "threads", "", 1, true),
          new Column("fds", "file descriptors", "", 1, true),
          new Column("bpf_maps", "BPF maps held", "", 1, true),
          new Column("bpf_hash_entries", "BPF hash-map entries", "", 1, true),
          new Column("journal_bytes", "journal", "MiB", 1 / 1048576.0, false),
          new Column("health_ms", "health call over the API", "ms", 1, true),
          new Column("load1", "load average (1 min)", "", 1, false));

  /** One series' summary. */
  record Trend(
      Column column,
      double first,
      double last,
      double min,
      double max,
      double windowMean,
      double slopePerHour,
      double significance,
      int windowSamples) {
    boolean grows() {
      return column.judged()
          && windowSamples >= 5
          && slopePerHour > 0
          && significance < 0.01
          && slopePerHour > GROWTH_PER_HOUR * Math.abs(windowMean);
    }
  }

  private SoakReport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: SoakReport DIR (holding soak.csv and run.properties)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    List<Map<String, String>> rows = read(dir.resolve("soak.csv"));
    Properties run = new Properties();
    Path props = dir.resolve("run.properties");
    if (Files.exists(props)) {
      try (Reader r = Files.newBufferedReader(props, StandardCharsets.UTF_8)) {
        run.load(r);
      }
    }
    List<Trend> trends = trends(rows, WINDOW_S);
    Files.writeString(dir.resolve(MARKDOWN), markdown(rows, trends, run), StandardCharsets.UTF_8);
    writeSvg(dir.resolve(SVG), rows);
    System.err.println("soak report: " + dir.resolve(MARKDOWN) + ", " + dir.resolve(SVG));
  }

  static List<Map<String, String>> read(Path csv) throws IOException {
    CsvMapper mapper = new CsvMapper();
    CsvSchema schema = CsvSchema.emptySchema().withHeader();
    List<Map<String, String>> rows = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
        MappingIterator<Map<String, String>> it =
            mapper.readerForMapOf(String.class).with(schema).readValues(r)) {
      while (it.hasNext()) {
        rows.add(it.next());
      }
    }
    return rows;
  }

  private static double value(Map<String, String> row, String column) {
    String v = row.get(column);
    if (v == null || v.isBlank()) {
      return Double.NaN;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** Each column's summary; the slope is over the samples of the last {@code windowS} seconds. */
  static List<Trend> trends(List<Map<String, String>> rows, long windowS) {
    List<Trend> trends = new ArrayList<>();
    if (rows.isEmpty()) {
      return trends;
    }
    double end = value(rows.get(rows.size() - 1), "elapsed_s");
    for (Column c : COLUMNS) {
      SimpleRegression window = new SimpleRegression();
      SummaryStatistics windowValues = new SummaryStatistics();
      double first = Double.NaN;
      double last = Double.NaN;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (Map<String, String> row : rows) {
        double v = value(row, c.name()) * c.scale();
        double t = value(row, "elapsed_s");
        if (Double.isNaN(v) || Double.isNaN(t)) {
          continue;
        }
        if (Double.isNaN(first)) {
          first = v;
        }
        last = v;
        min = Math.min(min, v);
        max = Math.max(max, v);
        if (t >= end - windowS) {
          window.addData(t / 3600.0, v);
          windowValues.addValue(v);
        }
      }
      if (Double.isNaN(first)) {
        continue;
      }
      int n = (int) window.getN();
      double slope = n >= 2 ? window.getSlope() : Double.NaN;
      // Without scatter (a constant or an exact line) the slope is certain: p is 0 when it moves.
      double p =
          n < 3
              ? 1.0
              : window.getSlopeStdErr() > 0 ? window.getSignificance() : slope != 0 ? 0.0 : 1.0;
      double mean = windowValues.getMean();
      trends.add(new Trend(c, first, last, min, max, mean, slope, p, n));
    }
    return trends;
  }

  static String markdown(List<Map<String, String>> rows, List<Trend> trends, Properties run) {
    StringBuilder md = new StringBuilder();
    md.append("# Soak\n\n");
    md.append(
        "`benchmarks/soak/soak.sh` (benchmarks/README.md, \"Soak\"): `veriruntime watch` under a build"
            + " loop, storms of fresh and of fixed binaries, a long-running patched process and"
            + " package installs; one sample per interval. Plot: `soak.svg`.\n\n");
    md.append("| | |\n|---|---|\n");
    for (String key :
        List.of(
            "started",
            "duration_s",
            "interval_s",
            "machine",
            "load_start",
            "load_end",
            "builds_ok",
            "builds_failed",
            "storms",
            "installs",
            "patched_alive_at_end",
            "patched_process_events",
            "agent_events_printed",
            "agent_exit",
            "journal_verify_exit",
            "journal_verify")) {
      if (run.containsKey(key)) {
        md.append("| ").append(key).append(" | ").append(run.getProperty(key)).append(" |\n");
      }
    }
    md.append("| samples | ").append(rows.size()).append(" |\n");
    if (!rows.isEmpty()) {
      Map<String, String> first = rows.get(0);
      Map<String, String> last = rows.get(rows.size() - 1);
      for (String counter :
          List.of(
              "execs_seen", "exec_verdicts", "events_lost", "events_dropped", "events_emitted")) {
        md.append("| ")
            .append(counter)
            .append(" (during the run) | ")
            .append(fmt(value(last, counter) - value(first, counter)))
            .append(" |\n");
      }
    }
    md.append("\n## Trends (slope over the last ").append(WINDOW_S / 60).append(" minutes)\n\n");
    md.append(
        "A series grows when the least-squares slope over the window is positive, significant (p <"
            + " 0.01) and adds more than "
            + Math.round(GROWTH_PER_HOUR * 100)
            + " % of the window's mean per hour.\n\n");
    md.append(
        "| series | unit | first | last | min | max | mean (window) | slope per hour | p | verdict |\n");
    md.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (Trend t : trends) {
      md.append("| ")
          .append(t.column().label())
          .append(" | ")
          .append(t.column().unit())
          .append(" | ")
          .append(fmt(t.first()))
          .append(" | ")
          .append(fmt(t.last()))
          .append(" | ")
          .append(fmt(t.min()))
          .append(" | ")
          .append(fmt(t.max()))
          .append(" | ")
          .append(fmt(t.windowMean()))
          .append(" | ")
          .append(fmt(t.slopePerHour()))
          .append(" | ")
          .append(String.format(Locale.ROOT, "%.3g", t.significance()))
          .append(" | ")
          .append(
              !t.column().judged()
                  ? "reported"
                  : t.windowSamples() < 5 ? "too few samples" : t.grows() ? "**grows**" : "flat")
          .append(" |\n");
    }
    long growing = trends.stream().filter(Trend::grows).count();
    md.append("\n")
        .append(
            growing == 0
                ? "No judged series grows over the window."
                : growing + " judged series grow over the window: see above.")
        .append("\n");
    return md.toString();
  }

  private static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return Math.abs(v) >= 100
        ? String.format(Locale.ROOT, "%,.0f", v)
        : String.format(Locale.ROOT, "%.2f", v);
  }

  /** The panels of the plot: a title and the columns drawn in it. */
  private static final Map<String, List<String>> PANELS = new LinkedHashMap<>();

  static {
    PANELS.put(
        "memory (MiB)",
        List.of("rss_kib", "hwm_kib", "heap_committed_kib", "heap_after_gc_kib", "metaspace_kib"));
    PANELS.put("threads, fds, BPF maps", List.of("threads", "fds", "bpf_maps"));
    PANELS.put("BPF hash-map entries", List.of("bpf_hash_entries"));
    PANELS.put("journal (MiB)", List.of("journal_bytes"));
    PANELS.put("health call (ms), load average", List.of("health_ms", "load1"));
  }

  private static final Color[] PALETTE = {
    new Color(0x00, 0x72, 0xB2),
    new Color(0xD5, 0x5E, 0x00),
    new Color(0x00, 0x9E, 0x73),
    new Color(0xCC, 0x79, 0xA7),
    new Color(0x56, 0xB4, 0xE9),
    new Color(0xE6, 0x9F, 0x00)
  };

  static void writeSvg(Path file, List<Map<String, String>> rows) throws IOException {
    System.setProperty("java.awt.headless", "true");
    NumberAxis time = new NumberAxis("minutes since the agent was watching");
    CombinedDomainXYPlot plot = new CombinedDomainXYPlot(time);
    plot.setGap(12);
    for (Map.Entry<String, List<String>> panel : PANELS.entrySet()) {
      XYSeriesCollection data = new XYSeriesCollection();
      for (String name : panel.getValue()) {
        Column c = COLUMNS.stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
        XYSeries s = new XYSeries(c.label());
        for (Map<String, String> row : rows) {
          double v = value(row, name);
          double t = value(row, "elapsed_s");
          if (!Double.isNaN(v) && !Double.isNaN(t)) {
            s.add(t / 60.0, v * c.scale());
          }
        }
        data.addSeries(s);
      }
      XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
      for (int i = 0; i < data.getSeriesCount(); i++) {
        renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        renderer.setSeriesStroke(i, new BasicStroke(1.5f));
      }
      NumberAxis range = new NumberAxis(panel.getKey());
      range.setAutoRangeIncludesZero(true);
      XYPlot sub = new XYPlot(data, null, range, renderer);
      sub.setBackgroundPaint(Color.WHITE);
      sub.setRangeGridlinePaint(Color.LIGHT_GRAY);
      sub.setDomainGridlinePaint(Color.LIGHT_GRAY);
      plot.add(sub, 1);
    }
    JFreeChart chart =
        new JFreeChart("veriruntime watch: soak", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    int width = 1100;
    int height = 1400;
    Document doc =
        GenericDOMImplementation.getDOMImplementation()
            .createDocument("http://www.w3.org/2000/svg", "svg", null);
    SVGGraphics2D g = new SVGGraphics2D(doc);
    g.setSVGCanvasSize(new Dimension(width, height));
    chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      g.stream(out, true);
    }
  }
}
