package dev.veriruntime.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scrape of a Prometheus text-format (0.0.4) endpoint, reduced to its samples: a metric name,
 * its labels and a value. Only what the exec-storm harness reads is supported: no timestamps, no
 * escaped quotes inside label values. Immutable and thread-safe.
 */
public final class PrometheusScrape {
  /** One sample line: {@code name{k="v",...} value}. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;

  private PrometheusScrape(List<Sample> samples) {
    this.samples = List.copyOf(samples);
  }

  /**
   * Fetches {@code http://127.0.0.1:port/metrics}.
   *
   * @throws IOException if the endpoint does not answer 200 within five seconds
   */
  public static PrometheusScrape fetch(HttpClient client, int port)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
            .timeout(Duration.ofSeconds(5))
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("metrics endpoint answered " + response.statusCode());
    }
    return parse(response.body());
  }

  /** Parses exposition text; comment lines and lines that do not end in a number are skipped. */
  public static PrometheusScrape parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String raw : text.split("\n")) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      if (space < 0) {
        continue;
      }
      String name;
      Map<String, String> labels = new TreeMap<>();
      if (brace >= 0 && brace < space) {
        name = line.substring(0, brace);
        int close = line.lastIndexOf('}');
        for (String pair : line.substring(brace + 1, close).split(",")) {
          int eq = pair.indexOf('=');
          if (eq > 0) {
            labels.put(
                pair.substring(0, eq).strip(), pair.substring(eq + 1).strip().replace("\"", ""));
          }
        }
      } else {
        name = line.substring(0, space).strip();
      }
      try {
        out.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
      } catch (NumberFormatException notANumber) {
        // a line this parser does not understand: not one the harness needs
      }
    }
    return new PrometheusScrape(out);
  }

  /** Sum over all label sets of {@code name}; 0 when absent (a counter not yet incremented). */
  public double sum(String name) {
    return samples.stream().filter(s -> s.name.equals(name)).mapToDouble(Sample::value).sum();
  }

  /** Sum over the label sets of {@code name} that include {@code label=value}; 0 when none. */
  public double sum(String name, String label, String value) {
    return samples.stream()
        .filter(s -> s.name.equals(name) && value.equals(s.labels.get(label)))
        .mapToDouble(Sample::value)
        .sum();
  }

  /**
   * What {@code name} gained between two scrapes, summed over its label sets (those that include
   * {@code label=value} unless {@code label} is null).
   */
  public static double gained(
      PrometheusScrape before, PrometheusScrape after, String name, String label, String value) {
    return label == null
        ? after.sum(name) - before.sum(name)
        : after.sum(name, label, value) - before.sum(name, label, value);
  }

  /** {@link #gained}, rounded: what a counter gained. */
  public static long delta(
      PrometheusScrape before, PrometheusScrape after, String name, String label, String value) {
    return Math.round(gained(before, after, name, label, value));
  }

  /**
   * What a histogram received between two scrapes: the deltas of its cumulative {@code
   * name_bucket{le}} counts; the total is the delta of the {@code +Inf} bucket.
   */
  public static LatencyHistogram histogramDelta(
      PrometheusScrape before, PrometheusScrape after, String name) {
    TreeMap<Double, Long> cumulative = new TreeMap<>();
    for (Sample s : after.samples) {
      if (s.name.equals(name + "_bucket") && s.labels.containsKey("le")) {
        double earlier = before.sum(s.name, "le", s.labels.get("le"));
        cumulative.put(parseBound(s.labels.get("le")), Math.round(s.value - earlier));
      }
    }
    if (cumulative.isEmpty()) {
      return LatencyHistogram.empty();
    }
    long total = cumulative.lastEntry().getValue();
    List<LatencyHistogram.Bucket> finite = new ArrayList<>();
    cumulative.forEach(
        (le, c) -> {
          if (!le.isInfinite()) {
            finite.add(new LatencyHistogram.Bucket(le, c));
          }
        });
    return new LatencyHistogram(
        finite, Math.max(total, finite.isEmpty() ? 0 : finite.get(finite.size() - 1).cumulative()));
  }

  /**
   * The {@code q} quantile of the observations a histogram received between two scrapes, from the
   * deltas of its cumulative {@code name_bucket{le}} counts, interpolated linearly inside the
   * bucket that holds it (what PromQL's {@code histogram_quantile} does). NaN when nothing was
   * observed; the last finite bound when the quantile falls in the {@code +Inf} bucket.
   */
  public static double histogramQuantile(
      PrometheusScrape before, PrometheusScrape after, String name, double q) {
    return histogramDelta(before, after, name).quantileSeconds(q);
  }

  private static double parseBound(String le) {
    return le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  public List<Sample> samples() {
    return samples;
  }
}
