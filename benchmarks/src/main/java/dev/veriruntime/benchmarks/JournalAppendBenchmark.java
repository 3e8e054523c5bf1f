package dev.veriruntime.benchmarks;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalOptions;
import dev.veriruntime.sinks.journal.JournalSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link EvidenceJournal} appends at the journal sink's default batch size ({@value
 * JournalSink#DEFAULT_BATCH} records, then one {@code sync}: one write and one {@code fdatasync}, a
 * signed head, a signed checkpoint every 1,000 records), default options, on the file system of
 * {@code java.io.tmpdir} (a disk here, not tmpfs: check with {@code df -T /tmp}, since fdatasync on
 * tmpfs costs nothing). {@code rawWriteBaseline} writes the very bytes the journal wrote for a
 * batch (captured at setup) with a positional {@link FileChannel} write and one {@code
 * force(false)} per batch, rewinding at the journal's 64 MiB rotation size: the disk's share of the
 * cost; the rest is serialisation, chaining hashes and signatures.
 *
 * <p>Microseconds per record (overrides the base class's milliseconds); records/s = 10⁶ ÷ score.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar JournalAppendBenchmark}.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JournalAppendBenchmark extends AbstractBenchmark {
  static final int BATCH = JournalSink.DEFAULT_BATCH;

  private Path dir;
  private EvidenceJournal journal;
  private SecurityEvent[] events;
  private FileChannel raw;
  private ByteBuffer batchBytes;
  private long rawPosition;
  private long rotateAt;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("veriruntime-journal-bench");
    events = new SecurityEvent[BATCH];
    for (int i = 0; i < BATCH; i++) {
      events[i] = event(i);
    }
    JournalOptions options = JournalOptions.defaults();
    rotateAt = options.maxFileBytes();
    batchBytes = ByteBuffer.wrap(oneBatchAsWritten(dir.resolve("sample"), options));
    journal = EvidenceJournal.open(dir.resolve("state"), options);
    raw =
        FileChannel.open(
            dir.resolve("raw.jsonl"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    journal.close();
    raw.close();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long appendBatch() throws IOException {
    long seq = 0;
    for (SecurityEvent e : events) {
      seq = journal.append(e);
    }
    journal.sync();
    return seq;
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public long rawWriteBaseline() throws IOException {
    if (rawPosition >= rotateAt) {
      raw.truncate(0);
      rawPosition = 0;
    }
    batchBytes.rewind();
    while (batchBytes.hasRemaining()) {
      rawPosition += raw.write(batchBytes, rawPosition);
    }
    raw.force(false);
    return rawPosition;
  }

  /**
   * The bytes a fresh journal appends for one batch of {@link #events}: the baseline writes the
   * same.
   */
  private byte[] oneBatchAsWritten(Path stateDir, JournalOptions options) throws IOException {
    try (EvidenceJournal sample = EvidenceJournal.open(stateDir, options)) {
      Path file;
      try (Stream<Path> files = Files.list(sample.directory())) {
        file =
            files
                .filter(p -> p.getFileName().toString().endsWith(".jsonl"))
                .findFirst()
                .orElseThrow(() -> new IOException("no journal file in " + sample.directory()));
      }
      long before = Files.size(file);
      for (SecurityEvent e : events) {
        sample.append(e);
      }
      sample.sync();
      byte[] all = Files.readAllBytes(file);
      byte[] batch = java.util.Arrays.copyOfRange(all, (int) before, all.length);
      if (new String(batch, StandardCharsets.UTF_8).lines().count() < BATCH) {
        throw new IOException("expected at least " + BATCH + " lines in the sample batch");
      }
      return batch;
    }
  }

  /**
   * An UNKNOWN_EXECUTION as the classifier builds it, with the details a build server's exec
   * carries.
   */
  private static SecurityEvent event(int i) {
    String sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    String path = "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus";
    return SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, Instant.now())
        .host("build-7")
        .pid(18_902 + i)
        .exe(path, 2049, 339_380 + i, sha)
        .reason("exec of " + path + ": no trusted reference for sha256 " + sha)
        .coverage("DISK_HASH", "VERIFIED", "")
        .coverage("ELF_HEADER", "VERIFIED", "")
        .coverage("SIGNATURE", "NOT_VERIFIED", "no reference")
        .finding("NO_REFERENCE", "DISK_HASH", "no trusted reference for sha256 " + sha, Map.of())
        .detail("parents", List.of("/usr/bin/make", "/usr/bin/bash"))
        .detail("cgroupId", 4242)
        .build();
  }
}
