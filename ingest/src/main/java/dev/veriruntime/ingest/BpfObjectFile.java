package dev.veriruntime.ingest;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads what a BPF ELF object declares, in pure Java: its programs (global functions in executable
 * sections other than {@code .text}, which holds sub-programs), its maps (objects in {@code .maps})
 * and its {@code const volatile} settings (objects in {@code .rodata}, with their offsets). This is
 * how libbpf itself names them, so the names match what {@code bpf_object__open} will report.
 * Immutable once parsed; every offset is bounds-checked.
 */
final class BpfObjectFile {
  private static final int SHT_SYMTAB = 2;
  private static final int SHT_NOBITS = 8;
  private static final long SHF_EXECINSTR = 0x4;
  private static final int STT_OBJECT = 1;
  private static final int STT_FUNC = 2;
  private static final int STB_GLOBAL = 1;
  private static final int EM_BPF = 247;

  record Section(String name, int type, long flags, long offset, long size, int link) {}

  final List<ProbeSpec.ProgramSpec> programs = new ArrayList<>();
  final List<String> maps = new ArrayList<>();
  final Map<String, ProbeSpec.ConstantSpec> constants = new LinkedHashMap<>();
  byte[] rodata = new byte[0];

  private BpfObjectFile() {}

  static BpfObjectFile parse(byte[] elf) {
    try {
      return parseChecked(elf);
    } catch (IndexOutOfBoundsException | BufferUnderflowException | NegativeArraySizeException e) {
      throw new IllegalArgumentException(
          "malformed BPF object: an offset points outside the file", e);
    }
  }

  private static BpfObjectFile parseChecked(byte[] elf) {
    ByteBuffer buffer = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
    if (elf.length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') {
      throw new IllegalArgumentException("not an ELF file");
    }
    if (elf[4] != 2 || elf[5] != 1) {
      throw new IllegalArgumentException(
          "not a 64-bit little-endian ELF file (BPF objects for x86_64/arm64 are)");
    }
    if (Short.toUnsignedInt(buffer.getShort(0x12)) != EM_BPF) {
      throw new IllegalArgumentException(
          "ELF machine is not BPF (e_machine " + buffer.getShort(0x12) + ")");
    }
    long shoff = buffer.getLong(0x28);
    int shentsize = Short.toUnsignedInt(buffer.getShort(0x3a));
    int shnum = Short.toUnsignedInt(buffer.getShort(0x3c));
    int shstrndx = Short.toUnsignedInt(buffer.getShort(0x3e));
    if (shentsize < 64
        || shoff < 0
        || shoff + (long) shnum * shentsize > elf.length
        || shstrndx >= shnum) {
      throw new IllegalArgumentException(
          "malformed BPF object: section header table out of bounds");
    }
    long[][] raw = new long[shnum][];
    for (int i = 0; i < shnum; i++) {
      int base = Math.toIntExact(shoff + (long) i * shentsize);
      raw[i] =
          new long[] {
            Integer.toUnsignedLong(buffer.getInt(base)), buffer.getInt(base + 4),
                buffer.getLong(base + 8),
            buffer.getLong(base + 24), buffer.getLong(base + 32), buffer.getInt(base + 40)
          };
    }
    long[] shstr = raw[shstrndx];
    List<Section> sections = new ArrayList<>(shnum);
    for (long[] s : raw) {
      sections.add(
          new Section(
              string(elf, shstr[3], shstr[4], s[0]), (int) s[1], s[2], s[3], s[4], (int) s[5]));
    }
    BpfObjectFile file = new BpfObjectFile();
    for (Section section : sections) {
      if (section.name().equals(".rodata")) {
        file.rodata =
            section.type() == SHT_NOBITS
                ? new byte[Math.toIntExact(section.size())]
                : slice(elf, section);
      }
    }
    for (Section symtab : sections) {
      if (symtab.type() != SHT_SYMTAB) {
        continue;
      }
      Section strtab = sections.get(symtab.link());
      for (long at = symtab.offset(); at + 24 <= symtab.offset() + symtab.size(); at += 24) {
        int base = Math.toIntExact(at);
        long nameOffset = Integer.toUnsignedLong(buffer.getInt(base));
        int info = Byte.toUnsignedInt(buffer.get(base + 4));
        int shndx = Short.toUnsignedInt(buffer.getShort(base + 6));
        long value = buffer.getLong(base + 8);
        long size = buffer.getLong(base + 16);
        if (shndx == 0 || shndx >= sections.size()) {
          continue;
        }
        Section home = sections.get(shndx);
        int type = info & 0xf;
        int binding = info >> 4;
        String name = string(elf, strtab.offset(), strtab.size(), nameOffset);
        if (type == STT_FUNC
            && binding == STB_GLOBAL
            && (home.flags() & SHF_EXECINSTR) != 0
            && !home.name().equals(".text")) {
          file.programs.add(new ProbeSpec.ProgramSpec(name, home.name()));
        } else if (type == STT_OBJECT && home.name().equals(".maps")) {
          file.maps.add(name);
        } else if (type == STT_OBJECT && home.name().equals(".rodata")) {
          if (value < 0 || size <= 0 || value + size > file.rodata.length) {
            throw new IllegalArgumentException(
                "malformed BPF object: .rodata symbol '" + name + "' out of bounds");
          }
          file.constants.put(name, new ProbeSpec.ConstantSpec(name, (int) value, (int) size));
        }
      }
    }
    return file;
  }

  private static byte[] slice(byte[] elf, Section section) {
    int from = Math.toIntExact(section.offset());
    int to = Math.toIntExact(section.offset() + section.size());
    if (from < 0 || to > elf.length || from > to) {
      throw new IllegalArgumentException(
          "malformed BPF object: section " + section.name() + " out of bounds");
    }
    return java.util.Arrays.copyOfRange(elf, from, to);
  }

  private static String string(byte[] elf, long tableOffset, long tableSize, long index) {
    if (index < 0 || index >= tableSize) {
      throw new IllegalArgumentException("malformed BPF object: string index out of bounds");
    }
    int start = Math.toIntExact(tableOffset + index);
    int limit = Math.toIntExact(Math.min(elf.length, tableOffset + tableSize));
    int end = start;
    while (end < limit && elf[end] != 0) {
      end++;
    }
    return new String(elf, start, end - start, StandardCharsets.UTF_8);
  }
}
