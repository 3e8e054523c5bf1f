package dev.veriruntime.ingest.event;

/**
 * What ingest tells the pipeline happened on the host: a domain event, decoded from a kernel record
 * (or, for {@link ScannedProcess}, read from /proc at start-up). Events are immutable values and
 * safe to share between threads.
 *
 * <p>{@link #kernelTimeNanos()} is CLOCK_MONOTONIC in nanoseconds ({@code bpf_ktime_get_ns()} on
 * the kernel side). On Linux, HotSpot's {@link System#nanoTime()} reads the same clock, so {@code
 * System.nanoTime() - event.kernelTimeNanos()} is the event's age.
 */
public sealed interface RuntimeEvent
    permits ExecEvent,
        ExitEvent,
        ExecMappingEvent,
        AnonymousExecEvent,
        InjectionEvent,
        RemoteWriteDone,
        MemfdCreateEvent,
        FileWriteEvent,
        ToolchainWriteEvent,
        LostEvent,
        ScannedProcess {

  /** When the event happened, CLOCK_MONOTONIC nanoseconds. */
  long kernelTimeNanos();
}
