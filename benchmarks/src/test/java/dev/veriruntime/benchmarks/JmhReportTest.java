package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JmhReportTest {
  private static final String JSON =
      """
      [
        {"benchmark": "dev.veriruntime.benchmarks.ElfParseBenchmark.headers", "mode": "avgt", "params": {"file": "libc"},
         "primaryMetric": {"score": 0.02, "scoreError": 0.001, "scoreUnit": "ms/op"}},
        {"benchmark": "dev.veriruntime.benchmarks.ElfParseBenchmark.readWholeFileBaseline", "mode": "avgt",
         "params": {"file": "libc"}, "primaryMetric": {"score": 0.2, "scoreError": 0.01, "scoreUnit": "ms/op"}},
        {"benchmark": "dev.veriruntime.benchmarks.ElfParseBenchmark.readWholeFileBaseline", "mode": "avgt",
         "params": {"file": "ls"}, "primaryMetric": {"score": 0.05, "scoreError": 0.01, "scoreUnit": "ms/op"}},
        {"benchmark": "dev.veriruntime.benchmarks.CacheHitBenchmark.checkHit", "mode": "avgt",
         "primaryMetric": {"score": 120.5, "scoreError": 3.2, "scoreUnit": "ns/op"}},
        {"benchmark": "dev.veriruntime.benchmarks.CacheHitBenchmark.hashMapBaseline", "mode": "avgt",
         "primaryMetric": {"score": 10.0, "scoreError": "NaN", "scoreUnit": "ns/op"}},
        {"benchmark": "dev.veriruntime.benchmarks.RecordDecodeBenchmark.decodeMix", "mode": "thrpt",
         "primaryMetric": {"score": 2000000, "scoreError": 1000, "scoreUnit": "ops/s"}},
        {"benchmark": "dev.veriruntime.benchmarks.RecordDecodeBenchmark.copyBaseline", "mode": "thrpt",
         "primaryMetric": {"score": 8000000, "scoreError": 1000, "scoreUnit": "ops/s"}}
      ]
      """;

  @Test
  void parsesNamesParamsScoresAndUnits() throws Exception {
    List<JmhReport.Result> r = JmhReport.parse(JSON);
    assertThat(r).hasSize(7);
    assertThat(r.get(0).simpleClass()).isEqualTo("ElfParseBenchmark");
    assertThat(r.get(0).method()).isEqualTo("headers");
    assertThat(r.get(0).params()).containsEntry("file", "libc");
    assertThat(r.get(3).secondsPerOp()).isCloseTo(120.5e-9, within(1e-15));
    assertThat(r.get(5).secondsPerOp()).isCloseTo(5e-7, within(1e-15));
  }

  @Test
  void ratioToTheBaselineOfTheSameClassAndParameters() throws Exception {
    List<JmhReport.Result> r = JmhReport.parse(JSON);
    assertThat(JmhReport.baselineOf(r.get(0), r).getAsDouble()).isCloseTo(0.2e-3, within(1e-12));
    assertThat(JmhReport.baselineOf(r.get(3), r).getAsDouble()).isCloseTo(10e-9, within(1e-15));
    assertThat(JmhReport.baselineOf(r.get(1), r)).isEmpty();
  }

  @Test
  void throughputInMegabytesPerSecondWhenTheOperationReadsAFile() {
    JmhReport.Result r =
        new JmhReport.Result(
            "x.ElfParseBenchmark", "headers", Map.of("file", "libc"), 0.02, 0, "ms/op");
    assertThat(JmhReport.throughput(r, 2_000_000)).isEqualTo("100000 MB/s");
    assertThat(JmhReport.throughput(r, -1)).isEqualTo("50.0 k/s");
  }

  @Test
  void markdownHasTheMachineOneTablePerClassAndTheRatios() throws Exception {
    Map<String, Object> machine = ExecStormReportTest.machine("1.00 0.50 0.20", "2.00 1.00 0.40");
    String md =
        JmhReport.markdown(
            JmhReport.parse(JSON),
            machine,
            "benchmarks/jmh.sh",
            r -> r.method().equals("headers") ? 2_000_000 : -1);
    assertThat(md)
        .contains(
            "| load average at start / end | 1.00 0.50 0.20 / 2.00 1.00 0.40 |",
            "## ElfParseBenchmark",
            "|\n\n## CacheHitBenchmark",
            "## RecordDecodeBenchmark",
            "| headers | file=libc | 0.0200 | 0.0010 | ms/op | 100000 MB/s | 0.10 |",
            "| checkHit |  | 121 | 3.20 | ns/op | 8.30 M/s | 12.05 |",
            "| hashMapBaseline |  | 10.00 |  | ns/op | 100.00 M/s |  |",
            "| decodeMix |  | 2000000 | 1000 | ops/s | 2.00 M/s | 4.00 |");
  }
}
