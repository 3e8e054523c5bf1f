package dev.veriruntime.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The load levels of an exec storm and how a fixed rate is paced. A level is {@link #MAX} (every
 * driver execs as fast as it can) or a total rate in exec/s, split evenly over the K drivers; each
 * driver runs {@code exec_driver rate CHILD S R/K}, whose n-th exec is due at start + n·K/R (an
 * absolute schedule, so the time an exec takes does not lower the rate; a late exec runs at once).
 * Pure functions.
 */
final class RatePlan {
  /** The "as fast as possible" level. */
  static final double MAX = 0;

  private RatePlan() {}

  /**
   * Parses {@code --rate} values: {@code max} or a positive number of exec/s.
   *
   * @throws IllegalArgumentException for anything else, with the offending value
   */
  static List<Double> parseLevels(List<String> values) {
    List<Double> out = new ArrayList<>();
    for (String v : values) {
      String s = v.strip().toLowerCase(Locale.ROOT);
      if (s.equals("max")) {
        out.add(MAX);
        continue;
      }
      double r;
      try {
        r = Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--rate: '" + v + "' is neither 'max' nor a number of exec/s");
      }
      if (!(r > 0) || Double.isInfinite(r)) {
        throw new IllegalArgumentException("--rate: " + v + " must be > 0 exec/s");
      }
      out.add(r);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("--rate: no level given");
    }
    return out;
  }

  /** Each driver's share of a total rate. */
  static double perDriver(double totalRate, int drivers) {
    return totalRate / drivers;
  }

  /**
   * Execs one driver has due in {@code seconds} at {@code rate}: the n ≥ 0 with n / rate < seconds,
   * i.e. ⌈rate·seconds⌉ (a product within 10⁻⁹ of an integer counts as that integer).
   */
  static long duePerDriver(double rate, double seconds) {
    return (long) Math.ceil(rate * seconds - 1e-9);
  }

  /** Execs all {@code drivers} have due together at a total rate. */
  static long due(double totalRate, int drivers, double seconds) {
    return drivers * duePerDriver(perDriver(totalRate, drivers), seconds);
  }

  /** "max" or "500/s". */
  static String label(double rate) {
    if (rate == MAX) {
      return "max";
    }
    return (rate == Math.rint(rate)
            ? String.format(Locale.ROOT, "%.0f", rate)
            : String.format(Locale.ROOT, "%.1f", rate))
        + "/s";
  }
}
