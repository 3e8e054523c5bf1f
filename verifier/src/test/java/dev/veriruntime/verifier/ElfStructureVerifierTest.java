package dev.veriruntime.verifier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.Fixtures;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.ProgramHeader;
import dev.veriruntime.verifier.elf.Shebang;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ElfStructureVerifierTest {
  private static final ElfStructureVerifier X86_64 = new ElfStructureVerifier(ElfHeader.EM_X86_64);

  @Test
  void writableExecutableLoadIsAFindingNotAFailure() throws Exception {
    byte[] bytes = Fixtures.bytes("hello-pie");
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    ElfFile original = ElfReader.create().read(bytes);
    ProgramHeader code =
        original.loadSegments().stream()
            .filter(ProgramHeader::isExecutable)
            .findFirst()
            .orElseThrow();
    int flagsAt = (int) (original.header().programHeaderOffset() + code.index() * 56L + 4);
    b.putInt(flagsAt, ProgramHeader.PF_R | ProgramHeader.PF_W | ProgramHeader.PF_X);

    ElfCheck check = X86_64.checkHeader(ElfReader.create().read(bytes));
    assertThat(check.result().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(check.findings())
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f.type()).isEqualTo(FindingType.WRITABLE_EXECUTABLE_SEGMENT);
              assertThat(f.scope()).isEqualTo(Scope.ELF_HEADER);
              assertThat(f.detail()).containsEntry("segment", Integer.toString(code.index()));
            });
  }

  @Test
  void relocatableObjectsAreNotRunnable() throws Exception {
    byte[] bytes = Fixtures.bytes("libfixture.so");
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(16, (short) ElfHeader.ET_REL);
    ElfCheck check = X86_64.checkHeader(ElfReader.create().read(bytes));
    assertThat(check.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(check.result().reason()).contains("e_type REL is neither EXEC nor DYN");
  }

  @Test
  void noSectionTableCannotBeVerified() throws Exception {
    byte[] bytes = Fixtures.bytes("hello-pie");
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(40, 0).putShort(60, (short) 0).putShort(62, (short) 0); // as sstrip leaves it
    ElfFile elf = ElfReader.full().read(bytes);
    assertThat(elf.sections()).isEmpty();
    assertThat(elf.sectionDigests()).isEmpty();
    assertThat(elf.dynamic().needed()).containsExactly("libc.so.6"); // found through PT_DYNAMIC
    assertThat(X86_64.checkHeader(elf).result().status()).isEqualTo(ScopeStatus.VERIFIED);
    ElfCheck sections = X86_64.checkSections(elf);
    assertThat(sections.result().status()).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(sections.result().reason()).contains("no section-header table");
  }

  @Test
  void malformedAndScriptResults() {
    ElfCheck bad =
        ElfStructureVerifier.malformed(
            Scope.ELF_SECTIONS,
            new MalformedElfException("e_shoff 0x10 past end of file (size 8)"));
    assertThat(bad.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(bad.result().reason())
        .isEqualTo("malformed ELF: e_shoff 0x10 past end of file (size 8)");
    assertThat(bad.findings()).extracting(f -> f.type()).containsExactly(FindingType.MALFORMED_ELF);

    ElfCheck script =
        ElfStructureVerifier.script(Scope.ELF_HEADER, new Shebang("/bin/sh", Optional.empty()));
    assertThat(script.result().status()).isEqualTo(ScopeStatus.NOT_APPLICABLE);
    assertThat(script.findings())
        .singleElement()
        .satisfies(f -> assertThat(f.detail()).containsEntry("interpreter", "/bin/sh"));
  }
}
