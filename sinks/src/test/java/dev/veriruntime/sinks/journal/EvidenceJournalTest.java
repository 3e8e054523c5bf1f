package dev.veriruntime.sinks.journal;

import static dev.veriruntime.sinks.journal.JournalFixtures.event;
import static dev.veriruntime.sinks.journal.JournalFixtures.journalFile;
import static dev.veriruntime.sinks.journal.JournalFixtures.options;
import static dev.veriruntime.sinks.journal.JournalFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvidenceJournalTest {
  @TempDir Path state;

  private JournalReport verify() throws Exception {
    return new JournalVerifier(null).verify(state);
  }

  @Test
  void chainsRecordsSignsCheckpointsAndVerifies() throws Exception {
    write(state, options().withCheckpointEveryRecords(5), 12, 3);

    List<String> lines = JournalFixtures.lines(journalFile(state, 1));
    JsonNode first = EventJson.mapper().readTree(lines.get(0));
    assertThat(first.get("seq").asLong()).isEqualTo(1);
    assertThat(first.get("prev").asText()).isEqualTo(JournalFormat.GENESIS);
    for (int i = 1; i < lines.size(); i++) {
      byte[] prevBytes = lines.get(i - 1).getBytes(StandardCharsets.UTF_8);
      JsonNode n = EventJson.mapper().readTree(lines.get(i));
      assertThat(n.get("prev").asText())
          .isEqualTo(JournalFormat.sha256Hex(prevBytes, 0, prevBytes.length));
      assertThat(n.get("seq").asLong()).isEqualTo(i + 1);
    }

    JournalReport report = verify();
    assertThat(report.problems()).isEmpty();
    assertThat(report.intact()).isTrue();
    assertThat(report.events()).isEqualTo(12);
    // Due after 5 records, written at the next sync (batches of 3): after event 6 and event 12.
    // The last record is then a checkpoint, so close adds none.
    assertThat(report.checkpoints()).isEqualTo(2);
    assertThat(report.lastSeq()).isEqualTo(14);
  }

  @Test
  void nodeKeyIsCreatedOwnerOnlyAndReused() throws Exception {
    String pub;
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      pub = j.publicKeyHex();
    }
    Path priv = state.resolve("keys").resolve(NodeKey.PRIVATE_FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)))
        .isEqualTo("rw-------");
    assertThat(Files.size(priv)).isEqualTo(32);
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      assertThat(j.publicKeyHex()).isEqualTo(pub);
    }
  }

  @Test
  void rotationContinuesTheChainAcrossFiles() throws Exception {
    write(state, options().withMaxFileBytes(2048), 20, 2);
    List<Path> files = EvidenceJournal.journalFiles(state.resolve("journal"));
    assertThat(files).hasSizeGreaterThan(2);

    List<String> one = JournalFixtures.lines(files.get(0));
    List<String> two = JournalFixtures.lines(files.get(1));
    byte[] last = one.get(one.size() - 1).getBytes(StandardCharsets.UTF_8);
    assertThat(EventJson.mapper().readTree(two.get(0)).get("prev").asText())
        .isEqualTo(JournalFormat.sha256Hex(last, 0, last.length));
    // Each rotated file ends signed.
    assertThat(EventJson.mapper().readTree(one.get(one.size() - 1)).get("kind").asText())
        .isEqualTo("checkpoint");

    JournalReport report = verify();
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(20);
    assertThat(report.files()).isEqualTo(files.size());
  }

  @Test
  void reopeningContinuesTheChain() throws Exception {
    write(state, options(), 3, 1);
    write(state, options(), 3, 1);
    JournalReport report = verify();
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(6);
  }

  @Test
  void evidenceByIdAndSeqWithTheNextCheckpoint() throws Exception {
    List<SecurityEvent> written = write(state, options().withCheckpointEveryRecords(4), 6, 1);
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      Evidence byId = j.evidence(written.get(1).id()).orElseThrow();
      assertThat(byId.seq()).isEqualTo(2);
      assertThat(byId.entry().event()).isEqualTo(written.get(1));
      byte[] raw = byId.rawLine().getBytes(StandardCharsets.UTF_8);
      assertThat(byId.recordHash()).isEqualTo(JournalFormat.sha256Hex(raw, 0, raw.length));
      assertThat(byId.checkpoint()).isNotNull();
      assertThat(byId.checkpoint().seq()).isEqualTo(5);
      JournalEntry.Checkpoint cp = byId.checkpoint().checkpoint();
      assertThat(
              NodeKey.verify(
                  HexFormat.of().parseHex(cp.key()),
                  JournalFormat.checkpointMessage(5, byId.checkpoint().prevHash(), cp.time()),
                  HexFormat.of().parseHex(cp.sig())))
          .isTrue();
      assertThat(j.evidence("3").orElseThrow().entry().event()).isEqualTo(written.get(2));
      assertThat(j.evidence("no-such-id")).isEmpty();
    }
  }

  @Test
  void evidenceAfterTheLastCheckpointHasNoCheckpointYet() throws Exception {
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      SecurityEvent e = event(1);
      j.append(e);
      j.sync();
      Evidence ev = j.evidence(e.id()).orElseThrow();
      assertThat(ev.checkpoint()).isNull();
      assertThat(ev.prevHash()).isEqualTo(JournalFormat.GENESIS);
    }
  }

  @Test
  void tornTailAfterACrashIsCutRecordedAndReported() throws Exception {
    EvidenceJournal crashed = EvidenceJournal.open(state, options());
    for (int i = 0; i < 5; i++) {
      crashed.append(event(i));
    }
    crashed.sync();
    crashed.append(event(5)); // buffered, never forced: lost in the crash
    crashed.abandon();
    // kill -9 in the middle of the next batch's write: half a record, no newline.
    String partial = "{\"seq\":6,\"prev\":\"0a1b2c\",\"kind\":\"event\",\"ev";
    Files.writeString(journalFile(state, 1), partial, StandardOpenOption.APPEND);

    JournalReport before = verify();
    assertThat(before.problems())
        .anySatisfy(p -> assertThat(p.kind()).isEqualTo(JournalReport.Kind.TORN_TAIL));

    try (EvidenceJournal reopened = EvidenceJournal.open(state, options())) {
      JournalRecovery r = reopened.recoveryReport().orElseThrow();
      assertThat(r.bytesCut()).isEqualTo(partial.length());
      assertThat(r.lastGoodSeq()).isEqualTo(5);
      assertThat(r.file()).isEqualTo(JournalFormat.fileName(1));
      assertThat(r.reason()).contains("torn");
      assertThat(reopened.lastSeq()).isEqualTo(6); // the recovery record itself
      reopened.append(event(6));
    }
    JournalReport after = verify();
    assertThat(after.problems()).isEmpty();
    assertThat(after.warnings()).anySatisfy(w -> assertThat(w).contains("recovery"));
    assertThat(after.events()).isEqualTo(6);
    String journal = Files.readString(journalFile(state, 1));
    assertThat(journal).doesNotContain(partial).contains("\"kind\":\"recovery\"");
  }

  @Test
  void unconfirmedGarbageAfterTheHeadIsCutButDurableRecordsAreNot() throws Exception {
    EvidenceJournal crashed = EvidenceJournal.open(state, options());
    crashed.append(event(0));
    crashed.sync();
    crashed.abandon();
    // A whole line of zeros: blocks allocated but never written before the crash.
    String zeros = "\0".repeat(40) + "\n";
    Files.writeString(journalFile(state, 1), zeros, StandardOpenOption.APPEND);
    try (EvidenceJournal reopened = EvidenceJournal.open(state, options())) {
      JournalRecovery r = reopened.recoveryReport().orElseThrow();
      assertThat(r.bytesCut()).isEqualTo(zeros.length());
      assertThat(r.lastGoodSeq()).isEqualTo(1);
    }
    assertThat(verify().problems()).isEmpty();
  }

  @Test
  void anEventThatCannotBeSerialisedLeavesNothingInTheChain() throws Exception {
    // Serialised straight into the pending lines: a failure halfway must not leave half a line.
    SecurityEvent unwritable =
        SecurityEvent.builder(EventType.UNKNOWN_EXECUTION, event(2).time())
            .reason("carries a value JSON cannot hold")
            .detail("object", new Object())
            .build();
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      j.append(event(1));
      assertThatThrownBy(() -> j.append(unwritable)).isInstanceOf(IOException.class);
      j.append(event(3));
      j.sync();
    }

    JournalReport report = verify();
    assertThat(report.problems()).isEmpty();
    assertThat(report.intact()).isTrue();
    assertThat(report.events()).isEqualTo(2);
    assertThat(JournalFixtures.lines(journalFile(state, 1)))
        .noneMatch(l -> l.contains("carries a value"));
  }

  @Test
  void cleanRestartReportsNothing() throws Exception {
    write(state, options(), 4, 2);
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      assertThat(j.recoveryReport()).isEmpty();
    }
  }

  @Test
  void missingTailRecordsAreReportedAtStartUp() throws Exception {
    write(state, options(), 5, 5);
    Path f = journalFile(state, 1);
    List<String> lines = JournalFixtures.lines(f);
    JournalFixtures.writeLines(f, lines.subList(0, lines.size() - 2));
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      assertThat(j.recoveryReport().orElseThrow().reason()).contains("record(s) lost");
    }
  }

  /** A clock the test moves by hand. */
  private static final class ManualClock extends java.time.Clock {
    private java.time.Instant now = JournalFixtures.T0;

    void advance(java.time.Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public java.time.Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }

  @Test
  void aCheckpointIsWrittenOnceTheIntervalHasPassed() throws Exception {
    ManualClock clock = new ManualClock();
    JournalOptions opts =
        options().withClock(clock).withCheckpointInterval(java.time.Duration.ofSeconds(60));
    try (EvidenceJournal j = EvidenceJournal.open(state, opts)) {
      j.append(event(0));
      j.sync();
      clock.advance(java.time.Duration.ofSeconds(59));
      j.append(event(1));
      j.sync();
      assertThat(j.lastSeq()).isEqualTo(2); // no checkpoint yet
      clock.advance(java.time.Duration.ofSeconds(1));
      j.append(event(2));
      j.sync();
      assertThat(j.lastSeq()).isEqualTo(4); // event 3 + checkpoint 4
      Evidence ev = j.evidence("1").orElseThrow();
      assertThat(ev.checkpoint().seq()).isEqualTo(4);
      assertThat(ev.checkpoint().checkpoint().time()).isEqualTo(JournalFixtures.T0.plusSeconds(60));
    }
  }

  @Test
  void crashRightAfterRotationRestartsOnTheEmptyFile() throws Exception {
    JournalOptions small = options().withMaxFileBytes(2048);
    EvidenceJournal crashed = EvidenceJournal.open(state, small);
    int i = 0;
    while (EvidenceJournal.journalFiles(state.resolve("journal")).size() < 2) {
      crashed.append(event(i++));
      crashed.sync();
    }
    crashed.abandon();
    assertThat(Files.size(journalFile(state, 2))).isZero();
    try (EvidenceJournal reopened = EvidenceJournal.open(state, small)) {
      assertThat(reopened.recoveryReport()).isEmpty();
      reopened.append(event(1000));
    }
    JournalReport report = verify();
    assertThat(report.problems()).isEmpty();
    assertThat(report.events()).isEqualTo(i + 1);
  }

  @Test
  void aWidenedKeyFileModeIsNarrowedBack() throws Exception {
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      // created
    }
    Path priv = state.resolve("keys").resolve(NodeKey.PRIVATE_FILE);
    Files.setPosixFilePermissions(priv, PosixFilePermissions.fromString("rw-r--r--"));
    try (EvidenceJournal j = EvidenceJournal.open(state, options())) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(priv)))
          .isEqualTo("rw-------");
    }
  }
}
