package dev.veriruntime.verifier.elf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.ElfStructureVerifier;
import dev.veriruntime.verifier.Scope;

/**
 * Jazzer target for {@link ElfReader}: any input must end in an {@link ElfFile} or a {@link
 * MalformedElfException}. Any other exception, a hang or an out-of-memory is a finding.
 *
 * <p>Under plain {@code mvn test} this runs the seed corpus in
 * src/test/resources/dev/veriruntime/verifier/elf/ElfReaderFuzzTestInputs/readArbitraryBytes
 * (regression mode); with {@code JAZZER_FUZZ=1} it fuzzes (see verifier/README.md).
 */
class ElfReaderFuzzTest {
  private static final ElfReader READER = ElfReader.full();
  private static final ElfStructureVerifier VERIFIER = ElfStructureVerifier.forHost();

  @FuzzTest(maxDuration = "5m")
  void readArbitraryBytes(byte[] input) {
    Shebang.parse(input);
    ElfFile elf;
    try {
      elf = READER.read(input);
    } catch (MalformedElfException expected) {
      ElfStructureVerifier.malformed(Scope.ELF_HEADER, expected);
      return;
    }
    // Whatever the reader accepted must be safe to query.
    VERIFIER.checkHeader(elf);
    VERIFIER.checkSections(elf);
    long entry = elf.header().entry();
    elf.symbolAtAddress(entry);
    elf.sectionAtAddress(entry);
    elf.addressToOffset(entry).ifPresent(elf::symbolAtOffset);
    elf.sectionAtOffset(input.length / 2);
    elf.sectionDigests();
    elf.toString();
  }
}
