package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.benchmarks.ExecStorm.Round;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecStormPlotsTest {
  @Test
  void oneCdfSeriesPerAgentOnRound() {
    var series =
        ExecStormPlots.cdfSeries(
            ExecStormReportTest.rounds(), ExecStorm.AgentRound::stormHistogram);
    assertThat(series.keySet())
        .containsExactly(
            "round 2: --no-journal --no-scan --no-api, max",
            "round 4: --no-journal --no-scan --no-api, max",
            "round 6: --no-journal --no-scan --no-api, 1000/s",
            "round 8: defaults, max");
    assertThat(series.get("round 2: --no-journal --no-scan --no-api, max"))
        .containsExactly(
            new LatencyHistogram.CdfPoint(0.5, 0.5), new LatencyHistogram.CdfPoint(2.0, 1.0));
  }

  @Test
  void aStormCountedInTheKernelHasNoCdfButItsNewBinariesHave() {
    List<Round> trusted = ExecStormReportTest.trustedRounds(0);
    assertThat(ExecStormPlots.cdfSeries(trusted, ExecStormPlots::stormLatency)).isEmpty();
    assertThat(ExecStormPlots.cdfSeries(trusted, ExecStorm.AgentRound::newHistogram)).hasSize(2);
  }

  @Test
  void oneBarPerPairNumberedWithinItsSeriesAndLoad() {
    List<Round> peer =
        List.of(
            ExecStormReportTest.off(9, "peer", RatePlan.MAX, 10_000, null),
            new Round(
                10,
                "peer",
                RatePlan.MAX,
                false,
                6_000,
                0,
                0,
                0,
                10,
                600,
                null,
                new ExecStorm.PeerRound("fapolicyd", 3, 0.5, 1024),
                null,
                Double.NaN));
    List<ExecStormPlots.Bar> bars =
        ExecStormPlots.ratioBars(ExecStormReportTest.rounds(), peer, "fapolicyd");
    assertThat(bars)
        .extracting(b -> b.series() + " | " + b.category())
        .containsExactly(
            "VeriRuntime --no-journal --no-scan --no-api | max #1",
            "VeriRuntime --no-journal --no-scan --no-api | max #2",
            "VeriRuntime --no-journal --no-scan --no-api | 1000/s #1",
            "VeriRuntime defaults | max #1",
            "peer fapolicyd | max #1");
    assertThat(bars.get(1).ratio()).isEqualTo(0.96, org.assertj.core.api.Assertions.within(1e-9));
    assertThat(bars.get(4).ratio()).isEqualTo(0.6, org.assertj.core.api.Assertions.within(1e-9));
  }

  @Test
  void writesTwoPngFilesHeadless(@TempDir Path dir) throws Exception {
    List<String> files = ExecStormPlots.write(dir, ExecStormReportTest.rounds(), List.of(), "");
    assertThat(files).containsExactly(ExecStormPlots.LATENCY_CDF, ExecStormPlots.THROUGHPUT_RATIO);
    BufferedImage cdf = ImageIO.read(dir.resolve(ExecStormPlots.LATENCY_CDF).toFile());
    assertThat(cdf.getWidth()).isEqualTo(2400);
    BufferedImage bars = ImageIO.read(dir.resolve(ExecStormPlots.THROUGHPUT_RATIO).toFile());
    assertThat(bars.getHeight()).isEqualTo(650);
    assertThat(Files.size(dir.resolve(ExecStormPlots.THROUGHPUT_RATIO))).isGreaterThan(5_000);
  }
}
