package dev.veriruntime.cli;

import dev.veriruntime.api.LocalCoreApi;
import dev.veriruntime.api.VerifierCoreApi;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.ReferenceStore;
import dev.veriruntime.verifier.reference.SignaturePolicy;
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
    ReferenceStore store;
    try {
      store =
          new ReferenceLoader(RefsCommand.trustedKeys(trustedKeys), SignaturePolicy.ALLOW_UNSIGNED)
              .loadAll(refs);
    } catch (ReferenceException e) {
      throw RefsCommand.cliError(e);
    }
    BinaryVerifier binaries =
        new BinaryVerifier(store, Clock.systemUTC(), BinaryVerifier.Options.defaults());
    return new InProcessVerifiers(
        binaries,
        new ProcessVerifier(
            ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), Clock.systemUTC()));
  }

  /** The Core API over these verifiers and {@code state}; no evidence, no health. */
  LocalCoreApi api(RuntimeStateRegistry state) {
    return VerifierCoreApi.create(processes, binaries, state, null, null);
  }
}
