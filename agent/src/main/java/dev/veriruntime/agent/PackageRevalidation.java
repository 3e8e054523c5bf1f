package dev.veriruntime.agent;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Flux;

/**
 * What a package-database reload ({@link LivePackageDatabase}) changes for the running agent, so
 * that an upgrade does not alarm forever while a file that does not match its new record stays a
 * finding. For each reload, in order:
 *
 * <ol>
 *   <li>cached verdicts of files whose package record changed are dropped, here and in the process
 *       verifier, and the probe's mapping filter reports every file again: the next exec or mapping
 *       of such a file is verified against the new snapshot;
 *   <li>every tracked process that runs such a file is verified again now, if the path still holds
 *       the very inode it runs: a match is quiet, anything else is reported again as usual ({@code
 *       VERIFY_FAILED} for a file that differs from its new record); its runtime state is
 *       forgotten, so re-attestation records a fresh one;
 *   <li>a process whose path now holds another inode runs the previous version of the file; it is
 *       counted, not checked against the new record, which describes other bytes. Files verified
 *       before the reload that the path no longer holds become {@link PreviousPackageVersions}, so
 *       re-attestation notes such processes instead of reporting a replaced executable or a deleted
 *       library until they restart.
 * </ol>
 *
 * When the agent's own packaged files changed, {@code ownFiles} says what that means first ({@link
 * OwnFileUpgrades}). A reload that failed becomes one {@code VERIFICATION_DEGRADED}. Every reload
 * is one informational log line and counts in {@code veriruntime.package.database.reloads} and
 * {@code veriruntime.package.database.files.changed}. Subscribe on one thread at a time (reloads
 * come one after another); the re-verifications run on the verification lanes.
 */
