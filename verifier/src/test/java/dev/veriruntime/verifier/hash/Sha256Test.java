package dev.veriruntime.verifier.hash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Sha256Test {
  @TempDir Path tmp;

  @Test
  void knownVectors() {
    assertThat(Sha256.hex(Sha256.digest(new byte[0])))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(Sha256.hex(Sha256.digest("abc".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  /** Sizes around the 256 KiB read buffer, against an in-memory digest. */
  @Test
  void fileChannelDigestsEqualTheInMemoryDigest() throws Exception {
    Random random = new Random(7);
    int buffer = Sha256.BUFFER_SIZE;
    int mib = 1 << 20;
    for (int size :
        new int[] {0, 1, 4095, buffer - 1, buffer, buffer + 1, mib, 3 * mib + 17, 9 * mib + 4097}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      Path file = Files.write(tmp.resolve("f" + size), data);
      String expected = Sha256.hex(Sha256.digest(data));
      try (FileChannel ch = FileChannel.open(file)) {
        assertThat(Sha256.hex(ch)).as("size %d", size).isEqualTo(expected);
        assertThat(ch.position()).isZero();
      }
      assertThat(Sha256.hex(file)).isEqualTo(expected);
      assertThat(Sha256.hex(Sha256.digest(ByteBuffer.wrap(data)))).isEqualTo(expected);
    }
  }

  @Test
  void hashingAFileMapsNothingOfIt() throws Exception {
    byte[] data = new byte[5 << 20];
    new Random(3).nextBytes(data);
    Path file = Files.write(tmp.resolve("big-unmapped"), data);
    try (FileChannel ch = FileChannel.open(file)) {
      assertThat(Sha256.hex(ch)).isEqualTo(Sha256.hex(Sha256.digest(data)));
      // A mapped file would stay in the agent's resident memory until a garbage collection.
      assertThat(Files.readAllLines(Path.of("/proc/self/maps")))
          .noneMatch(l -> l.endsWith(file.toString()));
    }
  }

  @Test
  void rangesAndTheirEnd() throws Exception {
    byte[] data = new byte[5000];
    new Random(1).nextBytes(data);
    Path file = Files.write(tmp.resolve("r"), data);
    try (FileChannel ch = FileChannel.open(file)) {
      assertThat(Sha256.digest(ch, 100, 2000))
          .isEqualTo(Sha256.digest(Arrays.copyOfRange(data, 100, 2100)));
      assertThatThrownBy(() -> Sha256.digest(ch, 4000, 2000))
          .isInstanceOf(EOFException.class)
          .hasMessageContaining("after 1000 of 2000 bytes");
    }
  }

  /** procfs reports size 0: hashing must read to end of file, not to size(). */
  @Test
  void filesWhoseSizeIsZeroAreReadToTheEnd() throws Exception {
    Path cmdline = Path.of("/proc/self/cmdline");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(cmdline), "no procfs");
    byte[] content = Files.readAllBytes(cmdline);
    assertThat(content).isNotEmpty();
    try (FileChannel ch = FileChannel.open(cmdline)) {
      assertThat(ch.size()).isZero();
      assertThat(Sha256.digest(ch)).isEqualTo(Sha256.digest(content));
    }
  }

  /**
   * A digest that truncates the file the first time it is fed: the hash ends where the file now
   * ends, with no fault and no exception, and says how many bytes it fed (the verifier's identity
   * check before and after the hash then reports the change).
   */
  @Test
  void fileTruncatedWhileHashedEndsEarly() throws Exception {
    byte[] data = new byte[8 << 20];
    new Random(5).nextBytes(data);
    Path file = Files.write(tmp.resolve("shrinking"), data);
    java.security.MessageDigest sha = Sha256.newDigest();
    java.security.MessageDigest truncating =
        new java.security.MessageDigest("SHA-256") {
          boolean truncated;

          @Override
          protected void engineUpdate(byte input) {
            sha.update(input);
          }

          @Override
          protected void engineUpdate(byte[] input, int offset, int len) {
            sha.update(input, offset, len);
          }

          @Override
          protected void engineUpdate(ByteBuffer input) {
            if (!truncated) {
              truncated = true;
              try (FileChannel w = FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                w.truncate(0);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            }
            sha.update(input);
          }

          @Override
          protected byte[] engineDigest() {
            return sha.digest();
          }

          @Override
          protected void engineReset() {
            sha.reset();
          }
        };
    try (FileChannel ch = FileChannel.open(file)) {
      assertThat(Sha256.update(truncating, ch, 0, data.length)).isEqualTo(Sha256.BUFFER_SIZE);
      assertThat(truncating.digest())
          .isEqualTo(Sha256.digest(Arrays.copyOf(data, Sha256.BUFFER_SIZE)));
    }
  }

  @Test
  void oneChannelHashedByManyThreadsAtOnce() throws Exception {
    byte[] data = new byte[(3 << 20) + 5];
    new Random(3).nextBytes(data);
    Path file = Files.write(tmp.resolve("shared"), data);
    byte[] expected = Sha256.digest(data);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (FileChannel ch = FileChannel.open(file)) {
      List<Future<byte[]>> results = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        results.add(pool.submit(() -> Sha256.digest(ch)));
      }
      for (Future<byte[]> f : results) {
        assertThat(f.get(1, TimeUnit.MINUTES)).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
