package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RemoteWriteDone;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.event.ToolchainWriteEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Flux;

/**
 * Stage 1 (enrich): keeps the {@link ProcessTable} current from exec, exit and scan events, counts
 * every event in, and turns the kernel's lost-record counts into ledger entries (reported as
 * VERIFICATION_DEGRADED by the drop reporter). Events pass through unchanged, except {@link
 * LostEvent}s, {@link RemoteWriteDone}s and {@link ToolchainWriteEvent}s (handed to the {@link
 * BuildLineage}), which end here.
 *
 * <p>Works on batches (one per ring-buffer round, see {@link Pipeline#runBatches}): the events of a
 * batch are tracked in order, and a batch of which nothing is left is not passed on.
 */
public final class TrackStage
    implements Function<Flux<List<RuntimeEvent>>, Flux<List<RuntimeEvent>>> {
  private final ProcessTable table;
  private final DropLedger ledger;
  private final PipelineMetrics metrics;
  private final BuildLineage lineage;

  public TrackStage(ProcessTable table, DropLedger ledger, PipelineMetrics metrics) {
    this(table, ledger, metrics, BuildLineage.OFF);
  }

  /** With build lineage: toolchain writes end here, handed to {@code lineage} in ring order. */
  public TrackStage(
      ProcessTable table, DropLedger ledger, PipelineMetrics metrics, BuildLineage lineage) {
    this.table = table;
    this.ledger = ledger;
    this.metrics = metrics;
    this.lineage = lineage;
  }

  @Override
  public Flux<List<RuntimeEvent>> apply(Flux<List<RuntimeEvent>> batches) {
    return batches.handle(
        (batch, sink) -> {
          List<RuntimeEvent> kept = track(batch);
          if (!kept.isEmpty()) {
            sink.next(kept);
          }
        });
  }

  /** The events of the batch that go on (the batch itself when all of them do). */
  private List<RuntimeEvent> track(List<RuntimeEvent> batch) {
    List<RuntimeEvent> kept = null;
    for (int i = 0; i < batch.size(); i++) {
      RuntimeEvent event = batch.get(i);
      boolean keep = track(event);
      if (!keep && kept == null) {
        kept = new ArrayList<>(batch.subList(0, i));
      } else if (keep && kept != null) {
        kept.add(event);
      }
    }
    return kept == null ? batch : kept;
  }

  private boolean track(RuntimeEvent event) {
    metrics.eventIn(event.getClass());
    if (event instanceof ExecEvent e) {
      table.started(
          new ProcessTable.Entry(
              e.task().tgid(),
              e.ppid(),
              e.file().path(),
              e.file().identity(),
              e.task().cgroupId(),
              e.task().comm(),
              null));
    } else if (event instanceof ScannedProcess s) {
      s.executable()
          .ifPresent(
              x ->
                  table.started(
                      new ProcessTable.Entry(
                          s.pid(), s.ppid(), x.path(), x.identity(), 0, s.comm(), null)));
    } else if (event instanceof ExitEvent x) {
      table.exited(x.task().tgid());
    } else if (event instanceof ToolchainWriteEvent w) {
      lineage.written(w);
      return false;
    } else if (event instanceof RemoteWriteDone) {
      return false; // only a cue for the agent to verify the target (its attempt is the alert)
    } else if (event instanceof LostEvent lost) {
      for (Map.Entry<EventKind, Long> k : lost.lostByKind().entrySet()) {
        String kind = k.getKey().name().toLowerCase();
        ledger.add("kernel." + kind, k.getValue());
        metrics.lost(kind, k.getValue());
      }
      return false;
    }
    return true;
  }
}
