package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.RuntimeEvent;
import java.util.Objects;

/**
 * A domain event with the verification of the file it executed or mapped, when it names one. For
 * anonymous executable memory, {@code check} is the process's own executable when its digest was
 * not known yet (so the JIT allowance can apply), else null; null for other events about no file
 * (exit, injection...).
 */
public record Observation(RuntimeEvent event, ExecutableCheck check) {
  public Observation {
    Objects.requireNonNull(event, "event");
  }
}
