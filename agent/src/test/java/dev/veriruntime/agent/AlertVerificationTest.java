package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.veriruntime.api.intake.AcceptedAlert;
import dev.veriruntime.api.intake.Alert;
import dev.veriruntime.api.intake.AlertFormat;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.api.intake.AlertTarget;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalOptions;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Schedulers;

/**
 * Answers to alerts without a kernel: an unknown file named by an EDR, and a Falco alert whose
 * process is gone with its file inside a container. Each answer is an event naming the alert and a
 * note in a real journal.
 */
class AlertVerificationTest {
  private static final Clock CLOCK = Clock.systemUTC();

  @TempDir Path dir;

  private AlertVerification verification(EvidenceJournal journal) {
    BinaryVerifier binaries =
        new BinaryVerifier(ReferenceStore.empty(), CLOCK, BinaryVerifier.Options.defaults());
    return new AlertVerification(
        AlertIntake.builder().build(),
        new ProcessVerifier(ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), CLOCK),
        binaries,
        new RuntimeStateRegistry(),
        new Classifier(CLOCK, "h"),
        journal,
        new DropLedger(),
        Schedulers.immediate(),
        CLOCK);
  }

  private static AcceptedAlert accepted(Alert alert, AlertTarget target) {
    return new AcceptedAlert(alert, target, Instant.now(), System.nanoTime(), "uid 0 pid 1");
  }

  @Test
  void anUnknownFileNamedByAnEdrIsUnknownExecutionNamingTheAlertAndNoted() throws Exception {
    Path file = Files.copy(Path.of("/bin/true"), dir.resolve("collector"));
    List<JsonNode> notes;
    SecurityEvent e;
    Path journalDir = Files.createDirectories(dir.resolve("journal"));
    try (EvidenceJournal journal = EvidenceJournal.open(journalDir, JournalOptions.defaults())) {
      Alert alert =
          new Alert(
              AlertFormat.EDR,
              "acme-edr",
              "A-17",
              "Unsigned loader",
              "high",
              null,
              null,
              file.toString(),
              null,
              null,
              null,
              List.of());
      List<SecurityEvent> events =
          verification(journal).answer(accepted(alert, new AlertTarget.Binary(file.toString())));
      assertThat(events).hasSize(1);
      e = events.get(0);
    }
    notes = notes(journalDir);
    assertThat(e.type()).isEqualTo(EventType.UNKNOWN_EXECUTION);
    assertThat(e.reason())
        .startsWith(
            "EDR alert 'Unsigned loader' from acme-edr → UNKNOWN_EXECUTION: "
                + file
                + ": no trusted reference for sha256 ");
    assertThat(e.details()).containsEntry("check", "alert");
    assertThat(e.details()).containsEntry(IncidentBook.ASKED_BY, "acme-edr/Unsigned loader");
    @SuppressWarnings("unchecked")
    Map<String, Object> asked = (Map<String, Object>) e.details().get("alert");
    assertThat(asked).containsEntry("source", "acme-edr").containsEntry("id", "A-17");
    assertThat(asked).containsEntry("submittedBy", "uid 0 pid 1");
    assertThat(notes).hasSize(1);
    JsonNode note = notes.get(0).path("note");
    assertThat(note.path("topic").asText()).isEqualTo("alert");
    assertThat(note.path("summary").asText())
        .isEqualTo("EDR alert 'Unsigned loader' from acme-edr → UNKNOWN_EXECUTION (" + file + ")");
    assertThat(note.path("detail").path("alert").path("id").asText()).isEqualTo("A-17");
    assertThat(note.path("detail").path("event").asText()).isEqualTo(e.id());
    assertThat(note.path("detail").path("verdict").path("verdict").asText()).isEqualTo("UNKNOWN");
  }

  @Test
  void aProcessGoneWithItsFileInAContainerIsSaidNotHidden() throws Exception {
    Alert alert =
        new Alert(
            AlertFormat.FALCO,
            "falco",
            "u-1",
            "Drop and execute new binary in container",
            "Critical",
            null,
            Integer.MAX_VALUE,
            "/tmp/.x/kworkerd",
            "kworkerd",
            "3ad7b26ded6d",
            "node-7",
            List.of());
    List<SecurityEvent> events =
        verification(null).answer(accepted(alert, new AlertTarget.Process(Integer.MAX_VALUE, 1)));
    assertThat(events).hasSize(1);
    assertThat(events.get(0).type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
    assertThat(events.get(0).pid()).isNull();
    assertThat(events.get(0).reason())
        .isEqualTo(
            "Falco rule 'Drop and execute new binary in container' → VERIFICATION_DEGRADED: not"
                + " verified: the process ended before it could be verified, and its file is"
                + " inside container 3ad7b26ded6d");
  }

  private static List<JsonNode> notes(Path journalDir) throws Exception {
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(journalDir)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(f)) {
          JsonNode n = json.readTree(line);
          if (n.path("kind").asText().equals("note")) {
            out.add(n);
          }
        }
      }
    }
    return out;
  }
}
