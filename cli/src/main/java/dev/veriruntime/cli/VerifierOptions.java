package dev.veriruntime.cli;

import dev.veriruntime.api.ApiServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options every verify command shares: its own references, JSON output, and the daemon's
 * socket. With references of its own a command verifies in this process (the daemon has its own
 * references); otherwise it asks the running daemon when there is one.
 */
public final class VerifierOptions {
  @Option(
      names = "--refs",
      paramLabel = "FILE",
      description = "reference file: DSSE envelope(s) or plain statement (repeatable)")
  List<Path> refs = new ArrayList<>();

  @Option(
      names = "--trusted-key",
      paramLabel = "PUB",
      description = "SPKI PEM public key whose signatures are trusted (repeatable)")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "the daemon's API socket; without a daemon there, work in this process (default:"
              + " ${DEFAULT-VALUE}). Ignored with --refs/--trusted-key.")
  Path socket = ApiServer.DEFAULT_SOCKET;

  @Option(
      names = "--no-package-database",
      description =
          "do not accept package-owned files on the strength of the package database's checksums")
  boolean noPackageDatabase;

  /** True when the caller chose its own trust, so the answer must come from this process. */
  boolean ownReferences() {
    return !refs.isEmpty() || !trustedKeys.isEmpty() || noPackageDatabase;
  }

  InProcessVerifiers loadVerifiers() {
    return InProcessVerifiers.load(refs, trustedKeys, !noPackageDatabase);
  }
}
