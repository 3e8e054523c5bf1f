package dev.veriruntime.benchmarks;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link ElfReader} over real binaries in the page cache: {@code /usr/bin/ls} (small), the C
 * library (medium, many symbols) and the running JDK's {@code libjvm.so} (large). {@code headers}
 * is what {@code BinaryVerifier} reads per new identity (headers, sections, dynamic section,
 * build-id, interpreter); {@code symbols} adds {@code .symtab} and {@code .dynsym}, as the code
 * scan does. {@code readWholeFileBaseline} reads every byte of the file through the same channel
 * into a reused direct buffer: the I/O a parser that loaded the whole file would pay.
 *
 * <p>MB/s = file size ÷ time per operation ({@code JmhReport} prints it; the sizes are those of
 * this machine's files). Run: {@code java -jar benchmarks/target/benchmarks.jar ElfParseBenchmark}.
 */
@State(Scope.Benchmark)
public class ElfParseBenchmark extends AbstractBenchmark {
  /** ls, libc or libjvm: see {@link #pathOf}. */
  @Param({"ls", "libc", "libjvm"})
  public String file;

  private static final ElfReader HEADERS = ElfReader.create();
  private static final ElfReader SYMBOLS = ElfReader.create(ElfReader.Feature.SYMBOLS);

  private FileChannel channel;
  private ByteBuffer whole;

  /**
   * The file a parameter names, on this machine.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  public static Path pathOf(String name) {
    return switch (name) {
      case "ls" -> Path.of("/usr/bin/ls");
      case "libc" ->
          firstExisting(
              "/usr/lib/x86_64-linux-gnu/libc.so.6",
              "/lib/x86_64-linux-gnu/libc.so.6",
              "/usr/lib/aarch64-linux-gnu/libc.so.6",
              "/usr/lib64/libc.so.6");
      case "libjvm" -> Path.of(System.getProperty("java.home"), "lib", "server", "libjvm.so");
      default -> throw new IllegalArgumentException("unknown file " + name + " (ls, libc, libjvm)");
    };
  }

  private static Path firstExisting(String... candidates) {
    for (String c : candidates) {
      if (Files.isRegularFile(Path.of(c))) {
        return Path.of(c);
      }
    }
    return Path.of(candidates[0]);
  }

  @Setup(Level.Trial)
  public void open() throws IOException, MalformedElfException {
    channel = FileChannel.open(pathOf(file), StandardOpenOption.READ);
    whole = ByteBuffer.allocateDirect(Math.toIntExact(channel.size()));
    readWholeFileBaseline(); // into the page cache
    SYMBOLS.read(channel);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    channel.close();
  }

  @Benchmark
  public ElfFile headers() throws IOException, MalformedElfException {
    return HEADERS.read(channel);
  }

  @Benchmark
  public ElfFile symbols() throws IOException, MalformedElfException {
    return SYMBOLS.read(channel);
  }

  @Benchmark
  public int readWholeFileBaseline() throws IOException {
    whole.clear();
    long position = 0;
    while (whole.hasRemaining()) {
      int n = channel.read(whole, position);
      if (n < 0) {
        break;
      }
      position += n;
    }
    return whole.get(whole.position() - 1);
  }
}
