package dev.veriruntime.sinks.journal;

import static dev.veriruntime.sinks.journal.JournalFixtures.journalFile;
import static dev.veriruntime.sinks.journal.JournalFixtures.options;
import static dev.veriruntime.sinks.journal.JournalFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.sinks.journal.JournalReport.Kind;
import dev.veriruntime.sinks.journal.JournalReport.Problem;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalVerifierTest {
  @TempDir Path state;

  private JournalReport verify() throws Exception {
    return new JournalVerifier(null).verify(state);
  }

  @Test
  void everySingleBitFlipInTheJournalOrItsHeadIsDetected() throws Exception {
    write(state, options().withCheckpointEveryRecords(2), 2, 1);
    assertThat(verify().problems()).isEmpty();
    Path dir = state.resolve("journal");
    List<Path> targets = new ArrayList<>(EvidenceJournal.journalFiles(dir));
    targets.add(dir.resolve(JournalFormat.HEAD_FILE));

    int flips = 0;
    List<String> undetected = new ArrayList<>();
    for (Path target : targets) {
      byte[] original = Files.readAllBytes(target);
      for (int i = 0; i < original.length; i++) {
        byte[] damaged = original.clone();
        damaged[i] ^= (byte) (1 << (i % 8));
        Files.write(target, damaged);
        if (verify().intact()) {
          undetected.add(target.getFileName() + "@" + i);
        }
        flips++;
      }
      Files.write(target, original);
    }
    assertThat(flips).isGreaterThan(1500);
    assertThat(undetected).isEmpty();
    assertThat(verify().problems()).isEmpty();
  }

  @Test
  void notesAreChainedAndVerifiedLikeEvents() throws Exception {
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      j.append(JournalFixtures.event(1));
      long seq =
          j.appendNote(
              new JournalEntry.Note(
                  JournalFixtures.T0,
                  "lineage",
                  "trusted by build lineage: exec of /b/hello",
                  java.util.Map.of("outcome", "TRUSTED", "chain", List.of("make", "ld"))));
      j.append(JournalFixtures.event(2));
      j.sync();
      assertThat(seq).isEqualTo(2);
    }
    assertThat(verify().problems()).isEmpty();
    assertThat(verify().intact()).isTrue();
    Path file = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(file);
    assertThat(lines.get(1)).contains("\"kind\":\"note\"").contains("\"topic\":\"lineage\"");
    // A note is evidence: changing its text breaks the chain.
    lines.set(1, lines.get(1).replace("TRUSTED", "TRUSTEE"));
    JournalFixtures.writeLines(file, lines);
    assertThat(verify().intact()).isFalse();
  }

  @Test
  void aFlipSaysWhere() throws Exception {
    write(state, options(), 4, 4);
    Path f = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(f);
    lines.set(1, lines.get(1).replace("no reference 1", "no reference X"));
    JournalFixtures.writeLines(f, lines);

    List<Problem> problems = verify().problems();
    assertThat(problems).hasSize(1);
    Problem p = problems.get(0);
    // Record 2 was edited: record 3 no longer chains to it.
    assertThat(p.kind()).isEqualTo(Kind.CHAIN_BROKEN);
    assertThat(p.file()).isEqualTo(JournalFormat.fileName(1));
    assertThat(p.line()).isEqualTo(3);
    assertThat(p.seq()).isEqualTo(3);
  }

  @Test
  void reorderedRecordsAreDetected() throws Exception {
    write(state, options(), 5, 5);
    Path f = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(f);
    Collections.swap(lines, 1, 2);
    JournalFixtures.writeLines(f, lines);

    List<Problem> problems = verify().problems();
    assertThat(problems).extracting(Problem::kind).contains(Kind.SEQUENCE, Kind.CHAIN_BROKEN);
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.SEQUENCE);
              assertThat(p.line()).isEqualTo(2);
              assertThat(p.seq()).isEqualTo(3);
            });
  }

  @Test
  void aRemovedRecordIsDetected() throws Exception {
    write(state, options(), 5, 5);
    Path f = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(f);
    lines.remove(2);
    JournalFixtures.writeLines(f, lines);

    List<Problem> problems = verify().problems();
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.SEQUENCE);
              assertThat(p.line()).isEqualTo(3);
              assertThat(p.message()).contains("3..3 missing");
            });
    assertThat(problems).anySatisfy(p -> assertThat(p.kind()).isEqualTo(Kind.CHAIN_BROKEN));
  }

  @Test
  void truncationAtARecordBoundaryIsDetectedThroughTheSignedHead() throws Exception {
    write(state, options(), 5, 5);
    Path f = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(f);
    JournalFixtures.writeLines(f, lines.subList(0, 3));

    List<Problem> problems = verify().problems();
    assertThat(problems)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.TRUNCATED);
              assertThat(p.message()).contains("journal ends at seq 3").contains("4..6 missing");
            });
  }

  @Test
  void truncationInsideARecordIsATornTail() throws Exception {
    write(state, options(), 3, 3);
    Path f = journalFile(state, 1);
    byte[] bytes = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 10));
    assertThat(verify().problems()).extracting(Problem::kind).contains(Kind.TORN_TAIL);
  }

  @Test
  void aRemovedRotatedFileIsDetected() throws Exception {
    write(state, options().withMaxFileBytes(2048), 20, 2);
    Files.delete(journalFile(state, 2));
    List<Problem> problems = verify().problems();
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.TRUNCATED);
              assertThat(p.file()).isEqualTo(JournalFormat.fileName(3));
              assertThat(p.message()).contains(JournalFormat.fileName(2) + " missing");
            });
  }

  @Test
  void aJournalResignedWithAnotherKeyIsUntrusted() throws Exception {
    write(state, options(), 2, 2);
    byte[] otherKey = new byte[32];
    otherKey[0] = 1;
    JournalReport report = new JournalVerifier(otherKey).verify(state);
    assertThat(report.problems()).extracting(Problem::kind).contains(Kind.UNTRUSTED_KEY);
  }

  @Test
  void acceptsTheJournalDirectoryAndRejectsOtherPaths() throws Exception {
    write(state, options(), 1, 1);
    assertThat(new JournalVerifier(null).verify(state.resolve("journal")).intact()).isTrue();
    assertThatThrownBy(() -> new JournalVerifier(null).verify(state.resolve("keys")))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void aJournalFileReplacedByALinkToAnEndlessDeviceOrAFifoIsReportedNotRead() throws Exception {
    // Found while reviewing hostile input: a tampered journal directory could make the verifier
    // read /dev/zero until it ran out of memory, or block forever on a FIFO.
    write(state, options().withMaxFileBytes(2048), 20, 2);
    Files.delete(journalFile(state, 2));
    Files.createSymbolicLink(journalFile(state, 2), Path.of("/dev/zero"));
    Path fifo = journalFile(state, 3);
    Files.delete(fifo);
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    Path head = state.resolve("journal").resolve(JournalFormat.HEAD_FILE);
    Files.delete(head);
    Files.createSymbolicLink(head, Path.of("/dev/zero"));

    JournalReport report = verify();

    assertThat(report.intact()).isFalse();
    assertThat(report.problems())
        .anySatisfy(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.MALFORMED);
              assertThat(p.file()).isEqualTo(JournalFormat.fileName(2));
              assertThat(p.message()).contains("not a regular file");
            })
        .anySatisfy(
            p -> {
              assertThat(p.kind()).isEqualTo(Kind.MALFORMED);
              assertThat(p.file()).isEqualTo(JournalFormat.fileName(3));
            })
        .anySatisfy(p -> assertThat(p.kind()).isEqualTo(Kind.HEAD_MISMATCH));
  }
}
