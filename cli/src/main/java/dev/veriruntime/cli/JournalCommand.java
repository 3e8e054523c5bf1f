package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.journal.Evidence;
import dev.veriruntime.sinks.journal.EvidenceJournal;
import dev.veriruntime.sinks.journal.JournalEntry;
import dev.veriruntime.sinks.journal.JournalFormat;
import dev.veriruntime.sinks.journal.JournalReport;
import dev.veriruntime.sinks.journal.JournalVerifier;
import dev.veriruntime.sinks.journal.NodeKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime journal ...}: offline checks of the evidence journal. Never writes to it.
 *
 * <pre>
 * veriruntime journal verify /var/lib/veriruntime          # exit 0 intact, 30 tampered or lost
 * veriruntime journal verify --json --key node.ed25519.pub /mnt/evidence/journal
 * veriruntime journal show /var/lib/veriruntime 0193a1b2-…   # GetEvidence(ref): record + chain proof
 * </pre>
 */
@Command(
    name = "journal",
    mixinStandardHelpOptions = true,
    description = "Check the hash-chained evidence journal.",
    subcommands = {JournalCommand.Verify.class, JournalCommand.Show.class})
public final class JournalCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Verify the evidence journal: hash chain, sequence, checkpoint and head signatures.",
        "%nFinds any changed byte, truncation, reordering or removed record and says where.",
        "%nExit codes: 0 intact, "
            + ExitCodes.JOURNAL_TAMPERED
            + " tampered or lost, "
            + ExitCodes.INPUT_UNREADABLE
            + " unreadable, "
            + ExitCodes.KEY_INVALID
            + " bad --key."
      })
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        paramLabel = "PATH",
        description = "State directory (containing journal/) or the journal directory itself.")
    Path path;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Option(
        names = "--key",
        paramLabel = "FILE",
        description =
            "Trusted node public key (hex). Default: keys/node.ed25519.pub beside the journal.")
    Path key;

    @Override
    public Integer call() {
      byte[] trusted = null;
      if (key != null) {
        try {
          trusted = NodeKey.readPublicKey(key);
        } catch (IOException e) {
          throw new CliException(
              ExitCodes.KEY_INVALID, "cannot use key " + key + ": " + e.getMessage());
        }
      }
      if (!Files.isDirectory(path)) {
        throw new CliException(ExitCodes.INPUT_UNREADABLE, path + ": not a directory");
      }
      JournalReport report;
      try {
        report = new JournalVerifier(trusted).verify(path);
      } catch (NoSuchFileException e) {
        throw new CliException(ExitCodes.INPUT_UNREADABLE, "no evidence journal at " + path);
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.INPUT_UNREADABLE, "cannot read journal at " + path + ": " + e.getMessage());
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        try {
          ObjectMapper mapper = EventJson.newMapper().enable(SerializationFeature.INDENT_OUTPUT);
          out.println(mapper.writeValueAsString(report));
        } catch (IOException e) {
          throw new CliException(ExitCodes.INTERNAL, "cannot write JSON: " + e.getMessage(), e);
        }
      } else {
        printText(out, report);
      }
      out.flush();
      return report.intact() ? ExitCodes.OK : ExitCodes.JOURNAL_TAMPERED;
    }

    private static void printText(PrintWriter out, JournalReport r) {
      out.printf(
          "%s: %s — %d file(s), %d record(s), %d event(s), %d signed checkpoint(s), last seq %d%n",
          r.directory(),
          r.intact() ? "INTACT" : "TAMPERED OR INCOMPLETE",
          r.files(),
          r.records(),
          r.events(),
          r.checkpoints(),
          r.lastSeq());
      for (JournalReport.Problem p : r.problems()) {
        out.println("  problem: " + p);
      }
      for (String w : r.warnings()) {
        out.println("  note: " + w);
      }
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = {
        "Print the journal record for an event id or sequence number (GetEvidence).",
        "%nShows the record, its hash, the previous hash it commits to, and the next signed checkpoint (signature checked).",
        "%nExit codes: 0 found, "
            + ExitCodes.NOT_FOUND
            + " not found, "
            + ExitCodes.INPUT_UNREADABLE
            + " unreadable."
      })
  static final class Show implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        paramLabel = "PATH",
        description = "State directory or journal directory.")
    Path path;

    @Parameters(
        index = "1",
        paramLabel = "REF",
        description = "Event id or record sequence number.")
    String ref;

    @Option(names = "--json", description = "Print the evidence as JSON.")
    boolean json;

    @Override
    public Integer call() {
      Evidence evidence;
      try {
        evidence =
            EvidenceJournal.find(JournalVerifier.journalDirectory(path), ref)
                .orElseThrow(
                    () ->
                        new CliException(
                            ExitCodes.NOT_FOUND, "no journal record for " + ref + " in " + path));
      } catch (NoSuchFileException e) {
        throw new CliException(ExitCodes.INPUT_UNREADABLE, "no evidence journal at " + path);
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.INPUT_UNREADABLE, "cannot read journal at " + path + ": " + e.getMessage());
      }
      Boolean signatureValid = null;
      if (evidence.checkpoint() != null) {
        JournalEntry.Checkpoint cp = evidence.checkpoint().checkpoint();
        try {
          signatureValid =
              NodeKey.verify(
                  HexFormat.of().parseHex(cp.key()),
                  JournalFormat.checkpointMessage(
                      evidence.checkpoint().seq(), evidence.checkpoint().prevHash(), cp.time()),
                  HexFormat.of().parseHex(cp.sig()));
        } catch (IllegalArgumentException e) {
          signatureValid = false;
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        try {
          ObjectMapper mapper = EventJson.newMapper().enable(SerializationFeature.INDENT_OUTPUT);
          var node = mapper.createObjectNode();
          node.set("evidence", mapper.valueToTree(evidence));
          if (signatureValid != null) {
            node.put("checkpointSignatureValid", signatureValid);
          }
          out.println(mapper.writeValueAsString(node));
        } catch (IOException e) {
          throw new CliException(ExitCodes.INTERNAL, "cannot write JSON: " + e.getMessage(), e);
        }
      } else {
        out.printf("%s line %d, seq %d%n", evidence.file(), evidence.line(), evidence.seq());
        out.println("  record hash: " + evidence.recordHash());
        out.println("  prev hash:   " + evidence.prevHash());
        if (evidence.checkpoint() == null) {
          out.println(
              "  checkpoint:  none yet after this record (only the journal head vouches for it)");
        } else {
          out.printf(
              "  checkpoint:  seq %d (%s line %d), signed %s by key %s: signature %s%n",
              evidence.checkpoint().seq(),
              evidence.checkpoint().file(),
              evidence.checkpoint().line(),
              evidence.checkpoint().checkpoint().time(),
              evidence.checkpoint().checkpoint().key(),
              Boolean.TRUE.equals(signatureValid) ? "VALID" : "INVALID");
        }
        out.println("  record:      " + evidence.rawLine());
        out.println(
            "  (run `veriruntime journal verify` to check the chain between record and checkpoint)");
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
