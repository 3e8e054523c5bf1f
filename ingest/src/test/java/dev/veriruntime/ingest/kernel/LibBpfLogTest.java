package dev.veriruntime.ingest.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** libbpf's printed lines become log messages without their trailing newlines. */
class LibBpfLogTest {
  private static byte[] buffer(String text, int size) {
    byte[] b = new byte[size];
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(t, 0, b, 0, Math.min(t.length, size));
    return b;
  }

  @Test
  void trailingNewlinesAreStrippedAndInnerLinesKept() {
    String text =
        "libbpf: prog 'x': BPF program load failed: -EACCES\n-- BEGIN PROG LOAD LOG --\n\n";
    assertThat(LibBpfLog.message(buffer(text, 2048), text.length()))
        .isEqualTo("libbpf: prog 'x': BPF program load failed: -EACCES\n-- BEGIN PROG LOAD LOG --");
  }

  @Test
  void aTruncatedMessageEndsAtTheBuffer() {
    String text = "libbpf: a very long line\n";
    // vsnprintf returns the length it wanted, larger than the buffer; the last byte is the NUL.
    assertThat(LibBpfLog.message(buffer(text, 8), text.length())).isEqualTo("libbpf:");
    assertThat(LibBpfLog.message(buffer("", 8), -1)).isEmpty();
  }
}
