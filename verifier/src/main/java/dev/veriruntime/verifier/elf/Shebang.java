package dev.veriruntime.verifier.elf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The {@code #!} line of a script: the interpreter the kernel runs and its single optional argument
 * (Linux passes everything after the interpreter as one argument). ELF scopes do not apply to
 * scripts; the interpreter is what actually executes.
 */
public record Shebang(String interpreter, Optional<String> argument) {
  /** The kernel reads at most this many bytes of the first line ({@code BINPRM_BUF_SIZE}). */
  public static final int MAX_LINE = 256;

  /** The shebang at the start of {@code head}, if it has one with a non-empty interpreter. */
  public static Optional<Shebang> parse(byte[] head) {
    return parse(ByteBuffer.wrap(head));
  }

  /** Same as {@link #parse(byte[])} for the remaining bytes of {@code head}; position unchanged. */
  public static Optional<Shebang> parse(ByteBuffer head) {
    ByteBuffer b = head.duplicate();
    if (b.remaining() < 2 || b.get() != '#' || b.get() != '!') {
      return Optional.empty();
    }
    int limit = Math.min(b.remaining(), MAX_LINE - 2);
    byte[] line = new byte[limit];
    int n = 0;
    for (int i = 0; i < limit; i++) {
      byte c = b.get();
      if (c == '\n' || c == 0) {
        break;
      }
      line[n++] = c;
    }
    String text = new String(line, 0, n, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return Optional.empty();
    }
    int space = indexOfBlank(text);
    if (space < 0) {
      return Optional.of(new Shebang(text, Optional.empty()));
    }
    String arg = text.substring(space).strip();
    return Optional.of(
        new Shebang(text.substring(0, space), arg.isEmpty() ? Optional.empty() : Optional.of(arg)));
  }

  /** Reads the first bytes of {@code channel} (positional read; position unchanged). */
  public static Optional<Shebang> read(FileChannel channel) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(MAX_LINE);
    while (head.hasRemaining()) {
      if (channel.read(head, head.position()) < 0) {
        break;
      }
    }
    return parse(head.flip());
  }

  private static int indexOfBlank(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
        return i;
      }
    }
    return -1;
  }
}
