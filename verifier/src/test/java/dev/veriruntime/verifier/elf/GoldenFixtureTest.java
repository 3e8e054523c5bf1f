package dev.veriruntime.verifier.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.veriruntime.verifier.ElfCheck;
import dev.veriruntime.verifier.ElfStructureVerifier;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.hash.Sha256;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The golden fixtures built by src/test/fixtures/elf/build.sh, against the values it recorded. */
class GoldenFixtureTest {
  private static final ElfReader FULL = ElfReader.full();
  private static final ElfStructureVerifier X86_64 = new ElfStructureVerifier(ElfHeader.EM_X86_64);

  static String[] fixtures() {
    return Fixtures.ALL;
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void fileDigestBuildIdAndSectionDigestsMatchTheRecordedValues(String name) throws Exception {
    ElfFile fromPath = FULL.read(Fixtures.path(name));
    ElfFile fromBytes = FULL.read(Fixtures.bytes(name));

    assertThat(Sha256.hex(Fixtures.path(name))).isEqualTo(Fixtures.expected(name + ".sha256"));
    assertThat(fromPath.buildId().orElse("")).isEqualTo(Fixtures.expected(name + ".build-id"));
    assertThat(fromPath.sectionDigests()).isEqualTo(Fixtures.sectionDigests(name));
    assertThat(fromBytes.sectionDigests()).isEqualTo(fromPath.sectionDigests());
    assertThat(fromBytes.sections()).isEqualTo(fromPath.sections());
    assertThat(fromBytes.programHeaders()).isEqualTo(fromPath.programHeaders());
    assertThat(fromBytes.symbols()).isEqualTo(fromPath.symbols());
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void agreesWithReadelf(String name) throws Exception {
    assumeThat(Readelf.available()).as("readelf installed").isTrue();
    List<String> mismatches = new ArrayList<>();
    ReadelfCrossCheckTest.compare(
        Fixtures.path(name),
        FULL.read(Fixtures.path(name)),
        Readelf.of(Fixtures.path(name)),
        mismatches);
    assertThat(mismatches).isEmpty();
  }

  @Test
  void staticExecutable() throws Exception {
    ElfFile elf = FULL.read(Fixtures.path("hello-static"));
    assertThat(elf.header().type()).isEqualTo(ElfHeader.ET_EXEC);
    assertThat(elf.header().is64Bit()).isTrue();
    assertThat(elf.interpreter()).isEmpty();
    assertThat(elf.dynamic().present()).isFalse();
    assertThat(elf.sectionDigests()).containsKeys(".text", ".rodata", ".data", ".init", ".fini");
    assertThat(X86_64.checkHeader(elf).result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(X86_64.checkSections(elf).result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertSymbolLookups(elf, "hello-static", "fixture_marker");
    assertSymbolLookups(elf, "hello-static", "main");
  }

  @Test
  void positionIndependentExecutable() throws Exception {
    ElfFile elf = FULL.read(Fixtures.path("hello-pie"));
    assertThat(elf.header().type()).isEqualTo(ElfHeader.ET_DYN);
    assertThat(elf.interpreter()).contains("/lib64/ld-linux-x86-64.so.2");
    assertThat(elf.dynamic().needed()).containsExactly("libc.so.6");
    assertThat(elf.dynamic().flags1() & DynamicEntry.DF_1_PIE).isNotZero();
    assertThat(elf.dynamic().textRelocations()).isFalse();
    ElfCheck header = X86_64.checkHeader(elf);
    assertThat(header.result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(header.findings()).isEmpty();
    assertSymbolLookups(elf, "hello-pie", "fixture_marker");

    // Offsets and addresses convert both ways, and land in the right section.
    long[] marker = Fixtures.symbol("hello-pie", "fixture_marker");
    OptionalLong offset = elf.addressToOffset(marker[0]);
    assertThat(offset).isPresent();
    assertThat(elf.offsetToAddress(offset.getAsLong())).hasValue(marker[0]);
    assertThat(elf.sectionAtOffset(offset.getAsLong()))
        .get()
        .extracting(Section::name)
        .isEqualTo(".text");
    assertThat(elf.symbolAtOffset(offset.getAsLong() + 1))
        .get()
        .extracting(ElfSymbol::name)
        .isEqualTo("fixture_marker");
    assertThat(elf.segmentAtAddress(marker[0])).get().matches(ProgramHeader::isExecutable);
    // .bss has an address but no file bytes.
    Section bss = elf.section(".bss").orElseThrow();
    assertThat(elf.addressToOffset(bss.address())).isEmpty();
  }

  @Test
  void strippedBinaryKeepsSectionsButLosesLocalSymbols() throws Exception {
    ElfFile pie = FULL.read(Fixtures.path("hello-pie"));
    ElfFile stripped = FULL.read(Fixtures.path("hello-stripped"));
    assertThat(stripped.section(".symtab")).isEmpty();
    assertThat(stripped.symbols()).allMatch(ElfSymbol::dynamic);
    long[] marker = Fixtures.symbol("hello-pie", "fixture_marker");
    assertThat(stripped.symbolAtAddress(marker[0])).isEmpty();
    // strip removes non-allocated sections only: the loaded bytes hash the same.
    assertThat(stripped.sectionDigests()).isEqualTo(pie.sectionDigests());
  }

  @Test
  void executableStackIsReportedAsAFinding() throws Exception {
    ElfCheck check = X86_64.checkHeader(FULL.read(Fixtures.path("hello-execstack")));
    assertThat(check.result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(check.findings())
        .extracting(f -> f.type())
        .containsExactly(FindingType.EXECUTABLE_STACK);
  }

  @Test
  void sharedLibraryWithSonameAndRunpath() throws Exception {
    ElfFile elf = FULL.read(Fixtures.path("libfixture.so"));
    assertThat(elf.header().type()).isEqualTo(ElfHeader.ET_DYN);
    assertThat(elf.interpreter()).isEmpty();
    assertThat(elf.dynamic().soname()).contains("libfixture.so.1");
    assertThat(elf.dynamic().runpath()).containsExactly("$ORIGIN/../lib", "/opt/fixture");
    assertThat(elf.dynamic().rpath()).isEmpty();
    assertThat(X86_64.checkHeader(elf).result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertSymbolLookups(elf, "libfixture.so", "fixture_add");
  }

  @Test
  void textRelocationsAreReportedAsAFinding() throws Exception {
    ElfFile elf = FULL.read(Fixtures.path("libtextrel.so"));
    assertThat(elf.dynamic().textRelocations()).isTrue();
    ElfCheck check = X86_64.checkHeader(elf);
    assertThat(check.findings()).extracting(f -> f.type()).contains(FindingType.TEXT_RELOCATIONS);
    assertThat(check.findings()).allMatch(f -> f.scope() == Scope.ELF_HEADER);
  }

  @Test
  void elf32ForAnotherMachineFailsTheHostCheckOnly() throws Exception {
    ElfFile elf = FULL.read(Fixtures.path("tiny32"));
    assertThat(elf.header().is64Bit()).isFalse();
    assertThat(elf.header().machine()).isEqualTo(ElfHeader.EM_386);
    ElfCheck host = X86_64.checkHeader(elf);
    assertThat(host.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(host.findings())
        .extracting(f -> f.type())
        .containsExactly(FindingType.WRONG_MACHINE);
    ElfCheck i386 = new ElfStructureVerifier(ElfHeader.EM_386).checkHeader(elf);
    assertThat(i386.result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertSymbolLookups(elf, "tiny32", "tiny_spin");
  }

  @ParameterizedTest
  @MethodSource("byteSwapped")
  void bigEndianCopiesReadTheSameAsTheirOriginals(String little, String big) throws Exception {
    ElfFile le = FULL.read(Fixtures.path(little));
    ElfFile be = FULL.read(Fixtures.path(big));
    assertThat(le.header().byteOrder()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(be.header().byteOrder()).isEqualTo(ByteOrder.BIG_ENDIAN);
    assertThat(be.header().entry()).isEqualTo(le.header().entry());
    assertThat(be.programHeaders()).isEqualTo(le.programHeaders());
    assertThat(be.sections()).isEqualTo(le.sections());
    assertThat(be.symbols()).isEqualTo(le.symbols());
    assertThat(be.dynamic()).isEqualTo(le.dynamic());
    assertThat(be.interpreter()).isEqualTo(le.interpreter());
    assertThat(be.buildId()).isEqualTo(le.buildId()).isPresent();
  }

  static List<String[]> byteSwapped() {
    return List.of(
        new String[] {"tiny32", "tiny32-be"}, new String[] {"hello-pie", "hello-pie-be"});
  }

  @Test
  void channelAndBufferInputsAgreeAndLeaveTheirPositionAlone() throws Exception {
    byte[] bytes = Fixtures.bytes("libfixture.so");
    ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length + 10);
    buffer.position(10);
    buffer.put(bytes).position(10);
    ElfFile fromBuffer = FULL.read(buffer);
    assertThat(buffer.position()).isEqualTo(10);
    try (FileChannel ch = FileChannel.open(Fixtures.path("libfixture.so"))) {
      ch.position(123);
      ElfFile fromChannel = FULL.read(ch);
      assertThat(ch.position()).isEqualTo(123);
      assertThat(fromChannel.sectionDigests()).isEqualTo(fromBuffer.sectionDigests());
      assertThat(fromChannel.dynamic()).isEqualTo(fromBuffer.dynamic());
    }
  }

  @Test
  void structureOnlyReaderDoesNotPretendToHaveDigestsOrSymbols() throws Exception {
    ElfFile elf = ElfReader.create().read(Fixtures.path("hello-pie"));
    assertThat(elf.hasSectionDigests()).isFalse();
    assertThat(elf.hasSymbols()).isFalse();
    org.assertj.core.api.Assertions.assertThatIllegalStateException()
        .isThrownBy(elf::sectionDigests);
    org.assertj.core.api.Assertions.assertThatIllegalStateException().isThrownBy(elf::symbols);
    assertThat(elf.dynamic().needed()).containsExactly("libc.so.6");
  }

  private static void assertSymbolLookups(ElfFile elf, String fixture, String symbol) {
    long[] expected = Fixtures.symbol(fixture, symbol);
    long start = expected[0];
    long end = start + expected[1];
    assertThat(elf.symbolAtAddress(start)).get().extracting(ElfSymbol::name).isEqualTo(symbol);
    assertThat(elf.symbolAtAddress(end - 1)).get().extracting(ElfSymbol::name).isEqualTo(symbol);
    assertThat(elf.symbolAtAddress(end).map(ElfSymbol::name))
        .isNotEqualTo(java.util.Optional.of(symbol));
    assertThat(elf.sectionAtAddress(start)).get().extracting(Section::name).isEqualTo(".text");
  }
}
