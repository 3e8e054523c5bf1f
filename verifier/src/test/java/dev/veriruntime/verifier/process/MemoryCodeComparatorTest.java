package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparator against an in-memory fake of another process's address space. */
class MemoryCodeComparatorTest {
  private static final long BASE = 0x7f0000001000L;
  private static final int PAGE = 4096;

  @TempDir Path dir;

  /** Memory holding {@code bytes} at BASE; readable for exactly {@code readable} bytes. */
  private record FakeMemory(byte[] bytes, int readable) implements ProcessMemory {
    @Override
    public int pid() {
      return 1;
    }

    @Override
    public int read(long address, ByteBuffer dst) throws IOException {
      long off = address - BASE;
      if (off < 0 || off >= readable) {
        throw new UnreadableMemoryException(address, "unreadable", null);
      }
      int n = (int) Math.min(dst.remaining(), readable - off);
      dst.put(bytes, (int) off, n);
      return n;
    }

    @Override
    public void close() {}
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(42).nextBytes(b);
    return b;
  }

  private FileChannel file(byte[] content) throws IOException {
    Path f = dir.resolve("lib.so");
    Files.write(f, content);
    return FileChannel.open(f);
  }

  private static MemoryMapping mapping(long length, long offset) {
    return new MemoryMapping(BASE, BASE + length, "r-xp", offset, 0xfe, 0, 99, "/lib.so");
  }

