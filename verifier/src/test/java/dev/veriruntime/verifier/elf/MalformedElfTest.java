package dev.veriruntime.verifier.elf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.veriruntime.verifier.ElfCheck;
import dev.veriruntime.verifier.ElfStructureVerifier;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.ScopeStatus;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile input: every malformed file must end in {@link MalformedElfException} (or, where the
 * bytes are still well-formed, a parsed file whose checks fail), never in another exception, a hang
 * or a huge allocation. Timeouts here only guard against hangs; they are not performance
 * assertions.
 */
class MalformedElfTest {
  private static final ElfReader READER = ElfReader.full();
  private static final Duration HANG_GUARD = Duration.ofMinutes(2);

  // ELF64 header field offsets.
  private static final int E_PHOFF = 32;
  private static final int E_SHOFF = 40;
  private static final int E_PHENTSIZE = 54;
  private static final int E_PHNUM = 56;
  private static final int E_SHENTSIZE = 58;
  private static final int E_SHNUM = 60;
  private static final int E_SHSTRNDX = 62;

  @ParameterizedTest
  @ValueSource(strings = {"tiny32", "tiny32-be", "libfixture.so"})
  void everyTruncationIsRejectedOrReadable(String fixture) {
    byte[] whole = Fixtures.bytes(fixture);
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          int rejected = 0;
          for (int len = 0; len < whole.length; len++) {
            if (!readsOrRejects(Arrays.copyOf(whole, len))) {
              rejected++;
            }
          }
          // The section table sits at the end of these files: cutting anything off breaks it.
          assertThat(rejected).isEqualTo(whole.length);
        });
  }

  @Test
  void truncatedFileMessagesSayWhatIsPastTheEnd() {
    byte[] whole = Fixtures.bytes("libfixture.so");
    assertThatThrownBy(() -> READER.read(Arrays.copyOf(whole, 10)))
        .isInstanceOf(MalformedElfException.class)
        .hasMessageContaining("too short for an ELF identification");
    assertThatThrownBy(() -> READER.read(Arrays.copyOf(whole, whole.length - 1)))
        .isInstanceOf(MalformedElfException.class)
        .hasMessageContaining("e_shoff")
        .hasMessageContaining("past end of file (size " + (whole.length - 1) + ")");
  }

  @Test
  void notElfAtAll() {
    assertThatThrownBy(() -> READER.read("#!/bin/sh\necho hello\n".getBytes()))
        .isInstanceOf(MalformedElfException.class)
        .hasMessageStartingWith("not an ELF file: magic 23 21 2f 62");
  }

  @Test
  void shoffPastEndOfFile() {
    assertRejected(b -> b.putLong(E_SHOFF, b.capacity() + 4096L), "e_shoff", "past end of file");
  }

  @Test
  void shnumAllOnes() {
    assertRejected(b -> b.putShort(E_SHNUM, (short) 0xffff), "e_shnum", "past end of file");
  }

  @Test
  void zeroEntrySizes() {
    assertRejected(b -> b.putShort(E_SHENTSIZE, (short) 0), "e_shentsize 0 is not 64");
    assertRejected(b -> b.putShort(E_PHENTSIZE, (short) 0), "e_phentsize 0 is not 56");
    assertRejected(b -> b.putShort(E_PHENTSIZE, (short) 0xffff), "e_phentsize 65535 is not 56");
  }

  @Test
  void offsetsThatOverflow() {
    assertRejected(b -> b.putLong(E_PHOFF, 0xffff_ffff_ffff_ff00L), "e_phoff", "past end of file");
    assertRejected(b -> b.putLong(E_SHOFF, Long.MAX_VALUE - 8), "e_shoff");
    assertRejected(
        b -> {
          int text = sectionHeader(b, ".text");
          b.putLong(text + 24, Long.MAX_VALUE - 16);
          b.putLong(text + 32, 4096);
        },
        "sh_offset",
        "overflows");
    assertRejected(
        b -> {
          int load = b.getInt(E_PHOFF) + b.getShort(E_PHENTSIZE);
          b.putLong(load + 8, 0x7fff_ffff_ffff_fff0L);
        },
        "p_offset",
        "overflows");
  }

  /** The range checks build their messages only for a file that fails them: still the same. */
  @Test
  void rangeMessagesNameTheSegmentOrSectionPastTheEnd() {
    assertRejected(
        b -> {
          int load = b.getInt(E_PHOFF) + b.getShort(E_PHENTSIZE);
          b.putLong(load + 32, -2L);
        },
        "segment 1 p_filesz 0xfffffffffffffffe past end of file");
    assertRejected(
        b -> {
          int load = b.getInt(E_PHOFF) + b.getShort(E_PHENTSIZE);
          b.putLong(load + 32, 1L << 40);
          b.putLong(load + 40, 1L << 40);
        },
        "segment 1 (",
        ") p_offset 0x",
        "+ p_filesz 0x10000000000: end 0x",
        "past end of file");
    assertRejected(
        b -> b.putLong(sectionHeader(b, ".text") + 32, 1L << 40),
        "section ",
        " (.text) sh_offset 0x",
        "+ sh_size 0x10000000000: end 0x",
        "past end of file");
  }

  @Test
  void sectionNameTableProblems() {
    assertRejected(b -> b.putShort(E_SHSTRNDX, (short) 1000), "e_shstrndx 1000 is not below");
    assertRejected(b -> b.putShort(E_SHSTRNDX, (short) 1), "e_shstrndx 1", "not STRTAB");
    assertRejected(
        b -> b.putInt(sectionHeader(b, ".text"), 0x7fff_0000),
        "sh_name",
        "outside its string table");
    assertRejected(
        b -> {
          int shstr = sectionHeader(b, ".shstrtab");
          long off = b.getLong(shstr + 24);
          long size = b.getLong(shstr + 32);
          for (long i = off; i < off + size; i++) {
            b.put((int) i, (byte) 'x'); // no NUL anywhere
          }
        },
        "not NUL-terminated");
  }

  @Test
  void hugeCounts() {
    assertRejected(
        b -> {
          b.putShort(E_SHNUM, (short) 0); // extended numbering: the count moves to section 0
          b.putLong(b.getInt(E_SHOFF) + 32, 1L << 40);
        },
        "extended section count",
        "exceeds the limit of 65535");
    assertRejected(
        b -> {
          int symtab = sectionHeader(b, ".symtab");
          b.putLong(symtab + 32, 1L << 40);
        },
        ".symtab",
        "past end of file");
    assertRejected(
        b -> {
          int dynsym = sectionHeader(b, ".dynsym");
          b.putLong(dynsym + 56, 0); // entry size 0 would mean infinitely many symbols
        },
        "sh_entsize 0 is not 24");
  }

  @Test
  void dynamicAndNoteProblems() {
    assertRejected(
        b -> {
          int dynamic = sectionHeader(b, ".dynamic");
          long off = b.getLong(dynamic + 24);
          for (int i = 0; ; i += 16) {
            if (b.getLong((int) off + i) == DynamicEntry.DT_STRSZ) {
              b.putLong((int) off + i + 8, 1L << 62);
              break;
            }
          }
        },
        "DT_STRSZ",
        "exceeds the limit");
    assertRejected(
        b -> {
          int dynamic = sectionHeader(b, ".dynamic");
          long off = b.getLong(dynamic + 24);
          for (int i = 0; ; i += 16) {
            if (b.getLong((int) off + i) == DynamicEntry.DT_SONAME) {
              b.putLong((int) off + i + 8, 0x7fff_ffffL);
              break;
            }
          }
        },
        "DT_SONAME",
        "outside its string table");
    assertRejected(
        b -> {
          int note = sectionHeader(b, ".note.gnu.build-id");
          long off = b.getLong(note + 24);
          b.putInt((int) off + 4, 0x7fff_fff0); // descsz
        },
        "note at +0x0",
        "runs past the end");
  }

  /** Found by Jazzer: section 0 posing as the dynamic section, far past the end of the file. */
  @Test
  void sectionZeroWithFileBytesIsBoundsChecked() {
    assertRejected(
        b -> {
          int s0 = (int) b.getLong(E_SHOFF);
          b.putInt(s0 + 4, Section.SHT_DYNAMIC);
          b.putLong(s0 + 24, 15936);
          b.putLong(s0 + 32, 0);
        },
        "section 0 sh_offset 0x3e40",
        "past end of file");
  }

  /**
   * The largest tables the format allows, with every section failing the placement check against
   * every segment: reading and checking must stay linear-ish and bounded.
   */
  @Test
  void maximalTablesStayCheap() {
    int phnum = ElfStructureVerifier.KERNEL_MAX_PROGRAM_HEADER_BYTES / 56;
    int shnum = 0xfffe;
    int strtab = 64 + phnum * 56;
    int shoff = strtab + 8;
    ByteBuffer b = ByteBuffer.allocate(shoff + shnum * 64).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
    b.putShort(16, (short) ElfHeader.ET_DYN).putShort(18, (short) ElfHeader.EM_X86_64);
    b.putInt(20, 1).putLong(24, 0).putLong(E_PHOFF, 64).putLong(E_SHOFF, shoff);
    b.putShort(52, (short) 64).putShort(E_PHENTSIZE, (short) 56).putShort(E_PHNUM, (short) phnum);
    b.putShort(E_SHENTSIZE, (short) 64).putShort(E_SHNUM, (short) shnum);
    b.putShort(E_SHSTRNDX, (short) 1);
    for (int i = 0; i < phnum; i++) {
      int p = 64 + i * 56;
      b.putInt(p, ProgramHeader.PT_LOAD).putInt(p + 4, ProgramHeader.PF_R).putLong(p + 8, 0);
      b.putLong(p + 16, (long) i << 12).putLong(p + 32, 64).putLong(p + 40, 0x1000);
    }
    b.put(strtab + 1, (byte) '.').put(strtab + 2, (byte) 'x');
    for (int i = 1; i < shnum; i++) {
      int sh = shoff + i * 64;
      b.putInt(sh, 1);
      if (i == 1) {
        b.putInt(sh + 4, Section.SHT_STRTAB).putLong(sh + 24, strtab).putLong(sh + 32, 8);
      } else {
        b.putInt(sh + 4, Section.SHT_PROGBITS).putLong(sh + 8, Section.SHF_ALLOC);
        b.putLong(sh + 16, 0x10).putLong(sh + 24, 0).putLong(sh + 32, 64); // never where loaded
      }
    }
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          ElfFile elf = READER.read(b.array());
          assertThat(elf.sections()).hasSize(shnum);
          assertThat(elf.sectionDigests()).hasSize(shnum - 2);
          ElfStructureVerifier verifier = new ElfStructureVerifier(ElfHeader.EM_X86_64);
          assertThat(verifier.checkHeader(elf).result().status()).isEqualTo(ScopeStatus.VERIFIED);
          ElfCheck sections = verifier.checkSections(elf);
          assertThat(sections.findings()).hasSize(shnum - 2);
          assertThat(sections.result().reason()).contains("(and " + (shnum - 3) + " more)");
        });
  }

  /** 2,000 sections that all cover the same 8 MiB would mean hashing 16 GB. */
  @Test
  void overlappingSectionsCannotMultiplyTheWork() {
    int shnum = 2000;
    int size = 8 << 20;
    int shoff = size - shnum * 64;
    ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
    b.putShort(16, (short) ElfHeader.ET_DYN).putShort(18, (short) ElfHeader.EM_X86_64);
    b.putInt(20, 1).putLong(E_SHOFF, shoff).putShort(52, (short) 64);
    b.putShort(E_SHENTSIZE, (short) 64).putShort(E_SHNUM, (short) shnum);
    for (int i = 1; i < shnum; i++) {
      int sh = shoff + i * 64;
      b.putInt(sh + 4, Section.SHT_PROGBITS).putLong(sh + 8, Section.SHF_ALLOC);
      b.putLong(sh + 24, 0).putLong(sh + 32, size);
    }
    assertTimeoutPreemptively(
        HANG_GUARD,
        () ->
            assertThatThrownBy(() -> READER.read(b.array()))
                .isExactlyInstanceOf(MalformedElfException.class)
                .hasMessageContaining("exceeds the work limit"));
  }

  @Test
  void overlappingLoadSegmentsFailTheHeaderCheck() throws Exception {
    byte[] bytes = Fixtures.bytes("libfixture.so");
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int phoff = (int) b.getLong(E_PHOFF);
    int ent = b.getShort(E_PHENTSIZE);
    int firstLoad = -1;
    int secondLoad = -1;
    for (int i = 0; i < b.getShort(E_PHNUM); i++) {
      if (b.getInt(phoff + i * ent) == ProgramHeader.PT_LOAD) {
        if (firstLoad < 0) {
          firstLoad = phoff + i * ent;
        } else if (secondLoad < 0) {
          secondLoad = phoff + i * ent;
        }
      }
    }
    b.putLong(secondLoad + 16, b.getLong(firstLoad + 16) + 8); // vaddr inside the first load
    ElfFile elf = READER.read(bytes);
    ElfCheck check = new ElfStructureVerifier(ElfHeader.EM_X86_64).checkHeader(elf);
    assertThat(check.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(check.result().reason()).contains("overlap");
    assertThat(check.findings()).extracting(f -> f.type()).contains(FindingType.MALFORMED_ELF);
  }

  @Test
  void entryPointOutsideCodeFailsTheHeaderCheck() throws Exception {
    byte[] bytes = Fixtures.bytes("hello-pie");
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(24, 0x10); // in the R-only load
    ElfCheck check = new ElfStructureVerifier(ElfHeader.EM_X86_64).checkHeader(READER.read(bytes));
    assertThat(check.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(check.result().reason()).contains("entry point 0x10");
  }

  @Test
  void sectionHeadersThatLieAboutAddressesFailTheSectionCheck() throws Exception {
    byte[] bytes = Fixtures.bytes("hello-pie");
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int text = sectionHeader(b, ".text");
    b.putLong(text + 16, b.getLong(text + 16) + 0x100); // .text claims another address
    ElfCheck check =
        new ElfStructureVerifier(ElfHeader.EM_X86_64).checkSections(READER.read(bytes));
    assertThat(check.result().status()).isEqualTo(ScopeStatus.FAILED);
    assertThat(check.result().reason()).contains(".text").contains("not loaded at its address");
  }

  /**
   * Seeded random mutations of the fixtures, weighted towards the headers and tables where the
   * interesting fields are. Deterministic: the same seed always tests the same inputs.
   */
  @Test
  void randomMutationsOnlyEverRaiseMalformedElfException() {
    String[] seeds = {"tiny32", "tiny32-be", "libfixture.so", "hello-pie", "hello-pie-be"};
    Random random = new Random(0x5eed_e1fL);
    int iterations = Integer.getInteger("veriruntime.elf.mutations", 10_000);
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          int parsed = 0;
          for (int i = 0; i < iterations; i++) {
            byte[] input = Fixtures.bytes(seeds[random.nextInt(seeds.length)]);
            int edits = 1 + random.nextInt(8);
            for (int e = 0; e < edits; e++) {
              mutate(input, random);
            }
            if (random.nextInt(10) == 0) {
              input = Arrays.copyOf(input, random.nextInt(input.length + 1));
            }
            if (readsOrRejects(input)) {
              parsed++;
            }
          }
          // Some mutations hit bytes the reader does not interpret: both outcomes must occur.
          assertThat(parsed).isBetween(1, iterations - 1);
        });
  }

  private static void mutate(byte[] input, Random random) {
    if (input.length == 0) {
      return;
    }
    // Half of the edits go to the first 256 bytes (file and program headers).
    int at =
        random.nextBoolean()
            ? random.nextInt(Math.min(256, input.length))
            : random.nextInt(input.length);
    switch (random.nextInt(5)) {
      case 0 -> input[at] = (byte) random.nextInt(256);
      case 1 -> input[at] = (byte) 0xff;
      case 2 -> input[at] = 0;
      case 3 -> input[at] ^= (byte) (1 << random.nextInt(8));
      default -> {
        int width = 1 << random.nextInt(4);
        long[] interesting = {
          0,
          1,
          -1,
          0x7fff_ffffL,
          0x8000_0000L,
          Long.MAX_VALUE,
          Long.MIN_VALUE,
          0xffffL,
          0x10000L,
          input.length,
          input.length - 1
        };
        long v = interesting[random.nextInt(interesting.length)];
        for (int k = 0; k < width && at + k < input.length; k++) {
          input[at + k] = (byte) (v >>> (8 * k));
        }
      }
    }
  }

  /** True if parsed (and the parsed file answered every query), false if rejected. */
  private static boolean readsOrRejects(byte[] input) {
    ElfFile elf;
    try {
      elf = READER.read(input);
    } catch (MalformedElfException expected) {
      assertThat(expected.getMessage()).isNotBlank();
      return false;
    }
    ElfStructureVerifier verifier = new ElfStructureVerifier(ElfHeader.EM_X86_64);
    verifier.checkHeader(elf);
    verifier.checkSections(elf);
    elf.symbolAtAddress(elf.header().entry());
    elf.addressToOffset(elf.header().entry());
    elf.sectionAtOffset(input.length / 2);
    elf.sectionDigests();
    return true;
  }

  private static void assertRejected(Consumer<ByteBuffer> edit, String... messageParts) {
    byte[] bytes = Fixtures.bytes("libfixture.so");
    edit.accept(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    assertTimeoutPreemptively(
        HANG_GUARD,
        () -> {
          var thrown =
              assertThatThrownBy(() -> READER.read(bytes))
                  .isExactlyInstanceOf(MalformedElfException.class);
          for (String part : messageParts) {
            thrown.hasMessageContaining(part);
          }
        });
  }

  /** Offset of the header of the section called {@code name} in the ELF64 LE file in {@code b}. */
  private static int sectionHeader(ByteBuffer b, String name) {
    try {
      Section s = ElfReader.create().read(b.array()).section(name).orElseThrow();
      return (int) (b.getLong(E_SHOFF) + (long) s.index() * b.getShort(E_SHENTSIZE));
    } catch (MalformedElfException e) {
      throw new AssertionError(e);
    }
  }
}
