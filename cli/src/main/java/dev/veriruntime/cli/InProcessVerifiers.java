package dev.veriruntime.cli;

import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.api.VerifierCoreApi;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The verifiers a CLI command uses when no daemon answers (or when it was given its own
 * references): the given reference files, default options and policy. Bad reference or key files
 * are {@link CliException}s with their input exit codes.
 */
record InProcessVerifiers(BinaryVerifier binaries, ProcessVerifier processes) {

  static InProcessVerifiers load(List<Path> refs, List<Path> trustedKeys) {
    return load(refs, trustedKeys, true);
  }

  /**
   * @param packageDatabase also accept package-owned files that match the package database's
   *     checksums, as the daemon's embedded default does
   */
  static InProcessVerifiers load(List<Path> refs, List<Path> trustedKeys, boolean packageDatabase) {
    ReferenceStore store;
    try {
      store =
          new ReferenceLoader(
                  ReferenceFiles.trustedKeys(trustedKeys), SignaturePolicy.ALLOW_UNSIGNED)
              .loadAll(refs);
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
    PackageDatabase packages;
    try {
      packages =
          packageDatabase
              ? PackageDatabase.load(PackageDatabase.DEFAULT_INFO_DIR)
              : PackageDatabase.empty();
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, "cannot read the package database: " + e.getMessage(), e);
    }
    BinaryVerifier binaries =
        new BinaryVerifier(store, packages, Clock.systemUTC(), BinaryVerifier.Options.defaults());
    return new InProcessVerifiers(
        binaries,
        new ProcessVerifier(
            ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), Clock.systemUTC()));
  }

  /** The Core API over these verifiers and {@code state}; no evidence, no health. */
  LocalCoreApi api(RuntimeStateRegistry state) {
    return api(VerifierCoreApi.StateSource.of(state));
  }

  /** The Core API over these verifiers and {@code state}; no evidence, no health. */
  LocalCoreApi api(VerifierCoreApi.StateSource state) {
    return VerifierCoreApi.create(processes, binaries, state, null, null);
  }
}
