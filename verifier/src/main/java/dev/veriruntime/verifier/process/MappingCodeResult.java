package dev.veriruntime.verifier.process;

import java.util.Objects;
import java.util.Optional;

/**
 * What comparing one executable mapping with its file found.
 *
 * @param mapping the mapping compared
 * @param outcome the kind of result
 * @param bytesCompared bytes of memory compared
 * @param reason one line, human readable; empty for {@link Outcome#MATCHES}
 * @param difference the first differing byte, for {@link Outcome#MODIFIED}, {@link
 *     Outcome#TEXT_RELOCATIONS} and {@link Outcome#WRITABLE_DATA_CHANGED}
 * @param section the section holding that byte, when the file has a section table
 * @param symbol the symbol holding that byte as {@code name+0xoffset}, when the file has symbols
 */
public record MappingCodeResult(
    MemoryMapping mapping,
    Outcome outcome,
    long bytesCompared,
    String reason,
    Optional<CodeDifference> difference,
    Optional<String> section,
    Optional<String> symbol) {

  /** Outcomes, from clean to inconclusive. */
  public enum Outcome {
    /** Every byte backed by the file equals it, and the rest of the last page is zero. */
    MATCHES,
    /** Code differs from the file: patched in memory. */
    MODIFIED,
    /**
     * Differs, but the file has text relocations ({@code DT_TEXTREL}): the loader writes code
     * pages.
     */
    TEXT_RELOCATIONS,
    /**
     * Differs outside code sections of a writable and executable mapping (data in an RWX segment).
     */
    WRITABLE_DATA_CHANGED,
    /** The mapped file could not be opened as itself. */
    FILE_UNAVAILABLE,
    /** Memory that the file backs could not be read. */
    MEMORY_UNREADABLE,
    /** The mapping went away (library unloaded) before it was compared. */
    UNMAPPED
  }

  public MappingCodeResult {
    Objects.requireNonNull(mapping, "mapping");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(difference, "difference");
    Objects.requireNonNull(section, "section");
    Objects.requireNonNull(symbol, "symbol");
  }
}
