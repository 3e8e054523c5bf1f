package dev.veriruntime.verifier.process;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Parser for the text of {@code /proc/PID/maps}.
 *
 * <p>Each line is {@code start-end perms offset major:minor inode [pathname]}; the pathname starts
 * after the padding that follows the inode and may itself contain spaces (the kernel escapes only
 * newlines, as {@code \012}). Stateless and thread-safe.
 */
public final class ProcMaps {
  private ProcMaps() {}

  /**
   * Parses every line of {@code text}.
   *
   * @throws IllegalArgumentException naming the line when one is not in the maps format
   */
  public static List<MemoryMapping> parse(String text) {
    List<MemoryMapping> out = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n")) {
      lineNumber++;
      if (line.isBlank()) {
        continue;
      }
      int finalLine = lineNumber;
      out.add(
          parseLine(line)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "maps line " + finalLine + " is malformed: " + line)));
    }
    return List.copyOf(out);
  }

  /** Parses one line; empty if it is not in the maps format. */
  public static Optional<MemoryMapping> parseLine(String line) {
    // Scanned in place, without a substring per field or a stream per digit check: every process
    // verification parses its whole maps file, and a big method here cost C2 seconds to compile.
    int rangeStart = skipSpaces(line, 0);
    int rangeEnd = tokenEnd(line, rangeStart);
    int permsStart = skipSpaces(line, rangeEnd);
    int permsEnd = tokenEnd(line, permsStart);
    int offsetStart = skipSpaces(line, permsEnd);
    int offsetEnd = tokenEnd(line, offsetStart);
    int devStart = skipSpaces(line, offsetEnd);
    int devEnd = tokenEnd(line, devStart);
    int inodeStart = skipSpaces(line, devEnd);
    int inodeEnd = tokenEnd(line, inodeStart);
    // Tokens follow one another: an empty one ends the line, so all after it are empty too.
    if (inodeEnd == inodeStart || permsEnd - permsStart != 4) {
      return Optional.empty();
    }
    int dash = line.indexOf('-', rangeStart);
    int colon = line.indexOf(':', devStart);
    if (dash <= rangeStart || dash >= rangeEnd || colon <= devStart || colon >= devEnd) {
      return Optional.empty();
    }
    // The kernel prints unsigned hex (decimal inode) without a sign: Long.parse* would also take
    // "+1" or "-1", which no kernel writes and which would not print back the same.
    if (!digits(line, rangeStart, dash, 16)
        || !digits(line, dash + 1, rangeEnd, 16)
        || !digits(line, offsetStart, offsetEnd, 16)
        || !digits(line, devStart, colon, 16)
        || !digits(line, colon + 1, devEnd, 16)
        || !digits(line, inodeStart, inodeEnd, 10)) {
      return Optional.empty();
    }
    try {
      long start = Long.parseUnsignedLong(line, rangeStart, dash, 16);
      long end = Long.parseUnsignedLong(line, dash + 1, rangeEnd, 16);
      if (Long.compareUnsigned(end, start) < 0) {
        return Optional.empty();
      }
      return Optional.of(
          new MemoryMapping(
              start,
              end,
              line.substring(permsStart, permsEnd),
              Long.parseUnsignedLong(line, offsetStart, offsetEnd, 16),
              Integer.parseInt(line, devStart, colon, 16),
              Integer.parseInt(line, colon + 1, devEnd, 16),
              Long.parseUnsignedLong(line, inodeStart, inodeEnd, 10),
              line.substring(skipSpaces(line, inodeEnd))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code line[from, to)} is one or more ASCII digits of {@code radix}. */
  private static boolean digits(String line, int from, int to, int radix) {
    if (from >= to) {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = line.charAt(i);
      if (c >= 128 || Character.digit(c, radix) < 0) {
        return false;
      }
    }
    return true;
  }

  private static int skipSpaces(String line, int p) {
    while (p < line.length() && line.charAt(p) == ' ') {
      p++;
    }
    return p;
  }

  private static int tokenEnd(String line, int p) {
    while (p < line.length() && line.charAt(p) != ' ') {
      p++;
    }
    return p;
  }
}
