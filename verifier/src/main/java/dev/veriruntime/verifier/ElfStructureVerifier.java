package dev.veriruntime.verifier;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.ProgramHeader;
import dev.veriruntime.verifier.elf.Section;
import dev.veriruntime.verifier.elf.Shebang;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reference-free part of the {@link Scope#ELF_HEADER} and {@link Scope#ELF_SECTIONS} checks: is
 * this a well-formed executable for this host? Comparing section digests with a reference is the
 * caller's job; this class only says whether the structure can be trusted enough to do so.
 *
 * <p>Structural violations (wrong machine, wrong type, entry point outside executable code,
 * overlapping loads, sections that disagree with the segments that load them) make the scope
 * FAILED. Hardening weaknesses (writable and executable segments, executable stack, text
 * relocations) are reported as findings next to a VERIFIED result: they are facts about a binary
 * that may be exactly the one intended, and policy decides what to do with them.
 *
 * <p>Immutable and thread-safe.
 */
public final class ElfStructureVerifier {
  private static final Set<Integer> RUNNABLE_TYPES = Set.of(ElfHeader.ET_EXEC, ElfHeader.ET_DYN);

  /** {@code load_elf_phdrs} in fs/binfmt_elf.c refuses larger program-header tables. */
  public static final int KERNEL_MAX_PROGRAM_HEADER_BYTES = 65_536;

  private final int expectedMachine;

  /** A verifier expecting {@code e_machine == expectedMachine}. */
  public ElfStructureVerifier(int expectedMachine) {
    this.expectedMachine = expectedMachine;
  }

  /** A verifier expecting the machine this JVM runs on ({@link ElfHeader#hostMachine()}). */
  public static ElfStructureVerifier forHost() {
    return new ElfStructureVerifier(ElfHeader.hostMachine());
  }

  public int expectedMachine() {
    return expectedMachine;
  }

  /** ELF_HEADER: identification, machine, type, entry point, program headers. */
  public ElfCheck checkHeader(ElfFile elf) {
    ElfHeader h = elf.header();
    Scope scope = Scope.ELF_HEADER;
    List<Finding> failures = new ArrayList<>(identificationFailures(h));
    long phBytes = (long) h.programHeaderCount() * h.programHeaderEntrySize();
    if (phBytes > KERNEL_MAX_PROGRAM_HEADER_BYTES) {
      // Also keeps the checks below cheap: a hostile file cannot make them quadratic.
      failures.add(
          malformed(
              scope,
              "program-header table of "
                  + phBytes
                  + " bytes is larger than the kernel loads ("
                  + KERNEL_MAX_PROGRAM_HEADER_BYTES
                  + ")"));
      return failed(scope, failures);
    }
    failures.addAll(loadFailures(elf));
    List<Finding> notes = hardeningNotes(elf);
    if (!failures.isEmpty()) {
      List<Finding> all = new ArrayList<>(failures);
      all.addAll(notes);
      return failed(scope, all);
    }
    return new ElfCheck(
        ScopeResult.verified(scope, h.className() + " " + h.typeName() + " " + h.machineName()),
        notes);
  }

  /** Machine, type and version: is this an executable for this host at all? */
  private List<Finding> identificationFailures(ElfHeader h) {
    Scope scope = Scope.ELF_HEADER;
    List<Finding> failures = new ArrayList<>();
    if (h.machine() != expectedMachine) {
      failures.add(
          new Finding(
              FindingType.WRONG_MACHINE,
              scope,
              "e_machine "
                  + h.machine()
                  + " ("
                  + h.machineName()
                  + ") is not this host's "
                  + expectedMachine
                  + " ("
                  + ElfHeader.machineName(expectedMachine)
                  + ")",
              Map.of(
                  "machine",
                  Integer.toString(h.machine()),
                  "expected",
                  Integer.toString(expectedMachine))));
    }
    if (!RUNNABLE_TYPES.contains(h.type())) {
      failures.add(malformed(scope, "e_type " + h.typeName() + " is neither EXEC nor DYN"));
    }
    if (h.version() != 1) {
      failures.add(malformed(scope, "e_version " + h.version() + " is not 1 (EV_CURRENT)"));
    }
    return failures;
  }

  /** PT_LOAD segments: at least one, the entry point in executable file bytes, no overlaps. */
  private static List<Finding> loadFailures(ElfFile elf) {
    ElfHeader h = elf.header();
    Scope scope = Scope.ELF_HEADER;
    List<Finding> failures = new ArrayList<>();
    List<ProgramHeader> loads = elf.loadSegments();
    if (loads.isEmpty()) {
      failures.add(malformed(scope, "no PT_LOAD segment"));
    }
    boolean entryRequired = h.type() == ElfHeader.ET_EXEC || h.entry() != 0;
    if (entryRequired && !loads.isEmpty() && !entryInExecutableLoad(h.entry(), loads)) {
      failures.add(
          new Finding(
              FindingType.MALFORMED_ELF,
              scope,
              "entry point 0x"
                  + Long.toHexString(h.entry())
                  + " is not inside the file bytes of an executable PT_LOAD",
              Map.of("entry", "0x" + Long.toHexString(h.entry()))));
    }
    overlappingLoads(loads).ifPresent(failures::add);
    return failures;
  }

  /**
   * Writable and executable segments, an executable stack, text relocations: findings, not failures
   * (see the class comment).
   */
  private static List<Finding> hardeningNotes(ElfFile elf) {
    Scope scope = Scope.ELF_HEADER;
    List<Finding> notes = new ArrayList<>();
    for (ProgramHeader p : elf.programHeaders()) {
      if (p.isLoad() && p.isWritable() && p.isExecutable()) {
        notes.add(
            new Finding(
                FindingType.WRITABLE_EXECUTABLE_SEGMENT,
                scope,
                String.format(
                    "PT_LOAD segment %d at 0x%x (%d bytes) is writable and executable",
                    p.index(), p.virtualAddress(), p.memorySize()),
                Map.of(
                    "segment",
                    Integer.toString(p.index()),
                    "vaddr",
                    "0x" + Long.toHexString(p.virtualAddress()))));
      }
      if (p.type() == ProgramHeader.PT_GNU_STACK && p.isExecutable()) {
        notes.add(
            new Finding(
                FindingType.EXECUTABLE_STACK,
                scope,
                "PT_GNU_STACK (segment " + p.index() + ") requests an executable stack",
                Map.of("segment", Integer.toString(p.index()))));
      }
    }
    if (elf.dynamic().textRelocations()) {
      notes.add(
          new Finding(
              FindingType.TEXT_RELOCATIONS,
              scope,
              "dynamic section has DT_TEXTREL: the loader writes into code pages"));
    }
    return notes;
  }

  private static boolean entryInExecutableLoad(long entry, List<ProgramHeader> loads) {
    for (ProgramHeader p : loads) {
      if (p.isExecutable()
          && Long.compareUnsigned(entry, p.virtualAddress()) >= 0
          && Long.compareUnsigned(entry - p.virtualAddress(), p.fileSize()) < 0) {
        return true;
      }
    }
    return false;
  }

  private static java.util.Optional<Finding> overlappingLoads(List<ProgramHeader> loads) {
    List<ProgramHeader> sorted = new ArrayList<>(loads);
    sorted.sort(Comparator.comparing(ProgramHeader::virtualAddress, Long::compareUnsigned));
    for (int i = 1; i < sorted.size(); i++) {
      ProgramHeader a = sorted.get(i - 1);
      ProgramHeader b = sorted.get(i);
      long aEnd = a.virtualAddress() + a.memorySize();
      if (a.memorySize() > 0 && Long.compareUnsigned(b.virtualAddress(), aEnd) < 0) {
        return java.util.Optional.of(
            new Finding(
                FindingType.MALFORMED_ELF,
                Scope.ELF_HEADER,
                String.format(
                    "PT_LOAD segments %d [0x%x, 0x%x) and %d [0x%x, ...) overlap",
                    a.index(), a.virtualAddress(), aEnd, b.index(), b.virtualAddress()),
                Map.of(
                    "segment", Integer.toString(a.index()), "other", Integer.toString(b.index()))));
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * ELF_SECTIONS: the section table exists, names are printable, and every allocated section lies
   * in the file bytes of the PT_LOAD that maps its address (so section digests describe what is
   * actually loaded). NOT_VERIFIED when there is no section table to check.
   */
  public ElfCheck checkSections(ElfFile elf) {
    Scope scope = Scope.ELF_SECTIONS;
    List<Section> sections = elf.sections();
    if (sections.isEmpty()) {
      return new ElfCheck(
          ScopeResult.notVerified(
              scope, "no section-header table: per-section digests cannot be computed"),
          List.of());
    }
    List<Finding> failures = new ArrayList<>();
    boolean runnable = RUNNABLE_TYPES.contains(elf.header().type());
    long phBytes = (long) elf.header().programHeaderCount() * elf.header().programHeaderEntrySize();
    if (runnable && phBytes > KERNEL_MAX_PROGRAM_HEADER_BYTES) {
      return new ElfCheck(
          ScopeResult.failed(
              scope,
              "program-header table of "
                  + phBytes
                  + " bytes is larger than the kernel loads; section placement not checked"),
          List.of());
    }
    List<ProgramHeader> loads = elf.loadSegments();
    for (Section s : sections) {
      if (s.index() == 0) {
        continue;
      }
      if (!printableName(s.name())) {
        failures.add(
            sectionFinding(s, "section " + s.index() + " has an unprintable or empty name"));
        continue;
      }
      if (runnable
          && s.isAlloc()
          && s.hasFileBytes()
          && s.size() > 0
          && !loadedWhereItSays(loads, s)) {
        failures.add(
            sectionFinding(
                s,
                String.format(
                    "section %s [offset 0x%x, size 0x%x, addr 0x%x] is not loaded at its address by any"
                        + " PT_LOAD",
                    s.name(), s.offset(), s.size(), s.address())));
      }
    }
    if (!failures.isEmpty()) {
      return failed(scope, failures);
    }
    return new ElfCheck(ScopeResult.verified(scope, sections.size() + " sections"), List.of());
  }

  private static boolean loadedWhereItSays(List<ProgramHeader> loads, Section s) {
    for (ProgramHeader p : loads) {
      if (s.offset() >= p.offset()
          && s.offset() - p.offset() <= p.fileSize()
          && s.size() <= p.fileSize() - (s.offset() - p.offset())
          && s.address() == p.virtualAddress() + (s.offset() - p.offset())) {
        return true;
      }
    }
    return false;
  }

  private static boolean printableName(String name) {
    if (name.isEmpty() || name.length() > 255) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** FAILED, with the first finding as the reason; findings that fail come first in the list. */
  private static ElfCheck failed(Scope scope, List<Finding> findings) {
    long failing =
        findings.stream()
            .filter(
                f -> f.type() == FindingType.MALFORMED_ELF || f.type() == FindingType.WRONG_MACHINE)
            .count();
    String reason =
        findings.get(0).reason() + (failing > 1 ? " (and " + (failing - 1) + " more)" : "");
    return new ElfCheck(ScopeResult.failed(scope, reason), findings);
  }

  private static Finding sectionFinding(Section s, String reason) {
    return new Finding(
        FindingType.MALFORMED_ELF,
        Scope.ELF_SECTIONS,
        reason,
        Map.of("section", s.name(), "index", Integer.toString(s.index())));
  }

  private static Finding malformed(Scope scope, String reason) {
    return new Finding(FindingType.MALFORMED_ELF, scope, reason);
  }

  /** The result for a file {@link ElfReader} rejected: FAILED with a MALFORMED_ELF finding. */
  public static ElfCheck malformed(Scope scope, MalformedElfException e) {
    Finding f = new Finding(FindingType.MALFORMED_ELF, scope, e.getMessage());
    return new ElfCheck(ScopeResult.failed(scope, "malformed ELF: " + e.getMessage()), List.of(f));
  }

  /** The result for a {@code #!} script: ELF scopes do not apply; the interpreter is named. */
  public static ElfCheck script(Scope scope, Shebang shebang) {
    Finding f =
        new Finding(
            FindingType.SCRIPT_INTERPRETER,
            scope,
            "script run by " + shebang.interpreter(),
            Map.of("interpreter", shebang.interpreter()));
    return new ElfCheck(
        ScopeResult.notApplicable(scope, "#! script: interpreter " + shebang.interpreter()),
        List.of(f));
  }
}
