package dev.veriruntime.benchmarks;

import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * SHA-256 of a file already in the page cache: {@link Sha256#digest(FileChannel)} (256 KiB
 * direct-buffer reads, what VeriRuntime uses), the same digest through 4 MiB mappings, and
 * BouncyCastle's pure-Java {@link SHA256Digest} for comparison. Divide the file size by the average
 * time for GB/s.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar Sha256Benchmark}. For the ratio to
 * {@code openssl dgst -sha256} measured in the same run, use {@link Sha256VsOpenssl}.
 */
@State(Scope.Benchmark)
public class Sha256Benchmark extends AbstractBenchmark {
  @Param({"134217728"})
  public long fileSize;

  private Path file;
  private FileChannel channel;
  private ByteBuffer bcBuffer;
  private byte[] bcChunk;

  @Setup(Level.Trial)
  public void createFile() throws IOException {
    file = Files.createTempFile("veriruntime-sha256-bench", ".bin");
    Sha256VsOpenssl.fill(file, fileSize, new Random(42));
    channel = FileChannel.open(file, StandardOpenOption.READ);
    Sha256.digest(channel); // into the page cache
    bcBuffer = ByteBuffer.allocate(Sha256.BUFFER_SIZE);
    bcChunk = bcBuffer.array();
  }

  @TearDown(Level.Trial)
  public void deleteFile() throws IOException {
    channel.close();
    Files.deleteIfExists(file);
  }

  @Benchmark
  public byte[] jdkDirectBufferReads() throws IOException {
    return Sha256.digest(channel);
  }

  @Benchmark
  public byte[] jdkMappedChunks() throws IOException {
    return Sha256VsOpenssl.mapped(channel);
  }

  @Benchmark
  public byte[] bouncyCastle() throws IOException {
    SHA256Digest digest = new SHA256Digest();
    long position = 0;
    while (true) {
      bcBuffer.clear();
      int n = channel.read(bcBuffer, position);
      if (n < 0) {
        break;
      }
      digest.update(bcChunk, 0, n);
      position += n;
    }
    byte[] out = new byte[digest.getDigestSize()];
    digest.doFinal(out, 0);
    return out;
  }
}
