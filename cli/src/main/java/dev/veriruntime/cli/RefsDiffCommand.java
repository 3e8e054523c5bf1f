package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code refs diff A B}: which subject names B adds, removes or gives another digest compared with
 * A, and for ELF files which sections changed. Subjects without a name are keyed by digest.
 */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    description = {
      "Compare two reference files by subject name.",
      "%nShows added, removed and changed digests, with the ELF sections that differ. Signatures are checked only with the --trusted-key given.",
      "%nExit codes: 0 compared (with or without differences), 10 unreadable, 11 malformed, 12 a trusted key's signature does not verify, 13 bad key."
    })
final class RefsDiffCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "A", description = "the old reference file")
  Path a;

  @Parameters(index = "1", paramLabel = "B", description = "the new reference file")
  Path b;

  @Option(
      names = "--trusted-key",
      paramLabel = "PUB",
      description = "SPKI PEM public key to check signatures with (repeatable)")
  List<Path> trustedKeys = new ArrayList<>();

  @Option(names = "--json", description = "print the differences as JSON")
  boolean json;

  /** Every reference of one file by subject name (or "sha256:DIGEST" when it has none). */
  private SortedMap<String, List<Reference>> byName(Path file) {
    SortedMap<String, List<Reference>> out = new TreeMap<>();
    for (LoadedStatement s :
        ReferenceFiles.load(file, trustedKeys, SignaturePolicy.ALLOW_UNSIGNED)) {
      for (Reference r : s.references()) {
        String key = r.name().isEmpty() ? "sha256:" + r.sha256() : r.name();
        out.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
      }
    }
    return out;
  }

  @Override
  public Integer call() {
    SortedMap<String, List<Reference>> before = byName(a);
    SortedMap<String, List<Reference>> after = byName(b);
    ObjectNode root = JsonOutput.object().put("a", a.toString()).put("b", b.toString());
    ArrayNode added = root.putArray("added");
    ArrayNode removed = root.putArray("removed");
    ArrayNode changed = root.putArray("changed");
    int unchanged = 0;
    for (Map.Entry<String, List<Reference>> e : before.entrySet()) {
      List<Reference> now = after.get(e.getKey());
      if (now == null) {
        removed.addObject().put("name", e.getKey()).put("sha256", digests(e.getValue()).first());
      } else if (digests(e.getValue()).equals(digests(now))) {
        unchanged++;
      } else {
        ObjectNode c = changed.addObject().put("name", e.getKey());
        digests(e.getValue()).forEach(c.putArray("before")::add);
        digests(now).forEach(c.putArray("after")::add);
        changedSections(e.getValue(), now).forEach(c.putArray("sections")::add);
      }
    }
    for (Map.Entry<String, List<Reference>> e : after.entrySet()) {
      if (!before.containsKey(e.getKey())) {
        added.addObject().put("name", e.getKey()).put("sha256", digests(e.getValue()).first());
      }
    }
    root.put("unchanged", unchanged);
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      JsonOutput.print(o, root);
      return ExitCodes.OK;
    }
    added.forEach(n -> o.printf("+ %s  %s%n", n.get("name").asText(), n.get("sha256").asText()));
    removed.forEach(n -> o.printf("- %s  %s%n", n.get("name").asText(), n.get("sha256").asText()));
    changed.forEach(
        n -> {
          o.printf(
              "~ %s  %s -> %s%n",
              n.get("name").asText(),
              String.join(",", texts(n.get("before"))),
              String.join(",", texts(n.get("after"))));
          if (!n.get("sections").isEmpty()) {
            o.printf("    sections: %s%n", String.join(" ", texts(n.get("sections"))));
          }
        });
    o.printf(
        "%d added, %d removed, %d changed, %d unchanged%n",
        added.size(), removed.size(), changed.size(), unchanged);
    o.flush();
    return ExitCodes.OK;
  }

  private static TreeSet<String> digests(List<Reference> refs) {
    TreeSet<String> out = new TreeSet<>();
    refs.forEach(r -> out.add(r.sha256()));
    return out;
  }

  /**
   * Sections whose digest differs, is new or is gone, when each side has one reference with section
   * digests; otherwise none can be named.
   */
  private static Set<String> changedSections(List<Reference> before, List<Reference> after) {
    Set<String> out = new TreeSet<>();
    if (before.size() != 1 || after.size() != 1) {
      return out;
    }
    Map<String, String> x = before.get(0).sectionDigests();
    Map<String, String> y = after.get(0).sectionDigests();
    if (x.isEmpty() || y.isEmpty()) {
      return out;
    }
    Set<String> names = new TreeSet<>(x.keySet());
    names.addAll(y.keySet());
    for (String s : names) {
      if (!java.util.Objects.equals(x.get(s), y.get(s))) {
        out.add(s);
      }
    }
    return out;
  }

  private static List<String> texts(com.fasterxml.jackson.databind.JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
