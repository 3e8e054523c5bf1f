package dev.veriruntime.cli;

import dev.veriruntime.api.ApiException;
import dev.veriruntime.verifier.reference.ReferenceException;

/**
 * Exit codes of every command, documented in docs/api.md. Distinct failures get distinct codes so
 * scripts can tell them apart without parsing messages.
 */
public final class ExitCodes {
  /** Success; for verify commands: the verdict was VERIFIED. */
  public static final int OK = 0;

  /** A verify command ran and the verdict was FAILED. */
  public static final int VERDICT_FAILED = 1;

  /** Bad usage: unknown option, missing argument (picocli's own code). */
  public static final int USAGE = 2;

  /** A verify command ran and the verdict was UNKNOWN. */
  public static final int VERDICT_UNKNOWN = 3;

  /** A verify command ran and the verdict was DEGRADED. */
  public static final int VERDICT_DEGRADED = 4;

  /**
   * The command completed and wrote its output, but found something to look at: {@code refs
   * baseline} found package-owned files whose bytes differ from their package's checksum (candidate
   * tampering, left out of the output).
   */
  public static final int FINDINGS = 5;

  /** An input file is missing, is a directory, or cannot be read. */
  public static final int INPUT_UNREADABLE = 10;

  /** An input file is malformed (not ELF, bad JSON, bad envelope...). */
  public static final int INPUT_MALFORMED = 11;

  /** A signature did not verify, or was made by a key that is not trusted. */
  public static final int SIGNATURE_INVALID = 12;

  /** A key file is missing, malformed or of an unsupported type. */
  public static final int KEY_INVALID = 13;

  /** An output file cannot be written, or would overwrite a key that already exists. */
  public static final int OUTPUT_UNWRITABLE = 14;

  /**
   * {@code watch --grpc-listen} without all of {@code --tls-cert}, {@code --tls-key} and {@code
   * --tls-client-ca} (plain TCP is refused), or one of those files cannot be read.
   */
  public static final int TLS_REQUIRED = 15;

  /** The probe cannot run here: not root / missing capabilities, no BTF. */
  public static final int KERNEL_UNSUPPORTED = 20;

  /** The probe could not be loaded or attached. */
  public static final int PROBE_FAILED = 21;

  /** The state directory, journal or a sink could not be opened. */
  public static final int STATE_UNWRITABLE = 23;

  /**
   * A state directory, journal, socket, policy or reference path was refused as unsafe: under
   * /proc, /dev or /sys, a symbolic link inside the state directory, owned by another user, or
   * writable by others.
   */
  public static final int PATH_REFUSED = 24;

  /** A process does not exist. */
  public static final int NO_SUCH_PROCESS = 22;

  /** Evidence journal verification found tampering or loss. */
  public static final int JOURNAL_TAMPERED = 30;

  /**
   * No VeriRuntime daemon answers on the API socket, or it is overloaded (Core API UNAVAILABLE).
   */
  public static final int DAEMON_UNAVAILABLE = 40;

  /** The daemon refused the caller: its uid/gid is not allowed on the API socket (FORBIDDEN). */
  public static final int API_FORBIDDEN = 41;

  /** A Core API subject (file, evidence reference) does not exist (NOT_FOUND). */
  public static final int NOT_FOUND = 42;

  /**
   * {@code veriruntime demo}: an expected alert did not arrive, or one came where none was
   * expected.
   */
  public static final int DEMO_FAILED = 50;

  /**
   * {@code fleet summary}: the Kafka broker cannot be reached, or stopped answering, within the
   * timeout.
   */
  public static final int KAFKA_UNAVAILABLE = 60;

  /**
   * {@code fleet summary}: the broker refused the client: authentication (a wrong password, no or
   * an untrusted client certificate) or authorization (no right to read the topic).
   */
  public static final int KAFKA_REFUSED = 61;

  /** A bug: an unexpected exception. The message says what. */
  public static final int INTERNAL = 70;

  private ExitCodes() {}

  /** The exit code for a Core API error; the API itself knows nothing of exit codes. */
  public static int of(ApiException.Code code) {
    return switch (code) {
      case NOT_FOUND -> NOT_FOUND;
      case BAD_REQUEST -> USAGE;
      case FORBIDDEN -> API_FORBIDDEN;
      case UNAVAILABLE -> DAEMON_UNAVAILABLE;
      case INTERNAL -> INTERNAL;
    };
  }

  /**
   * A Core API failure as a CLI error: one line, exit code from {@link #of}. Commands that know
   * better (a missing pid is {@link #NO_SUCH_PROCESS}) map {@link ApiException#code()} themselves.
   */
  public static CliException failure(ApiException e) {
    return new CliException(of(e.code()), e.getMessage(), e);
  }

  /** The exit code for each kind of reference problem (documented in docs/references.md). */
  public static int of(ReferenceException.Kind kind) {
    return switch (kind) {
      case UNREADABLE -> INPUT_UNREADABLE;
      case MALFORMED -> INPUT_MALFORMED;
      case SIGNATURE_INVALID -> SIGNATURE_INVALID;
      case KEY_INVALID -> KEY_INVALID;
    };
  }

  /** A reference problem (unreadable, malformed, untrusted...) as a CLI error: one line. */
  public static CliException failure(ReferenceException e) {
    return new CliException(of(e.kind()), e.getMessage(), e);
  }
}
