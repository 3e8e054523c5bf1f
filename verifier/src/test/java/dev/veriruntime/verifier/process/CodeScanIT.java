package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.ElfSymbol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MEMORY_CODE against live test programs (root: reads /proc/PID/mem and map_files). */
class CodeScanIT {

  @BeforeAll
  static void root() {
    RootTests.assumeRoot();
  }

  @Test
  void unpatchedProgramMatchesItsFile() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      CodeScan scan =
          CodeScan.start(ProcFs.host(), p.pid(), new MemoryCodeComparator(), ProcMemReader::open);
      scan.advance(Long.MAX_VALUE);

      assertThat(scan.complete()).isTrue();
      assertThat(scan.result().status()).as(scan.result().reason()).isEqualTo(ScopeStatus.VERIFIED);
      assertThat(scan.mappings()).extracting(MemoryMapping::filePath).contains(spin.toString());
      assertThat(scan.bytesCompared()).isPositive();
    }
  }

  @Test
  void patchedCodeIsFoundAtItsAddressWithSectionAndSymbol() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      long address = symbolAddress(p.pid(), spin, "patch_target") + 3;
      ProcessPatcher.write(p.pid(), address, new byte[] {(byte) 0xcc});

      CodeScan scan =
          CodeScan.start(ProcFs.host(), p.pid(), new MemoryCodeComparator(), ProcMemReader::open);
      scan.advance(Long.MAX_VALUE);

      assertThat(scan.result().status()).isEqualTo(ScopeStatus.FAILED);
      assertThat(scan.findings())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.type()).isEqualTo(FindingType.CODE_MODIFIED);
                assertThat(f.detail())
                    .containsEntry("address", String.format("0x%x", address))
                    .containsEntry("section", ".text")
                    .containsEntry("symbol", "patch_target+0x3")
                    .containsEntry("memoryByte", "0xcc")
                    .containsEntry("path", spin.toString());
                assertThat(f.reason()).contains("patch_target+0x3").contains(".text");
              });
    }
  }

  @Test
  void smallBudgetsResumeAndStillFindALatePatch() throws Exception {
    Path spin = TestPrograms.executable("spin");
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      CodeScan first =
          CodeScan.start(
              ProcFs.host(), p.pid(), new MemoryCodeComparator(4096), ProcMemReader::open);
      int steps = 0;
      while (!first.complete()) {
        assertThat(first.advance(4096)).isLessThanOrEqualTo(4096);
        steps++;
      }
      assertThat(steps).isGreaterThan(10);
      assertThat(first.result().status()).isEqualTo(ScopeStatus.VERIFIED);

      // Patched "an hour later": the next scan of the same process finds it.
      long address = symbolAddress(p.pid(), spin, "patch_target");
      ProcessPatcher.write(p.pid(), address, new byte[] {(byte) 0x90, (byte) 0x90});
      CodeScan second =
          CodeScan.start(
              ProcFs.host(), p.pid(), new MemoryCodeComparator(4096), ProcMemReader::open);
      while (!second.complete()) {
        second.advance(8192);
      }
      assertThat(second.result().status()).isEqualTo(ScopeStatus.FAILED);
      assertThat(second.findings())
          .singleElement()
          .satisfies(f -> assertThat(f.detail()).containsEntry("symbol", "patch_target"));
    }
  }

  @Test
  void exitedProcessEndsTheScanNotVerified() throws Exception {
    Path spin = TestPrograms.executable("spin");
    CodeScan scan;
    try (TestPrograms.Running p = TestPrograms.start(spin.toString())) {
      scan =
          CodeScan.start(ProcFs.host(), p.pid(), new MemoryCodeComparator(), ProcMemReader::open);
    }
    scan.advance(Long.MAX_VALUE);
    assertThat(scan.complete()).isTrue();
    assertThat(scan.result().status()).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(scan.findings()).extracting(f -> f.type()).containsExactly(FindingType.PROCESS_GONE);
  }

  @Test
  void textRelocationsAreNotVerifiedButAPatchBesideThemFails() throws Exception {
    Path lib = TestPrograms.dir().resolve("libtextrel-copy.so");
    try (var in = CodeScanIT.class.getResourceAsStream("/elf/libtextrel.so")) {
      java.nio.file.Files.copy(in, lib, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    try (TestPrograms.Running p =
        TestPrograms.start(TestPrograms.executable("spin").toString(), lib.toString())) {
      CodeScan scan =
          CodeScan.start(ProcFs.host(), p.pid(), new MemoryCodeComparator(), ProcMemReader::open);
      scan.advance(Long.MAX_VALUE);
      assertThat(scan.result().status())
          .as(scan.result().reason())
          .isEqualTo(ScopeStatus.NOT_VERIFIED);
      assertThat(scan.mappingResults())
          .filteredOn(r -> r.mapping().filePath().equals(lib.toString()))
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.outcome()).isEqualTo(MappingCodeResult.Outcome.TEXT_RELOCATIONS);
                assertThat(r.reason()).containsPattern("^[1-8] byte\\(s\\)").contains("DT_TEXTREL");
              });
      assertThat(scan.findings())
          .singleElement()
          .extracting(f -> f.type())
          .isEqualTo(FindingType.TEXT_RELOCATIONS);

      // Two bytes before the relocated immediate: the movabs opcode, which the loader never writes.
      long address = symbolAddress(p.pid(), lib, "textrel_address");
      ProcessPatcher.write(p.pid(), address, new byte[] {(byte) 0xcc});
      CodeScan patched =
          CodeScan.start(ProcFs.host(), p.pid(), new MemoryCodeComparator(), ProcMemReader::open);
      patched.advance(Long.MAX_VALUE);
      assertThat(patched.result().status()).isEqualTo(ScopeStatus.FAILED);
      assertThat(patched.findings())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.type()).isEqualTo(FindingType.CODE_MODIFIED);
                assertThat(f.detail())
                    .containsEntry("symbol", "textrel_address")
                    .containsEntry("section", ".text");
                assertThat(f.reason())
                    .contains("outside the targets of the file's text relocations");
              });
    }
  }

  /** Runtime address of {@code name} in the process: load base of the executable plus st_value. */
  static long symbolAddress(int pid, Path exe, String name) throws Exception {
    var elf = ElfReader.create(ElfReader.Feature.SYMBOLS).read(exe);
    ElfSymbol sym =
        elf.symbols().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    MemoryMapping first =
        ProcFs.host().maps(pid).stream()
            .filter(m -> m.filePath().equals(exe.toString()) && m.offset() == 0)
            .findFirst()
            .orElseThrow();
    long base =
        elf.header().type() == dev.veriruntime.verifier.elf.ElfHeader.ET_DYN
            ? first.start()
            : 0; // ET_DYN is relocated; ET_EXEC is not
    return base + sym.value();
  }

  /**
   * Writes into another process's memory through /proc/PID/mem (root; FOLL_FORCE permits code
   * pages).
   */
  static final class ProcessPatcher {
    static void write(int pid, long address, byte[] bytes) throws IOException {
      try (FileChannel mem =
          FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          mem.write(b, address + b.position());
        }
      }
    }
  }
}
