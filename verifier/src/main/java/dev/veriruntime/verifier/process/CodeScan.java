package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.ElfSymbol;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.Section;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A resumable {@link Scope#MEMORY_CODE} check of one process: every executable file-backed mapping
 * compared with its file, in bounded steps, so that re-attestation of a long-running process can
 * run under a byte budget and still cover all of its code over time.
 *
 * <p>Each {@link #advance(long)} re-opens the process's memory and checks that the pid still names
 * the same process (its start time), so a scan spread over minutes never mixes two processes. When
 * the process exits or access is refused the scan ends with {@link
 * dev.veriruntime.verifier.ScopeStatus#NOT_VERIFIED} and the reason; it never ends VERIFIED without
 * having compared every mapping that still exists.
 *
 * <p>Thread-safe: {@link #advance} and the accessors are synchronized; one scan is meant to be
 * advanced by one worker at a time.
 *
 * <pre>{@code
 * CodeScan scan = CodeScan.start(ProcFs.host(), pid, new MemoryCodeComparator(), ProcMemReader::open);
 * while (!scan.complete()) {
 *   scan.advance(budgetBytes); // e.g. once per second
 * }
 * ScopeResult code = scan.result();
 * }</pre>
 */
public final class CodeScan {
  private static final ElfReader SYMBOL_READER = ElfReader.create(ElfReader.Feature.SYMBOLS);

  private final ProcFs procFs;
  private final int pid;
  private final long startTicks;
  private final List<MemoryMapping> mappings;
  private final MemoryCodeComparator comparator;
  private final ProcessMemory.Opener opener;
  private final long plannedBytes;

  private final List<MappingCodeResult> results = new ArrayList<>();
  private int index;
  private long position;
  private long bytesInMapping;
  private long bytesCompared;
  private long toleratedInMapping;
  private TextRelocations
      tolerance; // set once a difference shows the current mapping's file has DT_TEXTREL
  private Finding abort; // process gone or access refused: ends the scan

  private CodeScan(
      ProcFs procFs,
      int pid,
      long startTicks,
      List<MemoryMapping> mappings,
      MemoryCodeComparator comparator,
      ProcessMemory.Opener opener) {
    this.procFs = procFs;
    this.pid = pid;
    this.startTicks = startTicks;
    this.mappings = List.copyOf(mappings);
    this.comparator = comparator;
    this.opener = opener;
    this.plannedBytes = this.mappings.stream().mapToLong(MemoryMapping::length).sum();
  }

  /**
   * A scan of the executable file-backed mappings now listed in {@code /proc/PID/maps}.
   *
   * @throws ProcessGoneException if there is no such process
   * @throws AccessDeniedException if its maps cannot be read
   */
  public static CodeScan start(
      ProcFs procFs, int pid, MemoryCodeComparator comparator, ProcessMemory.Opener opener)
      throws IOException {
    long ticks = procFs.startTicks(pid);
    return of(procFs, pid, ticks, procFs.maps(pid), comparator, opener);
  }

  /**
   * A scan of those of {@code mappings} that are executable and file-backed (others are ignored),
   * for the process {@code pid} that started at {@code startTicks}.
   */
  public static CodeScan of(
      ProcFs procFs,
      int pid,
      long startTicks,
      List<MemoryMapping> mappings,
      MemoryCodeComparator comparator,
      ProcessMemory.Opener opener) {
    List<MemoryMapping> code =
        mappings.stream().filter(m -> m.executable() && m.fileBacked()).toList();
    return new CodeScan(procFs, pid, startTicks, code, comparator, opener);
  }

  public int pid() {
    return pid;
  }

  public long startTicks() {
    return startTicks;
  }

  /** The mappings this scan compares, in address order. */
  public List<MemoryMapping> mappings() {
    return mappings;
  }

  /** Upper bound of the bytes a full scan reads: the summed length of the mappings. */
  public long plannedBytes() {
    return plannedBytes;
  }

  public synchronized long bytesCompared() {
    return bytesCompared;
  }

  public synchronized boolean complete() {
    return abort != null || index >= mappings.size();
  }

  /**
   * Compares up to about {@code maxBytes} more bytes (at least one page, so progress is guaranteed)
   * and returns how many bytes of memory were read. Does nothing once {@link #complete()}.
   */
  public synchronized long advance(long maxBytes) {
    if (complete()) {
      return 0;
    }
    long budget = Math.max(maxBytes, 4096);
    long used = 0;
    try {
      if (procFs.startTicks(pid) != startTicks) {
        throw new ProcessGoneException(
            pid, "process " + pid + " exited (its pid now names another process)");
      }
      try (ProcessMemory memory = opener.open(pid)) {
        while (index < mappings.size() && used < budget) {
          used += step(memory, budget - used);
        }
      }
    } catch (ProcessGoneException e) {
      abort =
          new Finding(
              FindingType.PROCESS_GONE,
              Scope.MEMORY_CODE,
              "process exited before its code could be compared: " + e.getMessage(),
              Map.of("pid", Integer.toString(pid)));
    } catch (AccessDeniedException e) {
      abort =
          new Finding(
              FindingType.READ_REFUSED,
              Scope.MEMORY_CODE,
              "reading the memory of process "
                  + pid
                  + " was refused: "
                  + e.getFile()
                  + (e.getReason() == null ? "" : " (" + e.getReason() + ")"),
              Map.of("pid", Integer.toString(pid), "file", e.getFile()));
    } catch (IOException e) {
      abort =
          new Finding(
              FindingType.READ_REFUSED,
              Scope.MEMORY_CODE,
              "reading the memory of process " + pid + " failed: " + e.getMessage(),
              Map.of("pid", Integer.toString(pid)));
    }
    bytesCompared += used;
    return used;
  }

  /** One bounded step within the current mapping; moves to the next mapping when it is done. */
  private long step(ProcessMemory memory, long budget) throws IOException {
    MemoryMapping m = mappings.get(index);
    try (ProcFs.MappedFile file = procFs.openMapped(pid, m)) {
      MemoryCodeComparator.Step s;
      try {
        s =
            comparator.compare(
                memory,
                m,
                file.channel(),
                position,
                budget,
                tolerance == null ? MemoryCodeComparator.Tolerance.NONE : tolerance::covers);
      } catch (UnreadableMemoryException e) {
        finish(result(m, MappingCodeResult.Outcome.MEMORY_UNREADABLE, e.getMessage()));
        return 0;
      }
      position = s.position();
      bytesInMapping += s.bytesCompared();
      toleratedInMapping += s.toleratedBytes();
      if (s.difference().isPresent()) {
        judgeDifference(m, file, s.difference().get());
      } else if (s.done()) {
        finishCompared(m);
      }
      return s.bytesCompared();
    } catch (MappedFileUnavailableException e) {
      boolean stillMapped =
          procFs.maps(pid).stream()
              .anyMatch(
                  x -> x.start() == m.start() && x.end() == m.end() && x.inode() == m.inode());
      finish(
          stillMapped
              ? result(m, MappingCodeResult.Outcome.FILE_UNAVAILABLE, e.getMessage())
              : result(m, MappingCodeResult.Outcome.UNMAPPED, "unmapped before it was compared"));
      return 0;
    }
  }

  /**
   * A byte differs from the file: the mapping's result, unless the file has text relocations and
   * the byte is one of their targets (then those targets are tolerated from here on).
   */
  private void judgeDifference(MemoryMapping m, ProcFs.MappedFile file, CodeDifference d)
      throws IOException {
    ElfFile elf = readElf(file);
    if (tolerance == null && elf != null && elf.dynamic().textRelocations()) {
      // The loader wrote relocation targets into this file's code: from here on, accept exactly
      // those bytes.
      tolerance = TextRelocations.read(elf, file.channel());
      if (tolerance.covers(d.fileOffset())) {
        return;
      }
    }
    finish(classify(m, elf, d));
  }

  /** The whole mapping was compared without a difference that counts. */
  private void finishCompared(MemoryMapping m) {
    if (toleratedInMapping == 0) {
      finish(result(m, MappingCodeResult.Outcome.MATCHES, ""));
      return;
    }
    finish(
        result(
            m,
            MappingCodeResult.Outcome.TEXT_RELOCATIONS,
            String.format(
                "%d byte(s) of %s differ from the file, all at targets of its %d dynamic"
                    + " relocations (the file has text relocations, DT_TEXTREL): the loader"
                    + " writes them, so their values cannot be compared with the file; every"
                    + " other byte matches",
                toleratedInMapping, m.pathname(), tolerance.size())));
  }

  /** A result without a difference to locate. */
  private MappingCodeResult result(
      MemoryMapping m, MappingCodeResult.Outcome outcome, String reason) {
    return new MappingCodeResult(
        m, outcome, bytesInMapping, reason, Optional.empty(), Optional.empty(), Optional.empty());
  }

  private void finish(MappingCodeResult r) {
    results.add(r);
    index++;
    position = 0;
    bytesInMapping = 0;
    toleratedInMapping = 0;
    tolerance = null;
  }

  private static ElfFile readElf(ProcFs.MappedFile file) throws IOException {
    try {
      return SYMBOL_READER.read(file.channel());
    } catch (MalformedElfException e) {
      return null; // not ELF (or damaged): the difference stands, just without section and symbol
    }
  }

  private MappingCodeResult classify(MemoryMapping m, ElfFile elf, CodeDifference d) {
    Optional<Section> section =
        elf == null ? Optional.empty() : elf.sectionAtOffset(d.fileOffset());
    Optional<String> symbol = elf == null ? Optional.empty() : symbolName(elf, d.fileOffset());
    String where =
        String.format("0x%x", d.address())
            + (section.isPresent() || symbol.isPresent()
                ? " ("
                    + String.join(", ", section.map(Section::name).stream().toList())
                    + (section.isPresent() && symbol.isPresent() ? " " : "")
                    + symbol.orElse("")
                    + ")"
                : "");
    String what =
        d.pastEndOfFile()
            ? String.format(
                "memory at %s in %s is 0x%02x past the end of the file, where the kernel maps"
                    + " zeros",
                where, m.pathname(), d.memoryByte())
            : String.format(
                "code at %s in %s differs from file offset 0x%x: memory 0x%02x, file 0x%02x",
                where, m.pathname(), d.fileOffset(), d.memoryByte(), d.fileByte());
    MappingCodeResult.Outcome outcome = MappingCodeResult.Outcome.MODIFIED;
    if (tolerance != null) {
      what += " (outside the targets of the file's text relocations)";
    } else if (elf != null && m.writable() && section.map(s -> !s.isExecutable()).orElse(true)) {
      outcome = MappingCodeResult.Outcome.WRITABLE_DATA_CHANGED;
      what +=
          "; the mapping is writable and the byte is outside code sections (data in a writable"
              + " executable segment)";
    }
    return new MappingCodeResult(
        m, outcome, bytesInMapping, what, Optional.of(d), section.map(Section::name), symbol);
  }

  private static Optional<String> symbolName(ElfFile elf, long fileOffset) {
    Optional<ElfSymbol> sym = elf.symbolAtOffset(fileOffset);
    if (sym.isEmpty()) {
      return Optional.empty();
    }
    long vaddr = elf.offsetToAddress(fileOffset).orElse(sym.get().value());
    long delta = vaddr - sym.get().value();
    return Optional.of(sym.get().name() + (delta == 0 ? "" : "+0x" + Long.toHexString(delta)));
  }

  /** Per-mapping results so far, in the order the mappings were compared. */
  public synchronized List<MappingCodeResult> mappingResults() {
    return List.copyOf(results);
  }

  /**
   * The MEMORY_CODE result: FAILED if any code was modified; else NOT_VERIFIED if the scan is
   * incomplete, ended early, or any mapping could not be compared or legitimately differs; else
   * VERIFIED.
   */
  public synchronized ScopeResult result() {
    List<MappingCodeResult> modified =
        results.stream().filter(r -> r.outcome() == MappingCodeResult.Outcome.MODIFIED).toList();
    if (!modified.isEmpty()) {
      return ScopeResult.failed(
          Scope.MEMORY_CODE,
          modified.size() + " mapping(s) modified in memory; first: " + modified.get(0).reason());
    }
    if (abort != null) {
      return ScopeResult.notVerified(Scope.MEMORY_CODE, abort.reason());
    }
    if (index < mappings.size()) {
      return ScopeResult.notVerified(
          Scope.MEMORY_CODE,
          "scan incomplete: "
              + index
              + " of "
              + mappings.size()
              + " mappings compared ("
              + bytesCompared
              + " bytes)");
    }
    List<MappingCodeResult> unclear =
        results.stream()
            .filter(
                r ->
                    r.outcome() != MappingCodeResult.Outcome.MATCHES
                        && r.outcome() != MappingCodeResult.Outcome.UNMAPPED)
            .toList();
    if (!unclear.isEmpty()) {
      return ScopeResult.notVerified(
          Scope.MEMORY_CODE,
          unclear.size()
              + " mapping(s) could not be vouched for; first: "
              + unclear.get(0).reason());
    }
    long unmapped =
        results.stream().filter(r -> r.outcome() == MappingCodeResult.Outcome.UNMAPPED).count();
    return ScopeResult.verified(
        Scope.MEMORY_CODE,
        results.size()
            - unmapped
            + " executable mappings, "
            + bytesCompared
            + " bytes equal to their files"
            + (unmapped == 0 ? "" : " (" + unmapped + " unmapped before comparison)"));
  }

  /** One finding per mapping that did not match, plus why the scan ended early if it did. */
  public synchronized List<Finding> findings() {
    List<Finding> out = new ArrayList<>();
    for (MappingCodeResult r : results) {
      FindingType type =
          switch (r.outcome()) {
            case MATCHES, UNMAPPED -> null;
            case MODIFIED -> FindingType.CODE_MODIFIED;
            case TEXT_RELOCATIONS -> FindingType.TEXT_RELOCATIONS;
            case WRITABLE_DATA_CHANGED -> FindingType.WRITABLE_EXECUTABLE_SEGMENT;
            case FILE_UNAVAILABLE, MEMORY_UNREADABLE -> FindingType.READ_REFUSED;
          };
      if (type == null) {
        continue;
      }
      Map<String, String> detail = new LinkedHashMap<>();
      detail.put("path", r.mapping().filePath());
      detail.put("mapping", r.mapping().describe());
      r.difference()
          .ifPresent(
              d -> {
                detail.put("address", String.format("0x%x", d.address()));
                detail.put("fileOffset", String.format("0x%x", d.fileOffset()));
                detail.put("memoryByte", String.format("0x%02x", d.memoryByte()));
                detail.put("fileByte", String.format("0x%02x", d.fileByte()));
              });
      r.section().ifPresent(s -> detail.put("section", s));
      r.symbol().ifPresent(s -> detail.put("symbol", s));
      out.add(new Finding(type, Scope.MEMORY_CODE, r.reason(), detail));
    }
    if (abort != null) {
      out.add(abort);
    }
    return out;
  }
}
