package dev.veriruntime.cli;

import dev.veriruntime.verifier.reference.ExecutableScanner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * A one-line progress bar for a scan, redrawn in place on a terminal with {@code \r}: files done of
 * total, files/s, MB/s and the time left. Lines are at most {@link #WIDTH} characters so that they
 * never wrap on an 80-column terminal. Not thread-safe: one drawing thread at a time (the scanner
 * never reports from two at once).
 */
final class ProgressLine {
  static final int WIDTH = 79;
  private static final int BAR = 16;

  private final PrintWriter err;
  private int drawn;

  ProgressLine(PrintWriter err) {
    this.err = err;
  }

  /**
   * Whether standard error is a terminal: {@code /proc/self/fd/2} names a tty or pty. Where that
   * cannot be read, {@link System#console()} decides.
   */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException e) {
      return System.console() != null;
    }
  }

  void draw(ExecutableScanner.Progress p) {
    String line = format(p);
    err.print("\r" + line + " ".repeat(Math.max(0, drawn - line.length())));
    err.flush();
    drawn = line.length();
  }

  /** Erases the line so that the summary starts on a clean one. */
  void clear() {
    if (drawn > 0) {
      err.print("\r" + " ".repeat(drawn) + "\r");
      err.flush();
      drawn = 0;
    }
  }

  static String format(ExecutableScanner.Progress p) {
    double seconds = Math.max(p.elapsed().toNanos() / 1e9, 1e-3);
    if (p.total() < 0) {
      return String.format(Locale.ROOT, "listing files: %d found", p.listed());
    }
    double fraction = p.total() == 0 ? 1 : (double) p.done() / p.total();
    int filled = (int) Math.round(fraction * BAR);
    double filesPerSecond = p.done() / seconds;
    String eta =
        p.done() == 0
            ? "--:--"
            : clock(Duration.ofSeconds(Math.round((p.total() - p.done()) / filesPerSecond)));
    String line =
        String.format(
            Locale.ROOT,
            "[%s%s] %d/%d files %.0f files/s %.1f MB/s ETA %s",
            "#".repeat(filled),
            "-".repeat(BAR - filled),
            p.done(),
            p.total(),
            filesPerSecond,
            p.bytes() / 1e6 / seconds,
            eta);
    return line.length() <= WIDTH ? line : line.substring(0, WIDTH);
  }

  static String clock(Duration d) {
    long s = d.toSeconds();
    return s >= 3600
        ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
