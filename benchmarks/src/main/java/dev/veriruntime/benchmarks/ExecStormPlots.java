package dev.veriruntime.benchmarks;

import dev.veriruntime.benchmarks.ExecStorm.Round;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The exec-storm run as two PNG files, rendered headless with JFreeChart: {@code latency-cdf.png}
 * (exec → verdict CDF per agent-on round from its histogram buckets, during the storm on the left,
 * for the calm sequential execs in the middle and for the new binaries on the right, log-scale
 * milliseconds) and {@code throughput-ratio.png} (exec/s on ÷ off per pair, each agent
 * configuration and the peer, with the 0.97 target). The data preparation ({@link #cdfSeries},
 * {@link #ratioBars}) is pure.
 */
final class ExecStormPlots {
  static final String LATENCY_CDF = "latency-cdf.png";
  static final String THROUGHPUT_RATIO = "throughput-ratio.png";

  /** Distinct on white and for the common colour blindnesses (Okabe–Ito), then darker repeats. */
  private static final Color[] PALETTE = {
    new Color(0x00, 0x72, 0xB2), new Color(0xD5, 0x5E, 0x00), new Color(0x00, 0x9E, 0x73),
        new Color(0xCC, 0x79, 0xA7),
    new Color(0x56, 0xB4, 0xE9), new Color(0xE6, 0x9F, 0x00), new Color(0x00, 0x00, 0x00),
        new Color(0x99, 0x99, 0x99)
  };

  private ExecStormPlots() {}

  /** One bar: {@code series} (who ran), {@code category} (load and pair), on ÷ off. */
  record Bar(String series, String category, double ratio) {}

  /** Writes both PNG files into {@code dir}; returns their names. */
  static List<String> write(Path dir, List<Round> rounds, List<Round> peerRounds, String peerName)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage cdf = new BufferedImage(2400, 700, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = cdf.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    cdfChart(
            "exec → verdict during the storm",
            cdfSeries(rounds, ExecStormPlots::stormLatency),
            ExecStorm.TARGET_STORM_P99_MS)
        .draw(g, new Rectangle2D.Double(0, 0, 800, 700));
    cdfChart(
            "exec → verdict, calm (cached identity, sequential execs)",
            cdfSeries(rounds, a -> a.calmHistogram()),
            ExecStorm.TARGET_CALM_P99_MS)
        .draw(g, new Rectangle2D.Double(800, 0, 800, 700));
    cdfChart(
            "exec → verdict, new binaries (written, then run once each)",
            cdfSeries(rounds, a -> a.newHistogram()),
            ExecStorm.TARGET_NEW_BINARY_P99_MS)
        .draw(g, new Rectangle2D.Double(1600, 0, 800, 700));
    g.dispose();
    ImageIO.write(cdf, "png", dir.resolve(LATENCY_CDF).toFile());

    BufferedImage bars = new BufferedImage(1200, 650, BufferedImage.TYPE_INT_RGB);
    g = bars.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    ratioChart(ratioBars(rounds, peerRounds, peerName))
        .draw(g, new Rectangle2D.Double(0, 0, 1200, 650));
    g.dispose();
    ImageIO.write(bars, "png", dir.resolve(THROUGHPUT_RATIO).toFile());
    return List.of(LATENCY_CDF, THROUGHPUT_RATIO);
  }

  /**
   * The storm's histogram where it describes the storm; null when its execs were counted in the
   * kernel (the few verdicts left are other execs on the host).
   */
  static LatencyHistogram stormLatency(ExecStorm.AgentRound a) {
    return a.stormLatencyApplies() ? a.stormHistogram() : null;
  }

  /** Round label → CDF points, for every agent-on round with observations. */
  static Map<String, List<LatencyHistogram.CdfPoint>> cdfSeries(
      List<Round> rounds, Function<ExecStorm.AgentRound, LatencyHistogram> which) {
    Map<String, List<LatencyHistogram.CdfPoint>> out = new LinkedHashMap<>();
    for (Round r : rounds) {
      if (r.agentRound() == null || which.apply(r.agentRound()) == null) {
        continue;
      }
      List<LatencyHistogram.CdfPoint> points = which.apply(r.agentRound()).cdf();
      if (!points.isEmpty()) {
        out.put(
            "round "
                + r.index()
                + ": "
                + ExecStormReport.configLabel(r.config())
                + ", "
                + RatePlan.label(r.targetRate()),
            points);
      }
    }
    return out;
  }

  /**
   * On ÷ off for each consecutive (off, on) pair: the agent's rounds per configuration, then the
   * peer's; categories are "load #pair".
   */
  static List<Bar> ratioBars(List<Round> rounds, List<Round> peerRounds, String peerName) {
    List<Bar> out = new ArrayList<>();
    addPairs(out, rounds, r -> "VeriRuntime " + ExecStormReport.configLabel(r.config()));
    addPairs(out, peerRounds, r -> "peer " + peerName);
    return out;
  }

  private static void addPairs(List<Bar> out, List<Round> rounds, Function<Round, String> series) {
    Map<String, Integer> pairNumbers = new LinkedHashMap<>();
    for (int i = 0; i + 1 < rounds.size(); i += 2) {
      Round off = rounds.get(i);
      Round on = rounds.get(i + 1);
      String s = series.apply(on);
      int n = pairNumbers.merge(s + '\0' + on.targetRate(), 1, Integer::sum);
      out.add(new Bar(s, RatePlan.label(on.targetRate()) + " #" + n, ExecStorm.ratio(off, on)));
    }
  }

  private static JFreeChart cdfChart(
      String title, Map<String, List<LatencyHistogram.CdfPoint>> series, double targetMs) {
    XYSeriesCollection data = new XYSeriesCollection();
    series.forEach(
        (name, points) -> {
          XYSeries s = new XYSeries(name, false, true);
          points.forEach(p -> s.add(p.ms(), p.fraction()));
          data.addSeries(s);
        });
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title,
            "milliseconds (log scale)",
            "fraction of execs ≤ x",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    XYPlot plot = chart.getXYPlot();
    LogAxis x = new LogAxis("milliseconds (log scale)");
    x.setBase(10);
    x.setTickUnit(new NumberTickUnit(1)); // one tick per decade (the unit is in log space)
    x.setNumberFormatOverride(new DecimalFormat("0.###"));
    x.setSmallestValue(1e-3);
    plot.setDomainAxis(x);
    NumberAxis y = (NumberAxis) plot.getRangeAxis();
    y.setRange(0, 1.02);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesStroke(i, new BasicStroke(2f));
      renderer.setSeriesPaint(i, color(i));
    }
    plot.setRenderer(renderer);
    plot.addDomainMarker(
        marker(
            targetMs, "p99 target " + new DecimalFormat("0.###").format(targetMs) + " ms", false));
    plot.addRangeMarker(marker(0.99, "p99", true));
    style(chart);
    return chart;
  }

  private static JFreeChart ratioChart(List<Bar> bars) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    bars.forEach(b -> data.addValue(b.ratio(), b.series(), b.category()));
    JFreeChart chart =
        ChartFactory.createBarChart(
            "exec/s with the agent (or peer) on ÷ off, same storm, same run",
            "load and pair",
            "exec/s on ÷ off",
            data,
            PlotOrientation.VERTICAL,
            true,
            false,
            false);
    CategoryPlot plot = chart.getCategoryPlot();
    double top = bars.stream().mapToDouble(Bar::ratio).filter(Double::isFinite).max().orElse(1);
    plot.getRangeAxis().setRange(0, Math.max(1.1, top * 1.1));
    plot.addRangeMarker(
        marker(
            ExecStorm.TARGET_THROUGHPUT_RATIO,
            "target " + ExecStorm.TARGET_THROUGHPUT_RATIO,
            true));
    BarRenderer renderer = (BarRenderer) plot.getRenderer();
    for (int i = 0; i < data.getRowCount(); i++) {
      renderer.setSeriesPaint(i, color(i));
    }
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    renderer.setDefaultItemLabelGenerator(
        new org.jfree.chart.labels.StandardCategoryItemLabelGenerator(
            "{2}", new DecimalFormat("0.00")));
    renderer.setDefaultItemLabelsVisible(true);
    style(chart);
    return chart;
  }

  private static Color color(int series) {
    Color c = PALETTE[series % PALETTE.length];
    return series < PALETTE.length ? c : c.darker();
  }

  /**
   * A dashed red line; a horizontal one is labelled above its right end, a vertical one right of
   * its top.
   */
  private static ValueMarker marker(double value, String label, boolean horizontal) {
    ValueMarker m =
        new ValueMarker(
            value,
            Color.RED.darker(),
            new BasicStroke(
                1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    m.setLabel(label);
    m.setLabelFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
    m.setLabelPaint(Color.RED.darker());
    m.setLabelBackgroundColor(new Color(255, 255, 255, 0));
    if (horizontal) {
      m.setLabelAnchor(RectangleAnchor.RIGHT);
      m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
    } else {
      m.setLabelAnchor(RectangleAnchor.TOP);
      m.setLabelTextAnchor(TextAnchor.TOP_LEFT);
    }
    return m;
  }

  private static void style(JFreeChart chart) {
    chart.setBackgroundPaint(Color.WHITE);
    chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    chart.getPlot().setBackgroundPaint(Color.WHITE);
    if (chart.getPlot() instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
      xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
    } else if (chart.getPlot() instanceof CategoryPlot c) {
      c.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
  }
}
