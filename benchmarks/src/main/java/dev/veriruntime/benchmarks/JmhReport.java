package dev.veriruntime.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.function.ToLongFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Renders a JMH JSON result file ({@code -rf json}) as markdown with the machine and its load
 * average: per benchmark the score and its 99.9 % error, the throughput it implies (operations/s,
 * or MB/s for benchmarks over a file), and the ratio to the {@code *Baseline} method of the same
 * class measured in the same run. {@code benchmarks/jmh.sh} runs JMH and then this.
 *
 * <pre>{@code
 * java -cp benchmarks/target/benchmarks.jar dev.veriruntime.benchmarks.JmhReport \
 *     --json /tmp/jmh.json --out benchmarks/results/jmh.md --loadavg-start "0.50 0.40 0.30"
 * }</pre>
 */
@Command(
    name = "jmh-report",
    mixinStandardHelpOptions = true,
    description = "JMH JSON results as a markdown table.")
public final class JmhReport implements Callable<Integer> {
  @Option(names = "--json", required = true, description = "JMH result file (-rf json -rff FILE).")
  Path json;

  @Option(names = "--out", required = true, description = "Markdown file to write.")
  Path out;

  @Option(
      names = "--loadavg-start",
      description = "Load average when JMH started (the end one is read now).")
  String loadavgStart = "unknown";

  @Option(names = "--command", description = "The command line to record.")
  String command = "benchmarks/jmh.sh";

  public static void main(String[] args) {
    System.exit(new CommandLine(new JmhReport()).execute(args));
  }

  /** One benchmark result: {@code score} in {@code unit} ("ms/op", "us/op", "ns/op" or "ops/s"). */
  record Result(
      String className,
      String method,
      Map<String, String> params,
      double score,
      double error,
      String unit) {
    String simpleClass() {
      return className.substring(className.lastIndexOf('.') + 1);
    }

    boolean baseline() {
      return method.endsWith("Baseline");
    }

    /** Seconds per operation, whatever the unit. */
    double secondsPerOp() {
      return switch (unit) {
        case "s/op" -> score;
        case "ms/op" -> score / 1e3;
        case "us/op" -> score / 1e6;
        case "ns/op" -> score / 1e9;
        case "ops/s" -> 1 / score;
        case "ops/ms" -> 1 / (score * 1e3);
        case "ops/us" -> 1 / (score * 1e6);
        default -> throw new IllegalArgumentException("unknown JMH unit " + unit);
      };
    }
  }

