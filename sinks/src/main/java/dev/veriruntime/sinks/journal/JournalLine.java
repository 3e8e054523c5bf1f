package dev.veriruntime.sinks.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One raw line of a journal file: where it starts, its 1-based number, its bytes without the
 * newline, and whether the newline was there (a missing one means a torn write or a truncation).
 */
record JournalLine(long offset, long number, byte[] bytes, boolean terminated) {

  String hash() {
    return JournalFormat.sha256Hex(bytes, 0, bytes.length);
  }

  /**
   * Splits a whole file into lines. Journal files are bounded by rotation, so reading one is fine.
   */
  static List<JournalLine> readAll(Path file) throws IOException {
    byte[] all = JournalFormat.readRegular(file);
    List<JournalLine> lines = new ArrayList<>();
    int start = 0;
    long number = 1;
    for (int i = 0; i < all.length; i++) {
      if (all[i] == '\n') {
        lines.add(
            new JournalLine(start, number++, java.util.Arrays.copyOfRange(all, start, i), true));
        start = i + 1;
      }
    }
    if (start < all.length) {
      lines.add(
          new JournalLine(
              start, number, java.util.Arrays.copyOfRange(all, start, all.length), false));
    }
    return lines;
  }
}
