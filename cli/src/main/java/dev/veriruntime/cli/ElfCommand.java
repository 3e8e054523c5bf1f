package dev.veriruntime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.ElfCheck;
import dev.veriruntime.verifier.ElfStructureVerifier;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.elf.DynamicEntry;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.ProgramHeader;
import dev.veriruntime.verifier.elf.Section;
import dev.veriruntime.verifier.elf.Shebang;
import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime elf PATH [--json]}: what the ELF reader sees in a file (headers, segments,
 * sections with digests, dynamic entries, build-id, interpreter) and what the structural ELF checks
 * say about it. Exit 0 when the file was read; 10 when it cannot be read; 11 when it is not a
 * well-formed ELF file (including {@code #!} scripts, whose interpreter the message names).
 */
@Command(
    name = "elf",
    mixinStandardHelpOptions = true,
    description = {
      "Show the ELF structure of a file.",
      "%nPrints the header, segments, sections (with the SHA-256 of each loaded section), dynamic entries, build-id, interpreter and the ELF_HEADER / ELF_SECTIONS checks.",
      "%nExit codes: 0 read, 10 unreadable, 11 not a well-formed ELF file."
    })
public final class ElfCommand implements Callable<Integer> {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PATH", description = "the file to read")
  Path path;

  @Option(names = "--json", description = "print JSON instead of text")
  boolean json;

  @Override
  public Integer call() {
    ElfFile elf;
    String sha256;
    // Not a regular file: a FIFO or device would block or never end.
    if (Files.isDirectory(path)) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, path + ": is a directory");
    }
    if (Files.exists(path) && !Files.isRegularFile(path)) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, path + ": not a regular file");
    }
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      Optional<Shebang> script = Shebang.read(channel);
      if (script.isPresent()) {
        throw new CliException(
            ExitCodes.INPUT_MALFORMED,
            path + ": not an ELF file: a #! script run by " + script.get().interpreter());
      }
      elf = ElfReader.full().read(channel);
      sha256 = Sha256.hex(channel);
    } catch (NoSuchFileException e) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, path + ": no such file");
    } catch (AccessDeniedException e) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, path + ": permission denied");
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          path
              + ": cannot read: "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    } catch (MalformedElfException e) {
      throw new CliException(ExitCodes.INPUT_MALFORMED, path + ": " + e.getMessage());
    }
    ElfStructureVerifier verifier = ElfStructureVerifier.forHost();
    List<ElfCheck> checks = List.of(verifier.checkHeader(elf), verifier.checkSections(elf));
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      try {
        out.println(JSON.writeValueAsString(toJson(elf, sha256, checks)));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write JSON", e);
      }
    } else {
      printText(out, elf, sha256, checks);
    }
    out.flush();
    return ExitCodes.OK;
  }

  private ObjectNode toJson(ElfFile elf, String sha256, List<ElfCheck> checks) {
    ObjectNode root = JSON.createObjectNode();
    root.put("path", path.toString());
    root.put("size", elf.fileSize());
    root.put("sha256", sha256);
    ElfHeader h = elf.header();
    ObjectNode header = root.putObject("header");
    header.put("class", h.className());
    header.put("byteOrder", h.byteOrder().toString().equals("BIG_ENDIAN") ? "big" : "little");
    header.put("osAbi", h.osAbi());
    header.put("type", h.typeName());
    header.put("machine", h.machineName());
    header.put("machineNumber", h.machine());
    header.put("entry", hex(h.entry()));
    header.put("programHeaderOffset", h.programHeaderOffset());
    header.put("programHeaderCount", h.programHeaderCount());
    header.put("sectionHeaderOffset", h.sectionHeaderOffset());
    header.put("sectionHeaderCount", h.sectionHeaderCount());
    header.put("sectionNameTableIndex", h.sectionNameTableIndex());
    header.put("flags", hex(h.flags() & 0xffffffffL));
    elf.interpreter()
        .ifPresentOrElse(i -> root.put("interpreter", i), () -> root.putNull("interpreter"));
    elf.buildId().ifPresentOrElse(b -> root.put("buildId", b), () -> root.putNull("buildId"));

    ArrayNode segments = root.putArray("segments");
    for (ProgramHeader p : elf.programHeaders()) {
      ObjectNode s = segments.addObject();
      s.put("index", p.index());
      s.put("type", p.typeName());
      s.put("flags", p.flagString().replace(" ", ""));
      s.put("offset", p.offset());
      s.put("vaddr", hex(p.virtualAddress()));
      s.put("paddr", hex(p.physicalAddress()));
      s.put("fileSize", p.fileSize());
      s.put("memorySize", p.memorySize());
      s.put("align", p.align());
    }

    Map<String, String> digests = elf.sectionDigests();
    ArrayNode sections = root.putArray("sections");
    for (Section sec : elf.sections()) {
      ObjectNode s = sections.addObject();
      s.put("index", sec.index());
      s.put("name", sec.name());
      s.put("type", sec.typeName());
      s.put("flags", hex(sec.flags()));
      s.put("address", hex(sec.address()));
      s.put("offset", sec.offset());
      s.put("size", sec.size());
      String digest = digests.get(sec.name());
      if (digest == null) {
        digest = digests.get(sec.name() + "#" + sec.index());
      }
      if (digest != null) {
        s.put("sha256", digest);
      }
    }

    ObjectNode dynamic = root.putObject("dynamic");
    dynamic.putPOJO("needed", elf.dynamic().needed());
    elf.dynamic()
        .soname()
        .ifPresentOrElse(v -> dynamic.put("soname", v), () -> dynamic.putNull("soname"));
    dynamic.putPOJO("rpath", elf.dynamic().rpath());
    dynamic.putPOJO("runpath", elf.dynamic().runpath());
    dynamic.put("textRelocations", elf.dynamic().textRelocations());
    dynamic.put("flags", hex(elf.dynamic().flags()));
    dynamic.put("flags1", hex(elf.dynamic().flags1()));
    ArrayNode entries = dynamic.putArray("entries");
    for (DynamicEntry e : elf.dynamic().entries()) {
      ObjectNode n = entries.addObject();
      n.put("tag", e.tagName());
      n.put("value", hex(e.value()));
    }
    root.put("symbols", elf.symbols().size());

    ObjectNode checkNode = root.putObject("checks");
    for (ElfCheck c : checks) {
      ObjectNode n = checkNode.putObject(c.result().scope().name());
      n.put("status", c.result().status().name());
      n.put("reason", c.result().reason());
      ArrayNode findings = n.putArray("findings");
      for (Finding f : c.findings()) {
        ObjectNode fn = findings.addObject();
        fn.put("type", f.type().name());
        fn.put("reason", f.reason());
        fn.putPOJO("detail", f.detail());
      }
    }
    return root;
  }

  private void printText(PrintWriter out, ElfFile elf, String sha256, List<ElfCheck> checks) {
    ElfHeader h = elf.header();
    out.printf(
        "%s: %s %s-endian %s %s, entry %s%n",
        path,
        h.className(),
        h.byteOrder().toString().equals("BIG_ENDIAN") ? "big" : "little",
        h.typeName(),
        h.machineName(),
        hex(h.entry()));
    out.printf("  sha256      %s%n", sha256);
    out.printf("  build-id    %s%n", elf.buildId().orElse("(none)"));
    out.printf("  interpreter %s%n", elf.interpreter().orElse("(none)"));
    if (elf.dynamic().present()) {
      out.printf(
          "  needed      %s%n",
          elf.dynamic().needed().isEmpty() ? "(none)" : String.join(" ", elf.dynamic().needed()));
      elf.dynamic().soname().ifPresent(s -> out.printf("  soname      %s%n", s));
      if (!elf.dynamic().rpath().isEmpty()) {
        out.printf("  rpath       %s%n", String.join(":", elf.dynamic().rpath()));
      }
      if (!elf.dynamic().runpath().isEmpty()) {
        out.printf("  runpath     %s%n", String.join(":", elf.dynamic().runpath()));
      }
    }
    out.printf("%nSegments (%d):%n", elf.programHeaders().size());
    out.printf(
        "  %-3s %-14s %-3s %10s %18s %10s %10s%n",
        "#", "type", "flg", "offset", "vaddr", "filesz", "memsz");
    for (ProgramHeader p : elf.programHeaders()) {
      out.printf(
          "  %-3d %-14s %-3s %10s %18s %10s %10s%n",
          p.index(),
          p.typeName(),
          p.flagString(),
          hex(p.offset()),
          hex(p.virtualAddress()),
          hex(p.fileSize()),
          hex(p.memorySize()));
    }
    Map<String, String> digests = elf.sectionDigests();
    out.printf("%nSections (%d):%n", elf.sections().size());
    out.printf(
        "  %-3s %-24s %-12s %10s %10s  %s%n", "#", "name", "type", "offset", "size", "sha256");
    for (Section s : elf.sections()) {
      String digest =
          digests.getOrDefault(s.name(), digests.getOrDefault(s.name() + "#" + s.index(), ""));
      out.printf(
          "  %-3d %-24s %-12s %10s %10s  %s%n",
          s.index(), s.name(), s.typeName(), hex(s.offset()), hex(s.size()), digest);
    }
    out.printf("%nChecks:%n");
    for (ElfCheck c : checks) {
      out.printf(
          "  %-12s %-14s %s%n", c.result().scope(), c.result().status(), c.result().reason());
      for (Finding f : c.findings()) {
        out.printf("    %s: %s%n", f.type(), f.reason());
      }
    }
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
