package dev.veriruntime.sinks;

/**
 * The five kinds of event VeriRuntime emits (DESIGN.md, "Event model"). The JSON form is the
 * constant's name.
 */
public enum EventType {
  /** An executed file, or executable mapping, matches no trusted reference. */
  UNKNOWN_EXECUTION,
  /** A reference exists for this path or identity, and the bytes or ELF structure differ. */
  VERIFY_FAILED,
  /**
   * What runs differs from what was verified (replaced binary, patched code, injected library...).
   */
  RUNTIME_DRIFT,
  /** VeriRuntime's own files, JVM, probe or attachments are not what they should be. */
  SELF_INTEGRITY_FAILURE,
  /** Coverage was partial: which scope, for which process or window, and why. */
  VERIFICATION_DEGRADED
}
