package dev.veriruntime.sinks.journal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Jazzer target for {@link JournalVerifier}: {@code journal verify} exists to read a journal that
 * someone may have tampered with, so any bytes in a journal file and its head must give a report
 * (damage is a finding in the report, never an exception), and a report that calls the journal
 * intact must have numbered its records from 1 without a gap.
 *
 * <p>An input is the content of {@code journal-000001.jsonl}, then optionally a NUL byte and the
 * content of {@code journal.head} (JSON never holds a raw NUL, so real files split cleanly). The
 * trusted key is the node key of the seeds ({@code fuzz-node.ed25519.pub}), so mutations of the
 * seeds reach the signature checks. Seeds in {@code JournalVerifierFuzzTestInputs/}: journals
 * written by {@link EvidenceJournal} and every crash found.
 *
 * <p>Bounded per input like the other targets (sinks may not use the verifier's test support, so
 * the check is here): at most 64 MiB + 512 bytes per input byte allocated, 5 s of CPU.
 */
class JournalVerifierFuzzTest {
  private static final Path STATE = stateDir();
  private static final Path DIR = STATE.resolve(JournalFormat.JOURNAL_DIR);
  private static final JournalVerifier VERIFIER = new JournalVerifier(trustedKey());
  private static final AtomicBoolean WARM = new AtomicBoolean();
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @FuzzTest(maxDuration = "5m")
  void verifyJournal(byte[] input) throws IOException {
    int nul = indexOf(input, (byte) 0);
    Files.write(
        DIR.resolve(JournalFormat.fileName(1)), nul < 0 ? input : Arrays.copyOf(input, nul));
    Path head = DIR.resolve(JournalFormat.HEAD_FILE);
    if (nul < 0) {
      Files.deleteIfExists(head);
    } else {
      Files.write(head, Arrays.copyOfRange(input, nul + 1, input.length));
    }
    if (WARM.compareAndSet(false, true)) {
      // The first input of a JVM loads (and, under the fuzzer, instruments) the verifier's classes
      // and BouncyCastle's: tens of MiB that are not the input's cost, so it runs once uncounted.
      VERIFIER.verify(STATE);
    }
    long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
    long cpuBefore = THREADS.getCurrentThreadCpuTime();

    JournalReport report = VERIFIER.verify(STATE);

    long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
    long cpu = THREADS.getCurrentThreadCpuTime() - cpuBefore;
    assertThat(allocated).isLessThanOrEqualTo((64L << 20) + 512L * input.length);
    assertThat(cpu).isLessThanOrEqualTo(5_000_000_000L);
    assertThat(report.files()).isEqualTo(1);
    assertThat(report.events() + report.checkpoints()).isBetween(0L, report.records());
    if (report.intact()) {
      // An intact chain numbers its records from 1 without a gap.
      assertThat(report.lastSeq()).isEqualTo(report.records());
    }
    report.problems().forEach(p -> assertThat(p.toString()).isNotBlank());
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static byte[] trustedKey() {
    try (InputStream in =
        JournalVerifierFuzzTest.class.getResourceAsStream("fuzz-node.ed25519.pub")) {
      return HexFormat.of()
          .parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path stateDir() {
    try {
      Path shm = Path.of("/dev/shm");
      Path state =
          Files.isDirectory(shm) && Files.isWritable(shm)
              ? Files.createTempDirectory(shm, "journal-fuzz-")
              : Files.createTempDirectory("journal-fuzz-");
      Files.createDirectories(state.resolve(JournalFormat.JOURNAL_DIR));
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try (var files = Files.walk(state)) {
                      files
                          .sorted(java.util.Comparator.reverseOrder())
                          .forEach(p -> p.toFile().delete());
                    } catch (IOException ignored) {
                      // a temporary directory left behind is harmless
                    }
                  }));
      return state;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
