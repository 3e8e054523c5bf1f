package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class JournalCommandTest {
  @TempDir Path state;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void writeJournal() throws Exception {
    try (EvidenceJournal j = EvidenceJournal.open(state, JournalOptions.defaults())) {
      for (int i = 0; i < 4; i++) {
        j.append(
            SecurityEvent.builder(
                    EventType.UNKNOWN_EXECUTION, Instant.parse("2026-11-23T08:00:00Z"))
                .reason("unknown " + i)
                .build());
      }
    }
  }

  private int run(String... args) {
    CommandLine cli = VeriRuntimeCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  private Path file() {
    return state.resolve("journal").resolve("journal-000001.jsonl");
  }

  @Test
  void intactJournalExitsZero() {
    assertThat(run("journal", "verify", state.toString())).isEqualTo(ExitCodes.OK);
    assertThat(out.toString()).contains("INTACT").contains("4 event(s)");
  }

  @Test
  void editedRecordExitsTamperedAndSaysWhere() throws Exception {
    List<String> lines = Files.readAllLines(file());
    lines.set(1, lines.get(1).replace("unknown 1", "unknown 9"));
    Files.writeString(file(), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);

    assertThat(run("journal", "verify", state.toString())).isEqualTo(ExitCodes.JOURNAL_TAMPERED);
    assertThat(out.toString()).contains("journal-000001.jsonl:3 seq 3: CHAIN_BROKEN");
  }

  @Test
  void jsonReportIsMachineReadable() throws Exception {
    Files.write(file(), java.util.Arrays.copyOf(Files.readAllBytes(file()), 100));
    assertThat(run("journal", "verify", "--json", state.resolve("journal").toString()))
        .isEqualTo(ExitCodes.JOURNAL_TAMPERED);
    JsonNode report = EventJson.mapper().readTree(out.toString());
    assertThat(report.get("problems").isArray()).isTrue();
    assertThat(report.get("problems").get(0).get("kind").asText()).isEqualTo("TORN_TAIL");
  }

  @Test
  void missingOrEmptyPathIsUnreadable() throws Exception {
    assertThat(run("journal", "verify", state.resolve("nope").toString()))
        .isEqualTo(ExitCodes.INPUT_UNREADABLE);
    Path empty = Files.createDirectory(state.resolve("empty"));
    assertThat(run("journal", "verify", empty.toString())).isEqualTo(ExitCodes.INPUT_UNREADABLE);
    assertThat(err.toString()).contains("no evidence journal at");
  }

  @Test
  void badKeyFileIsKeyInvalid() throws Exception {
    Path key = Files.writeString(state.resolve("bad.pub"), "not hex");
    assertThat(run("journal", "verify", "--key", key.toString(), state.toString()))
        .isEqualTo(ExitCodes.KEY_INVALID);
  }

  @Test
  void aForeignKeyMakesTheJournalUntrusted() throws Exception {
    Path key = Files.writeString(state.resolve("other.pub"), "11".repeat(32));
    assertThat(run("journal", "verify", "--key", key.toString(), state.toString()))
        .isEqualTo(ExitCodes.JOURNAL_TAMPERED);
    assertThat(out.toString()).contains("UNTRUSTED_KEY");
  }

  @Test
  void showPrintsTheRecordAndItsSignedCheckpoint() throws Exception {
    String id =
        EventJson.mapper()
            .readTree(Files.readAllLines(file()).get(1))
            .get("event")
            .get("id")
            .asText();
    assertThat(run("journal", "show", state.toString(), id)).isEqualTo(ExitCodes.OK);
    assertThat(out.toString())
        .contains("journal-000001.jsonl line 2, seq 2")
        .contains("checkpoint:  seq 5")
        .contains("signature VALID")
        .contains(id);

    out.getBuffer().setLength(0);
    assertThat(run("journal", "show", "--json", state.toString(), "3")).isEqualTo(ExitCodes.OK);
    JsonNode json = EventJson.mapper().readTree(out.toString());
    assertThat(json.get("evidence").get("seq").asLong()).isEqualTo(3);
    assertThat(json.get("checkpointSignatureValid").asBoolean()).isTrue();
  }

  @Test
  void showUnknownRefIsNotFound() {
    assertThat(run("journal", "show", state.toString(), "no-such-event"))
        .isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(err.toString()).contains("no journal record for no-such-event");
  }

  @Test
  void showNeverWritesToTheJournal() throws Exception {
    byte[] before = Files.readAllBytes(file());
    long filesBefore;
    try (var s = Files.list(state.resolve("journal"))) {
      filesBefore = s.count();
    }
    run("journal", "show", state.toString(), "1");
    assertThat(Files.readAllBytes(file())).isEqualTo(before);
    try (var s = Files.list(state.resolve("journal"))) {
      assertThat(s.count()).isEqualTo(filesBefore);
    }
  }
}
