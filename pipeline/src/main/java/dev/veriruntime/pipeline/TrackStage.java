package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.ScannedProcess;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Flux;

/**
 * Stage 1 (enrich): keeps the {@link ProcessTable} current from exec, exit and scan events, counts
 * every event in, and turns the kernel's lost-record counts into ledger entries (reported as
 * VERIFICATION_DEGRADED by the drop reporter). Events pass through unchanged, except {@link
 * LostEvent}s, which end here.
 */
public final class TrackStage implements Function<Flux<RuntimeEvent>, Flux<RuntimeEvent>> {
  private final ProcessTable table;
  private final DropLedger ledger;
  private final PipelineMetrics metrics;

  public TrackStage(ProcessTable table, DropLedger ledger, PipelineMetrics metrics) {
    this.table = table;
    this.ledger = ledger;
    this.metrics = metrics;
  }

  @Override
  public Flux<RuntimeEvent> apply(Flux<RuntimeEvent> events) {
    return events.filter(this::track);
  }

  private boolean track(RuntimeEvent event) {
    metrics.eventIn(event.getClass().getSimpleName());
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