  @Override
  public Integer call() throws IOException {
    List<Result> results = parse(Files.readString(json));
    Map<String, Object> machine = ExecStorm.machine();
    machine.put("loadavgStart", loadavgStart);
    machine.put("loadavgEnd", ExecStorm.loadAverage());
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, markdown(results, machine, command, JmhReport::bytesOfInput));
    System.err.println("jmh-report: wrote " + out);
    return 0;
  }

  static List<Result> parse(String jmhJson) throws IOException {
    List<Result> out = new ArrayList<>();
    for (JsonNode b : new ObjectMapper().readTree(jmhJson)) {
      String name = b.path("benchmark").asText();
      Map<String, String> params = new LinkedHashMap<>();
      b.path("params")
          .fields()
          .forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
      JsonNode m = b.path("primaryMetric");
      double error = m.path("scoreError").asDouble(Double.NaN);
      out.add(
          new Result(
              name.substring(0, name.lastIndexOf('.')),
              name.substring(name.lastIndexOf('.') + 1),
              params,
              m.path("score").asDouble(),
              error,
              m.path("scoreUnit").asText()));
    }
    return out;
  }

  /**
   * Bytes one operation processes, when the benchmark runs over a file: {@code fileSize} (the
   * SHA-256 benchmark) or {@code file} (the ELF benchmark, resolved on this machine); -1 otherwise.
   */
  static long bytesOfInput(Result r) {
    try {
      if (r.params().containsKey("fileSize")) {
        return Long.parseLong(r.params().get("fileSize"));
      }
      if (r.params().containsKey("file") && r.className().endsWith("ElfParseBenchmark")) {
        return Files.size(ElfParseBenchmark.pathOf(r.params().get("file")));
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** The markdown page; {@code bytesOfInput} gives the bytes per operation of a result, or -1. */
  static String markdown(
      List<Result> results,
      Map<String, Object> machine,
      String command,
      ToLongFunction<Result> bytesOfInput) {
    StringBuilder b = new StringBuilder();
    b.append("# JMH micro-benchmarks\n\n");
    b.append(
        "Generated by `benchmarks/jmh.sh`; settings from `AbstractBenchmark` unless a class says otherwise "
            + "(see benchmarks/README.md). Error = JMH's 99.9 % confidence interval.\n\n");
    b.append(ExecStormReport.machineTable(machine));
    b.append("Command: `").append(command).append("`\n\n");
    String currentClass = null;
    for (Result r : results) {
      if (!r.className().equals(currentClass)) {
        if (currentClass != null) {
          b.append('\n');
        }
        currentClass = r.className();
        b.append("## ").append(r.simpleClass()).append("\n\n");
        b.append(
            "| benchmark | params | score | ± error | unit | throughput | time ÷ baseline |\n");
        b.append("|---|---|---:|---:|---|---:|---:|\n");
      }
      b.append("| ")
          .append(r.method())
          .append(" | ")
          .append(params(r.params()))
          .append(" | ")
          .append(number(r.score()))
          .append(" | ")
          .append(Double.isNaN(r.error()) ? "" : number(r.error()))
          .append(" | ")
          .append(r.unit())
          .append(" | ")
          .append(throughput(r, bytesOfInput.applyAsLong(r)))
          .append(" | ")
          .append(
              baselineOf(r, results).isPresent()
                  ? f("%.2f", r.secondsPerOp() / baselineOf(r, results).getAsDouble())
                  : "")
          .append(" |\n");
    }
    if (currentClass != null) {
      b.append('\n');
    }
    b.append(
        "How to read it: \"throughput\" is operations per second (for benchmarks over a file, MB/s of that file "
            + "on this machine, 1 MB = 10⁶ bytes); \"time ÷ baseline\" compares with the `*Baseline` method of the same "
            + "class and parameters in this run (1.00 = as fast as the baseline). A ± error larger than the difference "
            + "between two rows means this run does not tell them apart.\n");
    return b.toString();
  }

  /** Seconds per operation of the same class's baseline with the same (or no) parameters. */
  static OptionalDouble baselineOf(Result r, List<Result> all) {
    if (r.baseline()) {
      return OptionalDouble.empty();
    }
    Optional<Result> base =
        all.stream()
            .filter(o -> o.baseline() && o.className().equals(r.className()))
            .filter(o -> r.params().entrySet().containsAll(o.params().entrySet()))
            .findFirst();
    return base.isPresent() ? OptionalDouble.of(base.get().secondsPerOp()) : OptionalDouble.empty();
  }

  static String throughput(Result r, long bytes) {
    double perSecond = 1 / r.secondsPerOp();
    if (bytes > 0) {
      return f("%.0f MB/s", bytes * perSecond / 1e6);
    }
    return perSecond >= 1e6
        ? f("%.2f M/s", perSecond / 1e6)
        : perSecond >= 1e3 ? f("%.1f k/s", perSecond / 1e3) : f("%.1f /s", perSecond);
  }

  private static String params(Map<String, String> params) {
    List<String> out = new ArrayList<>();
    params.forEach((k, v) -> out.add(k + "=" + v));
    return String.join(", ", out);
  }

  private static String number(double x) {
    return Math.abs(x) >= 100 ? f("%.0f", x) : Math.abs(x) >= 1 ? f("%.2f", x) : f("%.4f", x);
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
