package dev.veriruntime.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiJson;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.CoreApi;
import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.api.VerifierCoreApi;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProgramAttachment;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.SinkStats;
import dev.veriruntime.sinks.journal.JournalSink;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.process.ProcessVerifier;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The daemon's side of the control API: the Core API over the daemon's own verifiers, state,
 * journal and counters, and the Unix socket that serves it. Package-private wiring for {@link
 * Daemon}; the API itself is in {@code dev.veriruntime.api}.
 */
final class ControlApi {

  /**
   * The Health answer. {@code dropped}: loss place to exact count since start; {@code lineage}:
   * build-lineage decisions by outcome, files recorded, toolchain executables marked (empty when
   * lineage is off); {@code journal}: the evidence journal's chain verification (null when the
   * journal is off); {@code selfIntegrity}: the latest self-integrity results.
   */
  record Health(
      Instant startedAt,
      long uptimeSeconds,
      int references,
      ProbeHealth probe,
      List<SinkStats> sinks,
      Map<String, Long> dropped,
      Map<String, Long> lineage,
      JournalStatus.View journal,
      SelfIntegrityStatus.View selfIntegrity) {}

  /** Probe programs attached (by name) and those that failed (name to error). */
  record ProbeHealth(List<String> attached, Map<String, String> failed) {}

  private ControlApi() {}

  /**
   * The Core API over the daemon's parts. {@code journal} may be null (journal off): GetEvidence
   * then answers UNAVAILABLE. Sinks, ledger and probe are read live on every Health call.
   */
  static LocalCoreApi coreApi(
      ProcessVerifier processes,
      BinaryVerifier binaries,
      VerifierCoreApi.StateSource state,
      JournalSink journal,
      Probe probe,
      List<Sink> sinks,
      DropLedger ledger,
      int references,
      Clock clock,
      IncidentBook incidents,
      Supplier<Map<String, Long>> lineage,
      SelfIntegrityStatus self) {
    Instant started = clock.instant();
    JournalStatus journalStatus = journal == null ? null : new JournalStatus(journal, clock);
    return VerifierCoreApi.create(
        processes,
        binaries,
        state,
        journal == null ? null : journal::evidence,
        () ->
            health(
                started,
                clock,
                references,
                probe,
                sinks,
                ledger,
                lineage.get(),
                journalStatus == null ? null : journalStatus.view(),
                self.view()),
        incidents == null ? null : () -> incidents(incidents));
  }

  /** The open incidents as ListRuntimeState lists them (docs/api.md). */
  static List<ObjectNode> incidents(IncidentBook book) {
    return book.openIncidents().stream()
        .map(i -> (ObjectNode) ApiJson.mapper().valueToTree(i))
        .toList();
  }

  private static Health health(
      Instant started,
      Clock clock,
      int references,
      Probe probe,
      List<Sink> sinks,
      DropLedger ledger,
      Map<String, Long> lineage,
      JournalStatus.View journal,
      SelfIntegrityStatus.View self) {
    Map<String, String> failed = new TreeMap<>();
    for (ProgramAttachment a : probe.attachReport().failed()) {
      failed.put(a.program(), a.error());
    }
    ProbeHealth probeHealth =
        new ProbeHealth(
            probe.attachReport().attached().stream().map(ProgramAttachment::program).toList(),
            failed);
    return new Health(
        started,
        Duration.between(started, clock.instant()).toSeconds(),
        references,
        probeHealth,
        sinks.stream().map(Sink::stats).toList(),
        new TreeMap<>(ledger.totals()),
        lineage,
        journal,
        self);
  }

  /**
   * The alert intake the policy describes for {@code host} (alerts about other hosts are refused),
   * its counters in {@code meters} (null: its own).
   */
  static AlertIntake intake(
      Policy.Intake p, String host, io.micrometer.core.instrument.MeterRegistry meters) {
    return AlertIntake.builder()
        .hostName(host)
        .maxBodyBytes(p.maxBodyBytes)
        .rate(p.rate, p.burst, p.totalRate)
        .foldWindow(Duration.ofSeconds(p.foldSeconds))
        .queue(p.queue)
        .meterRegistry(meters)
        .build();
  }

  /**
   * Serve {@code api} on {@code socket}; its directory is created 0755 if missing (the socket
   * itself is 0600). The server's {@code veriruntime.api.*} meters (requests, refusals,
   * connections) go to {@code meters}.
   *
   * @throws IOException when the socket cannot be bound (another daemon listens there, no
   *     permission, epoll unavailable)
   */
  static ApiServer serve(CoreApi api, Path socket, MeterRegistry meters) throws IOException {
    return serve(api, socket, null, meters);
  }

  /**
   * As {@link #serve(CoreApi, Path, MeterRegistry)}, with {@code POST /v1/alerts} through {@code
   * intake}.
   */
  static ApiServer serve(CoreApi api, Path socket, AlertIntake intake, MeterRegistry meters)
      throws IOException {
    Path parent = socket.toAbsolutePath().getParent();
    if (!Files.isDirectory(parent)) {
      Files.createDirectories(
          parent,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    return ApiServer.builder(api).socket(socket).alertIntake(intake).meterRegistry(meters).bind();
  }
}
