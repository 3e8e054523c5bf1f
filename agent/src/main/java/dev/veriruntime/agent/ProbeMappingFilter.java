package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.verifier.FileIdentity;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.PrintStream;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link MappingFilter} of a live probe. Publishes {@code veriruntime.events.filtered{kind=
 * ExecMappingEvent}}: mappings the probe counted instead of sending, so the event counts still add
 * up. A kernel error is printed once and otherwise ignored (the mappings are then simply sent).
 */
final class ProbeMappingFilter implements MappingFilter {
  private final Probe probe;
  private final PrintStream err;
  private final AtomicBoolean warned = new AtomicBoolean();

  private ProbeMappingFilter(Probe probe, PrintStream err) {
    this.probe = probe;
    this.err = err;
  }

  static MappingFilter of(Probe probe, MeterRegistry registry, PrintStream err) {
    FunctionCounter.builder(
            "veriruntime.events.filtered", probe, p -> p.isClosed() ? 0 : p.filteredMappings())
        .description(
            "executable mappings of verified files counted in the kernel instead of reported")
        .tag("kind", "ExecMappingEvent")
        .register(registry);
    return new ProbeMappingFilter(probe, err);
  }

  /**
   * The file is verified and mapped executable: its mappings are counted in the kernel, and any
   * open for writing or truncation of it is reported at once (a FileWriteEvent).
   */
  @Override
  public void skip(FileIdentity file) {
    try {
      probe.skipMappingsOf(file);
      probe.watchWrites(file, EnumSet.of(WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE));
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  @Override
  public void reset() {
    try {
      probe.reportAllMappings();
      probe.unwatchAllWrites();
    } catch (RuntimeException e) {
      warnOnce(e);
    }
  }

  private void warnOnce(RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      err.println(
          "veriruntime: kernel mapping filter unavailable, mappings of verified files are sent as usual: "
              + e.getMessage());
    }
  }
}
