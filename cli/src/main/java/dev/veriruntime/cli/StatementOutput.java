package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.Reference;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;

/**
 * Signed statements as {@code refs verify} and {@code refs import} show them: each statement's
 * signer and subjects, as text or as JSON.
 */
final class StatementOutput {
  private StatementOutput() {}

  /** Each statement's signer and subjects, one line a subject. */
  static void print(PrintWriter out, Path file, List<LoadedStatement> loaded) {
    for (LoadedStatement s : loaded) {
      out.printf(
          "%s: signature OK, signed by %s%n  predicateType %s%n",
          file, s.source().signedByKeyId(), s.statement().predicateType());
      for (Reference r : s.references()) {
        out.printf(
            "  %s  %s%s%n",
            r.sha256(),
            r.name().isEmpty() ? "(no name)" : r.name(),
            r.sectionDigests().isEmpty()
                ? ""
                : "  [" + r.sectionDigests().size() + " section digests]");
      }
      if (s.skippedSubjects() > 0) {
        out.printf("  (%d subject(s) without a sha256 digest ignored)%n", s.skippedSubjects());
      }
    }
    out.flush();
  }

  /** Appends each statement with its signer and subjects to {@code into}. */
  static void json(ArrayNode into, List<LoadedStatement> loaded) {
    for (LoadedStatement s : loaded) {
      ObjectNode st = into.addObject();
      st.put("signedBy", s.source().signedByKeyId());
      st.put("predicateType", s.statement().predicateType());
      st.put("payloadSha256", s.source().payloadSha256());
      st.put("skippedSubjects", s.skippedSubjects());
      ArrayNode subj = st.putArray("subjects");
      for (Reference r : s.references()) {
        ObjectNode o = subj.addObject().put("name", r.name()).put("sha256", r.sha256());
        ObjectNode sections = o.putObject("sections");
        new TreeMap<>(r.sectionDigests()).forEach(sections::put);
        ObjectNode elf = o.putObject("elf");
        new TreeMap<>(r.elfFacts()).forEach(elf::put);
      }
    }
  }
}
