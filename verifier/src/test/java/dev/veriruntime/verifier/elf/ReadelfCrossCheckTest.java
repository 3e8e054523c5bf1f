package dev.veriruntime.verifier.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.veriruntime.verifier.ElfCheck;
import dev.veriruntime.verifier.ElfStructureVerifier;
import dev.veriruntime.verifier.ScopeStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reads a deterministic sample of the host's ELF files and compares every section and segment with
 * what binutils readelf says. The sample is every k-th ELF file, in path order, of /usr/bin and
 * /usr/lib, so the same host gives the same sample.
 */
class ReadelfCrossCheckTest {
  private static final int SAMPLE = Integer.getInteger("veriruntime.readelf.sample", 250);
  private static final long MAX_FILE = 64L << 20;

  private static List<Path> sample;

  @BeforeAll
  static void pickSample() throws IOException {
    assumeTrue(Readelf.available(), "binutils readelf is not installed");
    List<Path> elves = new ArrayList<>();
    for (String root : List.of("/usr/bin", "/usr/lib")) {
      Path r = Path.of(root);
      if (!Files.isDirectory(r)) {
        continue;
      }
      try (Stream<Path> walk = Files.walk(r, 8)) {
        // Separate debug files (/usr/lib/debug) keep a program's headers but not its bytes: not
        // loadable, so the header check is right to refuse them; they are no sample of programs.
        walk.filter(p -> !p.startsWith("/usr/lib/debug"))
            .filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
            .filter(ReadelfCrossCheckTest::isElf)
            .forEach(elves::add);
      }
    }
    elves.sort(null);
    int stride = Math.max(1, elves.size() / SAMPLE);
    sample = new ArrayList<>();
    for (int i = 0; i < elves.size() && sample.size() < SAMPLE; i += stride) {
      sample.add(elves.get(i));
    }
  }

  private static boolean isElf(Path p) {
    try {
      if (Files.size(p) > MAX_FILE || Files.size(p) < 64) {
        return false;
      }
      try (InputStream in = Files.newInputStream(p)) {
        byte[] m = in.readNBytes(4);
        return m.length == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
      }
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void everySectionAndSegmentAgreesWithReadelf() throws Exception {
    assertThat(sample).as("ELF files found under /usr/bin and /usr/lib").hasSizeGreaterThan(200);
    List<String> mismatches = new ArrayList<>();
    ElfReader reader = ElfReader.create(ElfReader.Feature.SYMBOLS);
    ElfStructureVerifier verifier = ElfStructureVerifier.forHost();
    int sections = 0;
    int segments = 0;
    for (Path file : sample) {
      Readelf expected = Readelf.of(file);
      ElfFile elf;
      try {
        elf = reader.read(file);
      } catch (MalformedElfException e) {
        mismatches.add(file + ": rejected: " + e.getMessage());
        continue;
      }
      compare(file, elf, expected, mismatches);
      sections += elf.sections().size();
      segments += elf.programHeaders().size();
      int type = elf.header().type();
      if ((type == ElfHeader.ET_EXEC || type == ElfHeader.ET_DYN)
          && elf.header().machine() == verifier.expectedMachine()) {
        ElfCheck header = verifier.checkHeader(elf);
        ElfCheck secs = verifier.checkSections(elf);
        if (header.result().status() != ScopeStatus.VERIFIED) {
          mismatches.add(file + ": header check " + header.result());
        }
        if (secs.result().status() == ScopeStatus.FAILED) {
          mismatches.add(file + ": section check " + secs.result());
        }
      }
    }
    System.out.printf(
        "readelf cross-check: %d files, %d sections, %d segments%n",
        sample.size(), sections, segments);
    assertThat(mismatches).isEmpty();
  }

  static void compare(Path file, ElfFile elf, Readelf expected, List<String> out) {
    if (expected.sections().size() != elf.sections().size()) {
      out.add(
          file + ": " + elf.sections().size() + " sections, readelf " + expected.sections().size());
    } else {
      for (int i = 0; i < elf.sections().size(); i++) {
        Section s = elf.sections().get(i);
        Readelf.Sec e = expected.sections().get(i);
        boolean typeKnown = !s.typeName().startsWith("0x");
        if (!s.name().equals(e.name())
            || (typeKnown && !s.typeName().equals(e.type()))
            || s.offset() != e.offset()
            || s.size() != e.size()
            || s.address() != e.address()) {
          out.add(file + ": section " + i + " " + s + " vs readelf " + e);
        }
      }
    }
    if (expected.segments().size() != elf.programHeaders().size()) {
      out.add(
          file
              + ": "
              + elf.programHeaders().size()
              + " segments, readelf "
              + expected.segments().size());
    } else {
      for (int i = 0; i < elf.programHeaders().size(); i++) {
        ProgramHeader p = elf.programHeaders().get(i);
        Readelf.Seg e = expected.segments().get(i);
        boolean typeKnown = !p.typeName().startsWith("0x");
        if ((typeKnown && !p.typeName().equals(e.type()))
            || p.offset() != e.offset()
            || p.virtualAddress() != e.vaddr()
            || p.physicalAddress() != e.paddr()
            || p.fileSize() != e.filesz()
            || p.memorySize() != e.memsz()
            || !p.flagString().equals(e.flags())
            || p.align() != e.align()) {
          out.add(file + ": segment " + i + " " + p + " vs readelf " + e);
        }
      }
    }
    if (!elf.interpreter().orElse("").equals(nullToEmpty(expected.interpreter()))) {
      out.add(file + ": interpreter " + elf.interpreter() + " vs " + expected.interpreter());
    }
    if (!elf.dynamic().needed().equals(expected.needed())) {
      out.add(file + ": needed " + elf.dynamic().needed() + " vs " + expected.needed());
    }
    if (!elf.dynamic().soname().orElse("").equals(nullToEmpty(expected.soname()))) {
      out.add(file + ": soname " + elf.dynamic().soname() + " vs " + expected.soname());
    }
    if (!String.join(":", elf.dynamic().runpath()).equals(nullToEmpty(expected.runpath()))) {
      out.add(file + ": runpath " + elf.dynamic().runpath() + " vs " + expected.runpath());
    }
    if (!elf.buildId().orElse("").equals(nullToEmpty(expected.buildId()))) {
      out.add(file + ": build-id " + elf.buildId() + " vs " + expected.buildId());
    }
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