public final class PackageRevalidation
    implements Function<Flux<LivePackageDatabase.Reload>, Flux<SecurityEvent>> {
  private final ExecutableVerification verification;
  private final MappingFilter mappingFilter;
  private final ProcessTable table;
  private final ProcessVerifier processes;
  private final RuntimeStateRegistry state;
  private final PreviousPackageVersions previousVersions;
  private final Classifier classifier;
  private final PipelineMetrics metrics;
  private final Consumer<String> log;
  private final Function<PackageDatabase.Changes, List<SecurityEvent>> ownFiles;

  /** Without a check of the agent's own files. */
  public PackageRevalidation(
      ExecutableVerification verification,
      MappingFilter mappingFilter,
      ProcessTable table,
      ProcessVerifier processes,
      RuntimeStateRegistry state,
      PreviousPackageVersions previousVersions,
      Classifier classifier,
      PipelineMetrics metrics,
      Consumer<String> log) {
    this(
        verification,
        mappingFilter,
        table,
        processes,
        state,
        previousVersions,
        classifier,
        metrics,
        log,
        changes -> List.of());
  }

  /**
   * @param log receives one line per reload (informational, not an event)
   * @param ownFiles the events a change of the agent's own files warrants
   */
  public PackageRevalidation(
      ExecutableVerification verification,
      MappingFilter mappingFilter,
      ProcessTable table,
      ProcessVerifier processes,
      RuntimeStateRegistry state,
      PreviousPackageVersions previousVersions,
      Classifier classifier,
      PipelineMetrics metrics,
      Consumer<String> log,
      Function<PackageDatabase.Changes, List<SecurityEvent>> ownFiles) {
    this.ownFiles = ownFiles;
    this.previousVersions = previousVersions;
    this.verification = verification;
    this.mappingFilter = mappingFilter;
    this.table = table;
    this.processes = processes;
    this.state = state;
    this.classifier = classifier;
    this.metrics = metrics;
    this.log = log;
  }

  @Override
  public Flux<SecurityEvent> apply(Flux<LivePackageDatabase.Reload> reloads) {
    return reloads.concatMap(this::revalidate);
  }

  private Flux<SecurityEvent> revalidate(LivePackageDatabase.Reload reload) {
    if (reload.failed()) {
      log.accept(reload.failure());
      return Flux.just(
          classifier.degraded(null, reload.failure(), Map.of("check", "package-database")));
    }
    PackageDatabase.Changes changes = reload.changes();
    metrics.packageDatabaseReloaded(changes.paths().size());
    List<ExecutableCheck> dropped =
        changes.isEmpty() ? List.of() : verification.invalidateIf(c -> changes.affects(c.path()));
    if (!changes.isEmpty()) {
      processes.forgetFileVerifications();
      // The kernel skips mappings of files verified under the old records; it forgets them all.
      mappingFilter.reset();
    }
    for (ExecutableCheck c : dropped) {
      if (diskHashVerified(c) && !holds(c.path(), c.identity())) {
        previousVersions.add(c.path(), c.verification().sha256());
      }
    }
    List<ProcessTable.Entry> current = new ArrayList<>();
    int previousVersion = 0;
    for (ProcessTable.Entry e : table.snapshot()) {
      if (e.identity() == null || !changes.affects(e.exePath())) {
        continue;
      }
      if (holds(e.exePath(), e.identity())) {
        current.add(e);
      } else {
        previousVersion++;
      }
    }
    int runningPrevious = previousVersion;
    List<SecurityEvent> own = changes.isEmpty() ? List.of() : ownFiles.apply(changes);
    return Flux.fromIterable(own)
        .concatWith(revalidated(reload, dropped, current, runningPrevious));
  }

  private Flux<SecurityEvent> revalidated(
      LivePackageDatabase.Reload reload,
      List<ExecutableCheck> dropped,
      List<ProcessTable.Entry> current,
      int runningPrevious) {
    return Flux.fromIterable(current)
        .flatMap(
            e ->
                verification
                    .check(e.exePath(), e.identity(), () -> "/proc/" + e.pid() + "/exe")
                    .map(c -> recheck(e, c)))
        .collectList()
        .flatMapIterable(
            rechecked -> {
              long findings = rechecked.stream().filter(Optional::isPresent).count();
              log.accept(describe(reload, dropped, rechecked.size(), findings, runningPrevious));
              return rechecked.stream().flatMap(Optional::stream).toList();
            });
  }

  /** The event a running process warrants after its executable was verified again, if any. */
  private Optional<SecurityEvent> recheck(ProcessTable.Entry e, ExecutableCheck c) {
    state.forget(e.pid());
    table.checked(e.pid(), c);
    return classifier.execution(e.pid(), "running process", c);
  }

  /** Whether {@code path} still names the file with {@code identity}. */
  private static boolean holds(String path, FileIdentity identity) {
    try {
      return identity.equals(BinaryVerifier.identity(Path.of(path)));
    } catch (IOException | RuntimeException gone) {
      return false; // removed with its package, or unreadable: not the file the new record
      // describes
    }
  }

  private static boolean diskHashVerified(ExecutableCheck c) {
    return c.verified()
        && c.verification()
            .coverage()
            .get(Scope.DISK_HASH)
            .map(r -> r.status() == ScopeStatus.VERIFIED)
            .orElse(false);
  }

  private static String describe(
      LivePackageDatabase.Reload r,
      List<ExecutableCheck> dropped,
      int rechecked,
      long stillFindings,
      int runningPrevious) {
    PackageDatabase.Changes changes = r.changes();
    long droppedFindings =
        dropped.stream()
            .filter(c -> !c.verified() || c.verification().verdict() != Verdict.VERIFIED)
            .count();
    return "package database reloaded: "
        + r.database().size()
        + " files, "
        + changes.paths().size()
        + " changed in "
        + changes.packages().size()
        + " package(s)"
        + packageList(changes)
        + "; "
        + dropped.size()
        + " cached verdict(s) dropped ("
        + droppedFindings
        + " of them findings)"
        + "; "
        + rechecked
        + " running process(es) verified again, "
        + (rechecked - stillFindings)
        + " now quiet, "
        + stillFindings
        + " still finding(s)"
        + (runningPrevious == 0
            ? ""
            : "; "
                + runningPrevious
                + " process(es) still run the previous version until restarted");
  }

  private static String packageList(PackageDatabase.Changes changes) {
    if (changes.packages().isEmpty()) {
      return "";
    }
    List<String> names = changes.packages().stream().limit(10).toList();
    return " ("
        + String.join(", ", names)
        + (changes.packages().size() > names.size() ? ", ..." : "")
        + ")";
  }
}
