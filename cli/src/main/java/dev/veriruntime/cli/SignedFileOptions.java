package dev.veriruntime.cli;

import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The input of {@code refs verify} and {@code refs import}: a reference file every statement of
 * which a trusted key must sign, and whether to answer in JSON.
 */
final class SignedFileOptions {
  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description = "DSSE envelope(s): one JSON object or JSON Lines")
  Path file;

  @Option(
      names = "--trusted-key",
      required = true,
      paramLabel = "PUB",
      description = "SPKI PEM public key to trust (repeatable)")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  /** Every statement in the file; refused (12) unless a trusted key signed each one. */
  List<LoadedStatement> load() {
    return ReferenceFiles.load(file, trustedKeys, SignaturePolicy.REQUIRE_TRUSTED);
  }
}
