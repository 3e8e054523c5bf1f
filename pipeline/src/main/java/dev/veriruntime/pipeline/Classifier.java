package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Stage 4: the one place that turns verdicts into the five event types (DESIGN.md). A VERIFIED
 * executable yields nothing; UNKNOWN becomes UNKNOWN_EXECUTION; FAILED becomes VERIFY_FAILED;
 * DEGRADED or unverifiable becomes VERIFICATION_DEGRADED naming the scopes not checked and why.
 * Runtime observations (anonymous executable memory, injection, fileless or deleted executables)
 * become RUNTIME_DRIFT. Reasons never contain the pid, so the aggregator folds repeats across
 * processes. Stateless and thread-safe.
 */
public final class Classifier {
  private final Clock clock;
  private final String host;

  public Classifier(Clock clock, String host) {
    this.clock = clock;
    this.host = host;
  }

  /**
   * The event for an executed file or executable mapping, if any.
   *
   * @param what "exec" or "mapping", used in the reason
   */
  public Optional<SecurityEvent> execution(int pid, String what, ExecutableCheck check) {
    return execution(pid, what, check, b -> {});
  }

  /**
   * The same, with {@code context} adding details of its own (after the event's) before the event
   * is built, so that they cost no copy of it.
   */
  public Optional<SecurityEvent> execution(
      int pid, String what, ExecutableCheck check, Consumer<SecurityEvent.Builder> context) {
    if (!check.verified()) {
      SecurityEvent.Builder b =
          base(EventType.VERIFICATION_DEGRADED, pid, check.path(), check.identity(), null)
              .reason(
                  what
                      + " of "
                      + check.path()
                      + " could not be verified: "
                      + check.unverifiableReason())
              .detail("scope", "ALL")
              .detail(Grouping.OBSERVED, what);
      context.accept(b);
      return Optional.of(b.build());
    }
    BinaryVerification v = check.verification();
    EventType type = executionType(check);
    if (type == null) {
      return Optional.empty();
    }
    SecurityEvent.Builder b = base(type, pid, check.path(), v.identity(), v.sha256());
    String reason =
        switch (type) {
          case UNKNOWN_EXECUTION ->
              what
                  + " of "
                  + check.path()
                  + ": no trusted reference for sha256 "
                  + v.sha256()
                  + copyOf(v);
          case VERIFY_FAILED ->
              what + " of " + check.path() + " failed verification: " + failedScopes(v);
          default -> what + " of " + check.path() + " only partly verified: " + unverifiedScopes(v);
        };
    b.reason(reason);
    b.detail(Grouping.OBSERVED, what);
    coverage(b, v);
    context.accept(b);
    return Optional.of(b.build());
  }

  /**
   * The type of the event {@link #execution} gives for {@code check}, without building it; null
   * when it gives none (VERIFIED).
   */
  public static EventType executionType(ExecutableCheck check) {
    if (!check.verified()) {
      return EventType.VERIFICATION_DEGRADED;
    }
    return switch (check.verification().verdict()) {
      case VERIFIED -> null;
      case UNKNOWN -> EventType.UNKNOWN_EXECUTION;
      case FAILED -> EventType.VERIFY_FAILED;
      case DEGRADED -> EventType.VERIFICATION_DEGRADED;
    };
  }

  /** The time an event built now has. */
  Instant now() {
    return clock.instant();
  }

  /**
   * What was verified because someone asked (another tool's alert): a process or a file, with its
   * verdict, coverage and findings.
   *
   * @param pid the process verified; null for a file
   * @param path its executable, or the file
   */
  public record Answered(
      Integer pid,
      String path,
      FileIdentity identity,
      String sha256,
      Verdict verdict,
      Coverage coverage,
      List<Finding> findings) {}

  /**
   * The event for a verification {@code asker} asked for (e.g. "Falco rule 'Drop and execute new
   * binary in container'"), if its verdict is not VERIFIED. Code in memory or mappings that FAILED
   * is RUNTIME_DRIFT; else FAILED is VERIFY_FAILED, UNKNOWN is UNKNOWN_EXECUTION and DEGRADED is
   * VERIFICATION_DEGRADED. The reason starts with the asker and the type ("Falco rule 'X' →
   * UNKNOWN_EXECUTION: ..."); {@code facts} (who asked) become details; drift adds {@code finding}
   * and {@code scope} of the decisive finding, as the agent's own drift events do.
   */
  public Optional<SecurityEvent> answer(String asker, Answered a, Map<String, ?> facts) {
    Scope drifted = null;
    for (Scope s : List.of(Scope.MEMORY_CODE, Scope.MEMORY_MAP)) {
      if (a.coverage().get(s).map(r -> r.status() == ScopeStatus.FAILED).orElse(false)) {
        drifted = s;
        break;
      }
    }
    EventType type =
        drifted != null
            ? EventType.RUNTIME_DRIFT
            : switch (a.verdict()) {
              case VERIFIED -> null;
              case FAILED -> EventType.VERIFY_FAILED;
              case UNKNOWN -> EventType.UNKNOWN_EXECUTION;
              case DEGRADED -> EventType.VERIFICATION_DEGRADED;
            };
    if (type == null) {
      return Optional.empty();
    }
    String what = a.pid() == null ? a.path() : "running process " + a.path();
    String detail =
        switch (type) {
          case RUNTIME_DRIFT ->
              what
                  + ": "
                  + drifted
                  + " failed: "
                  + a.coverage().get(drifted).map(ScopeResult::reason).orElse("");
          case UNKNOWN_EXECUTION -> what + ": no trusted reference for sha256 " + a.sha256();
          case VERIFY_FAILED ->
              what + " failed verification: " + scopes(a.coverage(), ScopeStatus.FAILED);
          default ->
              what + " only partly verified: " + scopes(a.coverage(), ScopeStatus.NOT_VERIFIED);
        };
    SecurityEvent.Builder b =
        base(type, a.pid(), a.path().isEmpty() ? null : a.path(), a.identity(), a.sha256())
            .reason(asker + " → " + type + ": " + detail);
    facts.forEach(b::detail);
    b.detail(Grouping.OBSERVED, a.pid() == null ? "file" : "running process");
    if (drifted != null) {
      // As drift found by the agent itself names it: so an incident holding the same finding
      // recognises it. Other answers name none, like the exec events they would join.
      Scope decisive = drifted;
      a.findings().stream()
          .filter(f -> f.scope() == decisive)
          .findFirst()
          .ifPresent(
              f -> {
                b.detail("finding", f.type().name());
                b.detail("scope", f.scope().name());
              });
    }
    for (ScopeResult r : a.coverage().results().values()) {
      b.coverage(r.scope().name(), r.status().name(), r.reason());
    }
    a.findings().forEach(f -> finding(b, f));
    return Optional.of(b.build());
  }

