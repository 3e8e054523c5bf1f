package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.veriruntime.benchmarks.LatencyHistogram.Bucket;
import dev.veriruntime.benchmarks.LatencyHistogram.CdfPoint;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
  /**
   * 10 observations: 0 ≤ 0.1 ms, 4 in (0.1, 0.5] ms, 5 in (0.5, 1] ms, 1 in (1, 2] ms, none above.
   */
  private static final LatencyHistogram TEN =
      new LatencyHistogram(
          List.of(
              new Bucket(0.0001, 0),
              new Bucket(0.0005, 4),
              new Bucket(0.001, 9),
              new Bucket(0.002, 10),
              new Bucket(0.005, 10)),
          10);

  @Test
  void cdfStartsAtTheLastEmptyBoundAndStopsOnceEveryObservationIsIn() {
    assertThat(TEN.cdf())
        .containsExactly(
            new CdfPoint(0.1, 0),
            new CdfPoint(0.5, 0.4),
            new CdfPoint(1.0, 0.9),
            new CdfPoint(2.0, 1.0));
  }

  @Test
  void cdfBelowOneWhenSomeObservationsFellAboveEveryFiniteBound() {
    LatencyHistogram h =
        new LatencyHistogram(List.of(new Bucket(0.001, 3), new Bucket(0.01, 6)), 8);
    List<CdfPoint> cdf = h.cdf();
    assertThat(cdf).extracting(CdfPoint::ms).containsExactly(1.0, 10.0);
    assertThat(cdf.get(1).fraction()).isEqualTo(0.75);
  }

  @Test
  void emptyHistogramHasNoCdfAndNoQuantile() {
    assertThat(LatencyHistogram.empty().cdf()).isEmpty();
    assertThat(LatencyHistogram.empty().quantileSeconds(0.5)).isNaN();
  }

  @Test
  void quantilesInterpolateInsideTheirBucket() {
    // rank 5 of 10: one observation into the (0.5, 1] ms bucket of five
    assertThat(TEN.quantileSeconds(0.5)).isCloseTo(0.0005 + 0.0005 * 1 / 5, within(1e-12));
    // rank 9.9: 0.9 of the way through the (1, 2] ms bucket of one
    assertThat(TEN.quantileSeconds(0.99)).isCloseTo(0.001 + 0.001 * 0.9, within(1e-12));
  }

  @Test
  void quantileAboveEveryFiniteBoundIsTheLastBound() {
    LatencyHistogram h =
        new LatencyHistogram(List.of(new Bucket(0.001, 1), new Bucket(0.01, 2)), 10);
    assertThat(h.quantileSeconds(0.99)).isEqualTo(0.01);
  }

  @Test
  void mergeAddsCountsOverTheUnionOfBounds() {
    LatencyHistogram a =
        new LatencyHistogram(List.of(new Bucket(0.001, 2), new Bucket(0.01, 3)), 3);
    LatencyHistogram b = new LatencyHistogram(List.of(new Bucket(0.005, 4)), 5);
    LatencyHistogram m = LatencyHistogram.merge(List.of(a, b));
    assertThat(m.total()).isEqualTo(8);
    assertThat(m.buckets())
        .containsExactly(new Bucket(0.001, 2), new Bucket(0.005, 6), new Bucket(0.01, 7));
  }

  @Test
  void deltaOfTwoScrapesIsTheWindowsHistogram() {
    PrometheusScrape before =
        PrometheusScrape.parse(
            """
        # TYPE lat histogram
        lat_bucket{le="0.001"} 10
        lat_bucket{le="0.01"} 12
        lat_bucket{le="+Inf"} 12
        """);
    PrometheusScrape after =
        PrometheusScrape.parse(
            """
        lat_bucket{le="0.001"} 13
        lat_bucket{le="0.01"} 19
        lat_bucket{le="+Inf"} 20
        """);
    LatencyHistogram h = PrometheusScrape.histogramDelta(before, after, "lat");
    assertThat(h.buckets()).containsExactly(new Bucket(0.001, 3), new Bucket(0.01, 7));
    assertThat(h.total()).isEqualTo(8);
    assertThat(PrometheusScrape.histogramQuantile(before, after, "lat", 0.25))
        .isCloseTo(0.001 * 2 / 3, within(1e-12));
  }
}
