package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code refs import}: take in-toto statements made elsewhere (SLSA provenance from a build server,
 * another host's baseline) after checking that a trusted key signed every one, and add them, as
 * signed, to a reference file that {@code watch --refs} reads.
 */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = {
      "Import signed statements made elsewhere (e.g. SLSA provenance) as references.",
      "%nChecks that every statement in FILE (DSSE envelope(s), e.g. an .intoto.jsonl file) is signed by a trusted key and lists the subjects that become references. With --out, adds the envelopes as they are (still signed) to a reference file for watch --refs.",
      "%nExit codes: 0 imported, 10 unreadable, 11 malformed or no sha256 subject, 12 signature invalid or not by a trusted key, 13 bad key, 14 output not writable."
    })
final class RefsImportCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin SignedFileOptions input;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      description =
          "reference file to add the envelopes to (created if missing, kept as JSON Lines)")
  Path out;

  @Override
  public Integer call() {
    Path file = input.file;
    List<LoadedStatement> loaded = input.load();
    int subjects = loaded.stream().mapToInt(s -> s.references().size()).sum();
    if (subjects == 0) {
      throw new CliException(
          ExitCodes.INPUT_MALFORMED, file + ": no subject has a sha256 digest; nothing to import");
    }
    int added = 0;
    if (out != null) {
      ReferenceFiles.checkWritable(out);
      try {
        added = ReferenceFiles.mergeInto(out, ReferenceLoader.readDocuments(file));
      } catch (ReferenceException e) {
        throw ExitCodes.failure(e);
      }
    }
    PrintWriter o = spec.commandLine().getOut();
    if (input.json) {
      ObjectNode root = JsonOutput.object();
      root.put("file", file.toString())
          .put("out", out == null ? null : out.toString())
          .put("subjects", subjects)
          .put("added", added);
      StatementOutput.json(root.putArray("statements"), loaded);
      JsonOutput.print(o, root);
    } else {
      StatementOutput.print(o, file, loaded);
      if (out == null) {
        o.printf(
            "%d subject(s) from %d signed statement(s); nothing written (give --out FILE)%n",
            subjects, loaded.size());
      } else {
        o.printf(
            "imported %d subject(s) from %d signed statement(s) into %s (%d new envelope(s))%n",
            subjects, loaded.size(), out, added);
      }
      o.flush();
    }
    return ExitCodes.OK;
  }
}