  /** A RUNTIME_DRIFT event with facts; {@code reason} must not contain the pid. */
  public SecurityEvent drift(
      int pid,
      String exePath,
      FileIdentity identity,
      String sha256,
      String reason,
      Map<String, ?> facts) {
    return drift(pid, exePath, identity, sha256, reason, facts, List.of());
  }

  /**
   * A RUNTIME_DRIFT event with facts and the verifier's findings behind it (a re-verified process).
   */
  public SecurityEvent drift(
      int pid,
      String exePath,
      FileIdentity identity,
      String sha256,
      String reason,
      Map<String, ?> facts,
      List<Finding> findings) {
    SecurityEvent.Builder b =
        base(EventType.RUNTIME_DRIFT, pid, exePath, identity, sha256).reason(reason);
    facts.forEach(b::detail);
    findings.forEach(f -> finding(b, f));
    return b.build();
  }

  /** A VERIFICATION_DEGRADED event about coverage that is not tied to one file. */
  public SecurityEvent degraded(Integer pid, String reason, Map<String, ?> facts) {
    return degraded(pid, reason, facts, List.of());
  }

  /** A VERIFICATION_DEGRADED event with the verifier's findings that explain it. */
  public SecurityEvent degraded(
      Integer pid, String reason, Map<String, ?> facts, List<Finding> findings) {
    SecurityEvent.Builder b =
        SecurityEvent.builder(EventType.VERIFICATION_DEGRADED, clock.instant())
            .host(host)
            .pid(pid)
            .reason(reason);
    facts.forEach(b::detail);
    findings.forEach(f -> finding(b, f));
    return b.build();
  }

  /** A SELF_INTEGRITY_FAILURE event. */
  public SecurityEvent selfIntegrity(String reason, Map<String, ?> facts) {
    SecurityEvent.Builder b =
        SecurityEvent.builder(EventType.SELF_INTEGRITY_FAILURE, clock.instant())
            .host(host)
            .reason(reason);
    facts.forEach(b::detail);
    return b.build();
  }

  private SecurityEvent.Builder base(
      EventType type, Integer pid, String path, FileIdentity id, String sha256) {
    SecurityEvent.Builder b = SecurityEvent.builder(type, clock.instant()).host(host).pid(pid);
    if (path != null) {
      b.exe(path, id == null ? 0 : id.dev(), id == null ? 0 : id.inode(), sha256);
    }
    return b;
  }

  static void coverage(SecurityEvent.Builder b, BinaryVerification v) {
    for (ScopeResult r : v.coverage().results().values()) {
      b.coverage(r.scope().name(), r.status().name(), r.reason());
    }
    for (Finding f : v.findings()) {
      finding(b, f);
    }
  }

  private static void finding(SecurityEvent.Builder b, Finding f) {
    b.finding(f.type().name(), f.scope().name(), f.reason(), f.detail());
  }

  /** "; a copy of package file /usr/bin/nc (netcat-openbsd)" for a masquerade, else empty. */
  private static String copyOf(BinaryVerification v) {
    for (Finding f : v.findings()) {
      if (f.type() == FindingType.PACKAGE_FILE_COPY) {
        return "; a copy of package file "
            + f.detail().get("packageFile")
            + " ("
            + f.detail().get("package")
            + ")";
      }
    }
    return "";
  }

  private static String failedScopes(BinaryVerification v) {
    return scopes(v, ScopeStatus.FAILED);
  }

  private static String unverifiedScopes(BinaryVerification v) {
    return scopes(v, ScopeStatus.NOT_VERIFIED);
  }

  private static String scopes(BinaryVerification v, ScopeStatus status) {
    return scopes(v.coverage(), status);
  }

  private static String scopes(Coverage coverage, ScopeStatus status) {
    StringBuilder sb = new StringBuilder();
    for (ScopeResult r : coverage.results().values()) {
      if (r.status() == status) {
        if (sb.length() > 0) {
          sb.append("; ");
        }
        sb.append(r.scope()).append(' ').append(status).append(" (").append(r.reason()).append(')');
      }
    }
    return sb.toString();
  }
}
