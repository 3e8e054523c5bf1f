package dev.veriruntime.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiJson;
import dev.veriruntime.api.VerdictJson;
import dev.veriruntime.api.intake.AcceptedAlert;
import dev.veriruntime.api.intake.Alert;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.api.intake.AlertTarget;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * Answers other tools' alerts: each alert the {@link AlertIntake} accepted is verified at once, on
 * the one injected {@code worker} (VerifyProcess of the pid that still runs; VerifyBinary of the
 * path when the alert names no running process, or the process ended before it could be read and
 * its file is on the host).
 *
 * <ul>
 *   <li>Every answer is a note in the evidence journal (topic {@value #TOPIC}): the alert's source,
 *       id and rule, who submitted it, the target, the verdict JSON, the outcome, the latency from
 *       receipt to verdict, and the id of the event it raised (if any).
 *   <li>A verdict that is not VERIFIED is one event ({@link Classifier#answer}) whose reason names
 *       the alert ("Falco rule 'X' → UNKNOWN_EXECUTION: ...") and whose details carry {@code alert}
 *       {source, id, rule, ...}, {@code check} "alert" and {@link IncidentBook#ASKED_BY}: it goes
 *       through incidents and aggregation like every finding, so the answer joins an incident
 *       already open about the process, once per rule.
 *   <li>An alert that could not be answered (the process ended, its path inside a container) is a
 *       VERIFICATION_DEGRADED event naming the alert: never silent.
 * </ul>
 *
 * Back-pressure: one alert is taken from the intake's bounded queue at a time; while it is
 * verified, the queue fills and the intake refuses the excess ({@code BUSY}). Thread-safe (all work
 * on the worker).
 */
final class AlertVerification {
  /** The {@code details.check} of every answer, and so its incident source. */
  static final String CHECK = "alert";

  /** The journal topic of the notes. */
  static final String TOPIC = "alert";

  private final AlertIntake intake;
  private final ProcessVerifier processes;
  private final BinaryVerifier binaries;
  private final RuntimeStateRegistry state;
  private final Classifier classifier;
  private final EvidenceJournal journal;
  private final Scheduler worker;
  private final Clock clock;
  private final DropLedger ledger;

  /** Loss place of a note the journal refused (reported like every loss). */
  static final String JOURNAL_FAILED = "intake.journal_failed";

  /**
   * @param journal where the notes go; null when the journal is off
   * @param ledger where a note the journal refused is counted ({@value #JOURNAL_FAILED})
   */
  AlertVerification(
      AlertIntake intake,
      ProcessVerifier processes,
      BinaryVerifier binaries,
      RuntimeStateRegistry state,
      Classifier classifier,
      EvidenceJournal journal,
      DropLedger ledger,
      Scheduler worker,
      Clock clock) {
    this.intake = intake;
    this.processes = processes;
    this.binaries = binaries;
    this.state = state;
    this.classifier = classifier;
    this.journal = journal;
    this.ledger = ledger;
    this.worker = worker;
    this.clock = clock;
  }

  /** The answers that are events, as they come; completes when the intake's queue does. */
  Flux<SecurityEvent> events() {
    return intake.accepted().publishOn(worker, 1).concatMapIterable(this::answer);
  }

  /** What was verified for one alert, or why it could not be. */
  private record Outcome(Classifier.Answered answered, ObjectNode verdict, String notVerified) {}

  /** Verifies what {@code a} names; the event it warrants, if any (also noted in the journal). */
  List<SecurityEvent> answer(AcceptedAlert a) {
    Outcome outcome = verify(a);
    Duration latency = intake.verdictReached(a);
    Alert alert = a.alert();
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("check", CHECK);
    facts.put(IncidentBook.ASKED_BY, alert.foldName());
    facts.put("alert", describe(a, latency));
    Optional<SecurityEvent> event;
    String result;
    if (outcome.answered() != null) {
      event = classifier.answer(alert.label(), outcome.answered(), facts);
      result = event.map(e -> e.type().name()).orElse("VERIFIED");
    } else {
      event =
          Optional.of(
              classifier.degraded(
                  null,
                  alert.label()
                      + " → VERIFICATION_DEGRADED: not verified: "
                      + outcome.notVerified(),
                  facts));
      result = "NOT_VERIFIED";
    }
    note(a, outcome, result, event, latency);
    return event.stream().toList();
  }

  private Outcome verify(AcceptedAlert a) {
    Alert alert = a.alert();
    String gone = null;
    try {
      if (a.target() instanceof AlertTarget.Process p) {
        ProcessVerification v = processes.verify(p.pid());
        boolean ended = v.findings().stream().anyMatch(f -> f.type() == FindingType.PROCESS_GONE);
        if (!ended && v.startTicks() != 0 && v.startTicks() != p.startTicks()) {
          gone = "its pid was reused before it could be verified";
        } else if (ended) {
          gone = "the process ended before it could be verified";
        } else {
          state.record(v);
          ProcessVerification.Executable exe = v.executable();
          return new Outcome(
              new Classifier.Answered(
                  v.pid(),
                  exe.path(),
                  exe.identity(),
                  exe.sha256(),
                  v.verdict(),
                  v.coverage(),
                  v.findings()),
              VerdictJson.process(v),
              null);
        }
      } else {
        return binary(((AlertTarget.Binary) a.target()).path());
      }
    } catch (ProcessGoneException e) {
      gone = "the process ended before it could be verified";
    } catch (IOException | RuntimeException e) {
      return new Outcome(null, null, "verification failed: " + e.getMessage());
    }
    // The process is gone: its file answers, if the host can reach it.
    if (alert.path() != null
        && !alert.inContainer()
        && Files.isRegularFile(Path.of(alert.path()))) {
      try {
        return binary(alert.path());
      } catch (IOException | RuntimeException e) {
        return new Outcome(null, null, gone + ", and its file failed: " + e.getMessage());
      }
    }
    return new Outcome(
        null,
        null,
        gone
            + (alert.inContainer() && alert.path() != null
                ? ", and its file is inside container " + alert.containerId()
                : ""));
  }

  private Outcome binary(String path) throws IOException {
    BinaryVerification v = binaries.verify(Path.of(path));
    return new Outcome(
        new Classifier.Answered(
            null, v.path(), v.identity(), v.sha256(), v.verdict(), v.coverage(), v.findings()),
        VerdictJson.binary(v),
        null);
  }

  /** The alert as events and notes carry it. */
  private static Map<String, Object> describe(AcceptedAlert a, Duration latency) {
    Alert alert = a.alert();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", alert.format().wireName());
    m.put("source", alert.source());
    m.put("id", alert.id());
    put(m, "rule", alert.rule());
    put(m, "priority", alert.priority());
    put(m, "time", alert.time() == null ? null : alert.time().toString());
    put(m, "pid", alert.pid());
    put(m, "path", alert.path());
    put(m, "container", alert.containerId());
    put(m, "hostname", alert.hostname());
    m.put("target", a.target().describe());
    m.put("receivedAt", a.receivedAt().toString());
    m.put("verdictMillis", latency.toNanos() / 1e6);
    put(m, "submittedBy", a.peer());
    return m;
  }

  private static void put(Map<String, Object> m, String key, Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  @SuppressWarnings("unchecked")
  private void note(
      AcceptedAlert a,
      Outcome outcome,
      String result,
      Optional<SecurityEvent> event,
      Duration latency) {
    if (journal == null) {
      return;
    }
    Map<String, Object> detail = new LinkedHashMap<>();
    detail.put("alert", describe(a, latency));
    detail.put("outcome", result);
    event.ifPresent(e -> detail.put("event", e.id()));
    if (outcome.verdict() != null) {
      detail.put("verdict", ApiJson.mapper().convertValue(outcome.verdict(), Map.class));
    } else {
      detail.put("notVerified", outcome.notVerified());
    }
    String summary = a.alert().label() + " → " + result + " (" + a.target().describe() + ")";
    try {
      journal.appendNote(new JournalEntry.Note(clock.instant(), TOPIC, summary, detail));
      // An answer is evidence: durable before the next alert is taken.
      journal.sync();
    } catch (IOException | RuntimeException e) {
      ledger.increment(JOURNAL_FAILED);
    }
  }
}