  @Test
  void equalBytesMatchAcrossChunks() throws IOException {
    byte[] content = random(5 * PAGE);
    try (FileChannel f = file(content)) {
      MemoryCodeComparator.Step s =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(content.clone(), content.length),
                  mapping(content.length, 0),
                  f,
                  0,
                  Long.MAX_VALUE);
      assertThat(s.done()).isTrue();
      assertThat(s.difference()).isEmpty();
      assertThat(s.bytesCompared()).isEqualTo(content.length);
      assertThat(s.position()).isEqualTo(content.length);
    }
  }

  @Test
  void firstDifferenceIsReportedWithAddressAndFileOffset() throws IOException {
    byte[] content = random(6 * PAGE);
    byte[] memory =
        java.util.Arrays.copyOfRange(content, 2 * PAGE, 6 * PAGE); // mapping at file offset 2 pages
    memory[3 * PAGE + 17] ^= 0x5a;
    memory[3 * PAGE + 900] ^= 0x01;
    try (FileChannel f = file(content)) {
      MemoryCodeComparator.Step s =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(memory, memory.length),
                  mapping(memory.length, 2 * PAGE),
                  f,
                  0,
                  Long.MAX_VALUE);
      assertThat(s.done()).isTrue();
      CodeDifference d = s.difference().orElseThrow();
      assertThat(d.address()).isEqualTo(BASE + 3 * PAGE + 17);
      assertThat(d.fileOffset()).isEqualTo(5L * PAGE + 17);
      assertThat(d.fileByte()).isEqualTo(content[5 * PAGE + 17] & 0xff);
      assertThat(d.memoryByte()).isEqualTo((content[5 * PAGE + 17] ^ 0x5a) & 0xff);
      assertThat(d.pastEndOfFile()).isFalse();
    }
  }

  @Test
  void boundedStepsResumeWhereTheyStopped() throws IOException {
    byte[] content = random(8 * PAGE);
    byte[] memory = content.clone();
    memory[7 * PAGE + 5] = (byte) ~memory[7 * PAGE + 5];
    MemoryCodeComparator c = new MemoryCodeComparator(PAGE);
    try (FileChannel f = file(content)) {
      FakeMemory mem = new FakeMemory(memory, memory.length);
      long position = 0;
      int steps = 0;
      MemoryCodeComparator.Step s;
      do {
        s = c.compare(mem, mapping(memory.length, 0), f, position, 3000);
        assertThat(s.bytesCompared()).isLessThanOrEqualTo(3000);
        position = s.position();
        steps++;
      } while (!s.done());
      assertThat(steps).isEqualTo((7 * PAGE + 5) / 3000 + 1);
      assertThat(s.difference().orElseThrow().address()).isEqualTo(BASE + 7 * PAGE + 5);
    }
  }

  @Test
  void bytesPastEndOfFileMustBeZeroUntilMemoryEnds() throws IOException {
    byte[] content = random(PAGE + 100); // the file ends 100 bytes into its second page
    byte[] memory = new byte[4 * PAGE];
    System.arraycopy(content, 0, memory, 0, content.length);
    try (FileChannel f = file(content)) {
      // The kernel maps zeros to the end of the page and nothing beyond (SIGBUS there).
      MemoryCodeComparator.Step clean =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(memory, 2 * PAGE),
                  mapping(memory.length, 0),
                  f,
                  0,
                  Long.MAX_VALUE);
      assertThat(clean.done()).isTrue();
      assertThat(clean.difference()).isEmpty();
      assertThat(clean.bytesCompared()).isEqualTo(2 * PAGE);

      memory[PAGE + 200] = (byte) 0xc3; // code hidden in the zero tail of the last page
      MemoryCodeComparator.Step hidden =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(memory, 2 * PAGE),
                  mapping(memory.length, 0),
                  f,
                  0,
                  Long.MAX_VALUE);
      CodeDifference d = hidden.difference().orElseThrow();
      assertThat(d.pastEndOfFile()).isTrue();
      assertThat(d.address()).isEqualTo(BASE + PAGE + 200);
      assertThat(d.memoryByte()).isEqualTo(0xc3);
      assertThat(d.fileByte()).isZero();
    }
  }

  @Test
  void unreadableMemoryInsideTheFileIsAnError() throws IOException {
    byte[] content = random(3 * PAGE);
    try (FileChannel f = file(content)) {
      assertThatThrownBy(
              () ->
                  new MemoryCodeComparator(PAGE)
                      .compare(
                          new FakeMemory(content, PAGE),
                          mapping(content.length, 0),
                          f,
                          0,
                          Long.MAX_VALUE))
          .isInstanceOfSatisfying(
              UnreadableMemoryException.class, e -> assertThat(e.address()).isEqualTo(BASE + PAGE));
    }
  }

  @Test
  void toleratedOffsetsAreCountedAndTheFirstOtherDifferenceStillFound() throws IOException {
    byte[] content = random(3 * PAGE);
    byte[] memory = content.clone();
    for (int i = 100; i < 108; i++) {
      memory[i] ^= 0x11; // a relocated word
    }
    memory[PAGE + 5] ^= 0x22; // another relocated byte, in the next chunk
    try (FileChannel f = file(content)) {
      MemoryCodeComparator.Tolerance relocations =
          off -> (off >= 100 && off < 108) || off == PAGE + 5;
      MemoryCodeComparator.Step clean =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(memory, memory.length),
                  mapping(memory.length, 0),
                  f,
                  0,
                  Long.MAX_VALUE,
                  relocations);
      assertThat(clean.difference()).isEmpty();
      assertThat(clean.toleratedBytes()).isEqualTo(9);
      assertThat(clean.done()).isTrue();

      memory[2 * PAGE + 1] ^= 0x33;
      MemoryCodeComparator.Step patched =
          new MemoryCodeComparator(PAGE)
              .compare(
                  new FakeMemory(memory, memory.length),
                  mapping(memory.length, 0),
                  f,
                  0,
                  Long.MAX_VALUE,
                  relocations);
      assertThat(patched.difference().orElseThrow().fileOffset()).isEqualTo(2L * PAGE + 1);
      assertThat(patched.toleratedBytes()).isEqualTo(9);
    }
  }

  @Test
  void rejectsTinyChunksAndNegativeArguments() throws IOException {
    assertThatThrownBy(() -> new MemoryCodeComparator(100))
        .isInstanceOf(IllegalArgumentException.class);
    byte[] content = random(PAGE);
    try (FileChannel f = file(content)) {
      assertThatThrownBy(
              () ->
                  new MemoryCodeComparator()
                      .compare(new FakeMemory(content, PAGE), mapping(PAGE, 0), f, -1, 10))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
