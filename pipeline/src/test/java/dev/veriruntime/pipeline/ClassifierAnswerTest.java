package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The event for a verification another tool asked for, by verdict. */
class ClassifierAnswerTest {
  private static final String SHA = "cd".repeat(32);
  private static final String ASKER = "Falco rule 'Drop and execute new binary in container'";
  private final Classifier classifier =
      new Classifier(Clock.fixed(Instant.parse("2026-12-03T15:00:00Z"), ZoneOffset.UTC), "h");
  private final FileIdentity id = new FileIdentity(2049, 77, 1, 100);

  @Test
  void patchedCodeIsRuntimeDriftNamingTheAlert() {
    Finding patched =
        new Finding(FindingType.CODE_MODIFIED, Scope.MEMORY_CODE, "code at 0x1 differs");
    SecurityEvent e =
        classifier
            .answer(
                ASKER,
                new Classifier.Answered(
                    4242,
                    "/opt/app",
                    id,
                    SHA,
                    Verdict.FAILED,
                    Coverage.of(
                        ScopeResult.verified(Scope.DISK_HASH),
                        ScopeResult.failed(Scope.MEMORY_CODE, "1 mapping(s) modified in memory")),
                    List.of(patched)),
                Map.of("check", "alert", IncidentBook.ASKED_BY, "falco/x"))
            .orElseThrow();
    assertThat(e.type()).isEqualTo(EventType.RUNTIME_DRIFT);
    assertThat(e.pid()).isEqualTo(4242);
    assertThat(e.reason())
        .isEqualTo(
            ASKER
                + " → RUNTIME_DRIFT: running process /opt/app: MEMORY_CODE failed: 1 mapping(s)"
                + " modified in memory");
    assertThat(e.details())
        .containsEntry("finding", "CODE_MODIFIED")
        .containsEntry("scope", "MEMORY_CODE")
        .containsEntry("check", "alert");
    assertThat(e.reason()).doesNotContain("4242");
  }

  @Test
  void anUnknownFileIsUnknownExecutionAndAVerifiedOneIsNoEvent() {
    Coverage unknown = Coverage.of(ScopeResult.notVerified(Scope.DISK_HASH, "no reference"));
    SecurityEvent e =
        classifier
            .answer(
                ASKER,
                new Classifier.Answered(
                    null,
                    "/tmp/.x/kworkerd",
                    id,
                    SHA,
                    Verdict.UNKNOWN,
                    unknown,
                    List.of(new Finding(FindingType.UNKNOWN_BINARY, Scope.DISK_HASH, "no ref"))),
                Map.of())
            .orElseThrow();
    assertThat(e.type()).isEqualTo(EventType.UNKNOWN_EXECUTION);
    assertThat(e.reason())
        .isEqualTo(
            ASKER
                + " → UNKNOWN_EXECUTION: /tmp/.x/kworkerd: no trusted reference for sha256 "
                + SHA);
    assertThat(e.pid()).isNull();
    assertThat(
            classifier.answer(
                ASKER,
                new Classifier.Answered(
                    null,
                    "/usr/bin/ls",
                    id,
                    SHA,
                    Verdict.VERIFIED,
                    Coverage.of(ScopeResult.verified(Scope.DISK_HASH)),
                    List.of()),
                Map.of()))
        .isEmpty();
  }
}
