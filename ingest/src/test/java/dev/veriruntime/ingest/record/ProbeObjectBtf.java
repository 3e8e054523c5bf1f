package dev.veriruntime.ingest.record;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Just enough of ELF64 and BTF to read struct layouts and symbol offsets out of the compiled probe,
 * so tests can compare them with {@link WireFormat} without root, libbpf or bpftool. Reads the
 * {@code .BTF} section (header, type section, string section) and {@code .symtab}; member offsets
 * are taken in bits from {@code struct btf_member} (bitfields are not used by the wire records).
 */
final class ProbeObjectBtf {
  /** A struct or union: its byte size and its members' byte offsets, in declaration order. */
  record Layout(String name, int size, Map<String, Integer> memberOffsets) {}

  private static final int BTF_MAGIC = 0xEB9F;
  private static final int KIND_STRUCT = 4;
  private static final int KIND_UNION = 5;

  private final ByteBuffer elf;
  private final Map<String, Layout> structs = new HashMap<>();
  private final Map<String, long[]> symbols = new HashMap<>(); // name -> {section index, value}
  private final Map<String, Integer> sectionIndex = new HashMap<>();

  ProbeObjectBtf(byte[] object) {
    this.elf = ByteBuffer.wrap(object).order(ByteOrder.LITTLE_ENDIAN);
    if (elf.getInt(0) != 0x464C457F || elf.get(4) != 2 || elf.get(5) != 1) {
      throw new IllegalArgumentException("not a little-endian ELF64 object");
    }
    List<long[]> sections = sections();
    long[] btf = null;
    long[] symtab = null;
    for (int i = 0; i < sections.size(); i++) {
      long[] s = sections.get(i);
      String name = sectionName(sections, s);
      sectionIndex.put(name, i);
      if (name.equals(".BTF")) {
        btf = s;
      } else if (name.equals(".symtab")) {
        symtab = s;
      }
    }
    if (btf == null || symtab == null) {
      throw new IllegalArgumentException("object has no .BTF or no .symtab section");
    }
    readBtf((int) btf[1], (int) btf[2]);
    readSymbols(symtab, sections.get((int) symtab[3]));
  }

  Optional<Layout> struct(String name) {
    return Optional.ofNullable(structs.get(name));
  }

  /** Byte offset of a global symbol inside the named section, if it is defined there. */
  Optional<Long> symbolOffset(String section, String symbol) {
    long[] sym = symbols.get(symbol);
    Integer index = sectionIndex.get(section);
    if (sym == null || index == null || sym[0] != index) {
      return Optional.empty();
    }
    return Optional.of(sym[1]);
  }

  /** Section headers as {name offset, file offset, size, link}. */
  private List<long[]> sections() {
    long shoff = elf.getLong(0x28);
    int shentsize = elf.getShort(0x3A) & 0xFFFF;
    int shnum = elf.getShort(0x3C) & 0xFFFF;
    List<long[]> result = new ArrayList<>();
    for (int i = 0; i < shnum; i++) {
      int h = (int) (shoff + (long) i * shentsize);
      result.add(
          new long[] {
            Integer.toUnsignedLong(elf.getInt(h)),
            elf.getLong(h + 24),
            elf.getLong(h + 32),
            Integer.toUnsignedLong(elf.getInt(h + 40))
          });
    }
    return result;
  }

  private String sectionName(List<long[]> sections, long[] section) {
    int shstrndx = elf.getShort(0x3E) & 0xFFFF;
    return cString((int) (sections.get(shstrndx)[1] + section[0]));
  }

  private void readBtf(int base, int length) {
    if ((elf.getShort(base) & 0xFFFF) != BTF_MAGIC) {
      throw new IllegalArgumentException("bad BTF magic");
    }
    int headerLength = elf.getInt(base + 4);
    int typeStart = base + headerLength + elf.getInt(base + 8);
    int typeEnd = typeStart + elf.getInt(base + 12);
    int strings = base + headerLength + elf.getInt(base + 16);
    if (typeEnd > base + length) {
      throw new IllegalArgumentException("BTF type section overruns .BTF");
    }
    List<int[]> pending = new ArrayList<>(); // {name_off, size, member position, vlen}
    int p = typeStart;
    while (p < typeEnd) {
      int nameOff = elf.getInt(p);
      int info = elf.getInt(p + 4);
      int sizeOrType = elf.getInt(p + 8);
      int vlen = info & 0xFFFF;
      int kind = (info >>> 24) & 0x1F;
      p += 12;
      if (kind == KIND_STRUCT || kind == KIND_UNION) {
        pending.add(new int[] {nameOff, sizeOrType, p, vlen, info >>> 31});
      }
      p += extraBytes(kind, vlen);
    }
    for (int[] s : pending) {
      String name = cString(strings + s[0]);
      if (name.isEmpty()) {
        continue;
      }
      Map<String, Integer> members = new LinkedHashMap<>();
      for (int m = 0; m < s[3]; m++) {
        int at = s[2] + m * 12;
        int bitOffset = elf.getInt(at + 8);
        if (s[4] != 0) {
          bitOffset &= 0xFFFFFF; // kind_flag: bitfield size lives in the top 8 bits
        }
        members.put(cString(strings + elf.getInt(at)), bitOffset / 8);
      }
      structs.put(name, new Layout(name, s[1], members));
    }
  }

  /** Bytes that follow struct btf_type for each kind (linux/btf.h). */
  private static int extraBytes(int kind, int vlen) {
    return switch (kind) {
      case 1, 14, 17 -> 4; // INT, VAR, DECL_TAG
      case 3 -> 12; // ARRAY
      case 4, 5, 15, 19 -> 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
      case 6, 13 -> 8 * vlen; // ENUM, FUNC_PROTO
      case 2, 7, 8, 9, 10, 11, 12, 16, 18 -> 0;
      default -> throw new IllegalArgumentException("unknown BTF kind " + kind);
    };
  }

  private void readSymbols(long[] symtab, long[] strtab) {
    for (long at = symtab[1]; at + 24 <= symtab[1] + symtab[2]; at += 24) {
      int a = (int) at;
      String name = cString((int) (strtab[1] + Integer.toUnsignedLong(elf.getInt(a))));
      if (!name.isEmpty()) {
        symbols.put(name, new long[] {elf.getShort(a + 6) & 0xFFFF, elf.getLong(a + 8)});
      }
    }
  }

  private String cString(int offset) {
    int end = offset;
    while (elf.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - offset];
    elf.get(offset, bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
