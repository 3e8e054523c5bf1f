package dev.veriruntime.ingest;

/**
 * Test support: damages a live {@link Probe} from inside its process, as the kernel lets no one
 * else do it (here {@code bpftool link detach} of a raw tracepoint link is refused with
 * EOPNOTSUPP), so that tests can check the agent notices a program no longer attached.
 */
public final class ProbeTampering {
  private ProbeTampering() {}

  /**
   * Detaches {@code program} of {@code probe}, leaving the others attached.
   *
   * @return whether it was attached until now
   */
  public static boolean detach(Probe probe, String program) {
    return probe.detachOne(program);
  }
}
