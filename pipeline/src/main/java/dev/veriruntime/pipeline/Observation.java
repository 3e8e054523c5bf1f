package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.RuntimeEvent;
import java.util.Objects;

/**
 * A domain event with the verification of the file it executed or mapped, when it names one;
 * {@code check} is null for events about no file (exit, anonymous memory, injection...).
 */
public record Observation(RuntimeEvent event, ExecutableCheck check) {
  public Observation {
    Objects.requireNonNull(event, "event");
  }
}
