package dev.veriruntime.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** I/O failures as the half-sentence a one-line CLI error ends with. */
final class IoErrors {
  private IoErrors() {}

  /**
   * "no such file or directory", "permission denied", or the first line of the exception's message
   * (the JDK's file exceptions carry only the path, which the caller's message already names).
   */
  static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }
}
