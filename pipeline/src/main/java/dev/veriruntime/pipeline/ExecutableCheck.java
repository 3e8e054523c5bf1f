package dev.veriruntime.pipeline;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.FileIdentity;
import java.util.Objects;

/**
 * The outcome of verifying one executed file: a {@link BinaryVerification}, or the reason no
 * verification was possible (the process exited and its path no longer holds the executed inode,
 * the file was unreadable...). An unverifiable file is reported as VERIFICATION_DEGRADED, never as
 * verified.
 */
public record ExecutableCheck(
    String path,
    FileIdentity identity,
    BinaryVerification verification,
    String unverifiableReason) {

  public ExecutableCheck {
    Objects.requireNonNull(path, "path");
    if ((verification == null) == (unverifiableReason == null)) {
      throw new IllegalArgumentException("exactly one of verification and unverifiableReason");
    }
  }

  public static ExecutableCheck of(BinaryVerification v) {
    return new ExecutableCheck(v.path(), v.identity(), v, null);
  }

  public static ExecutableCheck unverifiable(String path, FileIdentity identity, String reason) {
    return new ExecutableCheck(path, identity, null, reason);
  }

  public boolean verified() {
    return verification != null;
  }
}
