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
    int[] pos = {0};
    String range = token(line, pos);
    String perms = token(line, pos);
    String offset = token(line, pos);
    String dev = token(line, pos);
    String inode = token(line, pos);
    if (range == null
        || perms == null
        || offset == null
        || dev == null
        || inode == null
        || perms.length() != 4) {
      return Optional.empty();
    }
    int dash = range.indexOf('-');
    int colon = dev.indexOf(':');
    if (dash <= 0 || colon <= 0) {
      return Optional.empty();
    }
    int p = pos[0];
    while (p < line.length() && line.charAt(p) == ' ') {
      p++;
    }
    String pathname = line.substring(p);
    // The kernel prints unsigned hex (decimal inode) without a sign: Long.parse* would also take
    // "+1" or "-1", which no kernel writes and which would not print back the same.
    if (!digits(range.substring(0, dash), 16)
        || !digits(range.substring(dash + 1), 16)
        || !digits(offset, 16)
        || !digits(dev.substring(0, colon), 16)
        || !digits(dev.substring(colon + 1), 16)
        || !digits(inode, 10)) {
      return Optional.empty();
    }
    try {
      long start = Long.parseUnsignedLong(range.substring(0, dash), 16);
      long end = Long.parseUnsignedLong(range.substring(dash + 1), 16);
      if (Long.compareUnsigned(end, start) < 0) {
        return Optional.empty();
      }
      return Optional.of(
          new MemoryMapping(
              start,
              end,
              perms,
              Long.parseUnsignedLong(offset, 16),
              Integer.parseInt(dev.substring(0, colon), 16),
              Integer.parseInt(dev.substring(colon + 1), 16),
              Long.parseUnsignedLong(inode),
              pathname));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static boolean digits(String s, int radix) {
    return !s.isEmpty() && s.chars().allMatch(c -> c < 128 && Character.digit(c, radix) >= 0);
  }

  private static String token(String line, int[] pos) {
    int p = pos[0];
    while (p < line.length() && line.charAt(p) == ' ') {
      p++;
    }
    int start = p;
    while (p < line.length() && line.charAt(p) != ' ') {
      p++;
    }
    pos[0] = p;
    return p > start ? line.substring(start, p) : null;
  }
}
