package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProcMapsTest {
  private static final String MAPS =
      String.join(
          "\n",
          "558960c58000-558960c5a000 r--p 00000000 fe:00 260131                     /usr/bin/cat",
          "558960c5a000-558960c5f000 r-xp 00002000 fe:00 260131                     /usr/bin/cat",
          "558977219000-55897723a000 rw-p 00000000 00:00 0                          [heap]",
          "7f0aee6f7000-7f0aee719000 rwxp 00000000 00:00 0 ",
          "7f0aee7a2000-7f0aee8f8000 r-xp 00026000 fe:00 339380                    "
              + " /usr/lib/x86_64-linux-gnu/libc.so.6",
          "7f0aee900000-7f0aee901000 r-xp 00001000 fe:00 4242                       /tmp/dir with"
              + " spaces/lib x.so (deleted)",
          "7f0aee910000-7f0aee912000 r-xp 00000000 00:01 2051                       /memfd:jit code"
              + " (deleted)",
          "7f0aee920000-7f0aee921000 r-xp 00000000 00:00 0                          [anon:v8 jit]",
          "7f0aee969000-7f0aee96d000 r--p 00000000 00:00 0                          [vvar]",
          "7ffd1a3f0000-7ffd1a3f2000 r-xp 00000000 00:00 0                          [vdso]",
          "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
          "7ffd1a300000-7ffd1a321000 rw-p 00000000 00:00 0                          [stack]",
          "");

  @Test
  void parsesEveryKindOfLine() {
    List<MemoryMapping> maps = ProcMaps.parse(MAPS);

    assertThat(maps).hasSize(12);
    MemoryMapping text = maps.get(1);
    assertThat(text.start()).isEqualTo(0x558960c5a000L);
    assertThat(text.end()).isEqualTo(0x558960c5f000L);
    assertThat(text.length()).isEqualTo(0x5000);
    assertThat(text.offset()).isEqualTo(0x2000);
    assertThat(text.devMajor()).isEqualTo(0xfe);
    assertThat(text.devMinor()).isZero();
    assertThat(text.inode()).isEqualTo(260131);
    assertThat(text.executable()).isTrue();
    assertThat(text.writable()).isFalse();
    assertThat(text.kind()).isEqualTo(MemoryMapping.Kind.FILE);
    assertThat(text.fileBacked()).isTrue();
    assertThat(text.mapFilesName()).isEqualTo("558960c5a000-558960c5f000");
    assertThat(text.kernelDev()).isEqualTo(0xfeL << 20);

    assertThat(maps)
        .extracting(MemoryMapping::kind)
        .containsExactly(
            MemoryMapping.Kind.FILE,
            MemoryMapping.Kind.FILE,
            MemoryMapping.Kind.HEAP,
            MemoryMapping.Kind.ANONYMOUS,
            MemoryMapping.Kind.FILE,
            MemoryMapping.Kind.DELETED_FILE,
            MemoryMapping.Kind.MEMFD,
            MemoryMapping.Kind.ANONYMOUS,
            MemoryMapping.Kind.SPECIAL,
            MemoryMapping.Kind.VDSO,
            MemoryMapping.Kind.VSYSCALL,
            MemoryMapping.Kind.STACK);
  }

  @Test
  void keepsSpacesInPathsAndStripsTheDeletedSuffix() {
    List<MemoryMapping> maps = ProcMaps.parse(MAPS);
    assertThat(maps.get(5).pathname()).isEqualTo("/tmp/dir with spaces/lib x.so (deleted)");
    assertThat(maps.get(5).filePath()).isEqualTo("/tmp/dir with spaces/lib x.so");
    assertThat(maps.get(6).filePath()).isEqualTo("/memfd:jit code");
    assertThat(maps.get(6).fileBacked()).isTrue();
    assertThat(maps.get(3).pathname()).isEmpty();
    assertThat(maps.get(3).fileBacked()).isFalse();
    assertThat(maps.get(9).filePath()).isEmpty();
  }

  @Test
  void parsesKernelHalfAddressesUnsigned() {
    MemoryMapping vsyscall = ProcMaps.parse(MAPS).get(10);
    assertThat(vsyscall.start()).isEqualTo(0xffffffffff600000L);
    assertThat(vsyscall.length()).isEqualTo(4096);
    assertThat(vsyscall.contains(0xffffffffff600800L)).isTrue();
    assertThat(vsyscall.contains(0xffffffffff601000L)).isFalse();
  }

  @Test
  void rejectsMalformedLinesNamingThem() {
    assertThat(ProcMaps.parseLine("not a maps line")).isEmpty();
    assertThat(ProcMaps.parseLine("1000-0fff r-xp 00000000 00:00 0")).isEmpty();
    assertThat(ProcMaps.parseLine("zz-1000 r-xp 00000000 00:00 0")).isEmpty();
    assertThat(ProcMaps.parseLine("1000-2000 r-x 00000000 00:00 0")).isEmpty();
    assertThatThrownBy(() -> ProcMaps.parse("1000-2000 r-xp 00000000 00:00 0\ngarbage\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("line 2");
  }

  @Test
  void parsesStatusAndStartTime() {
    ProcStatus s =
        ProcStatus.parse(
            "Name:\tspin\nUmask:\t0022\nState:\tS (sleeping)\nTracerPid:\t4242\n"
                + "Uid:\t1000\t1000\t1000\t1000\n");
    assertThat(s.name()).isEqualTo("spin");
    assertThat(s.tracerPid()).isEqualTo(4242);
    assertThat(s.realUid()).isEqualTo(1000);
    assertThat(s.fields()).containsEntry("State", "S (sleeping)");
    assertThat(ProcStatus.parse("Name:\tx\n").tracerPid()).isZero();

    // comm may hold spaces and parentheses: field 22 is counted after the last ')'.
    String stat =
        "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
    assertThat(ProcStatus.startTicks(stat)).isEqualTo(987654L);
    // Field 22 the last one, followed by a newline.
    assertThat(ProcStatus.startTicks(stat.substring(0, stat.indexOf("987654") + 6) + "\n"))
        .isEqualTo(987654L);
    assertThatThrownBy(() -> ProcStatus.startTicks("1234 (x) S 1"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(ProcStatus.state(stat)).isEqualTo('S');
    assertThat(ProcStatus.state("9 (z) Z 1 9")).isEqualTo('Z');
    assertThatThrownBy(() -> ProcStatus.state("9 (z)"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theRealUidIsTheFirstOfTheTabSeparatedValues() {
    assertThat(ProcStatus.parse("Uid:\t0\t1000\t1000\t1000\n").realUid()).isZero();
    assertThat(ProcStatus.parse("Uid:\t1000\n").realUid()).isEqualTo(1000);
    assertThat(ProcStatus.parse("Uid:\t\n").realUid()).isEqualTo(-1);
    assertThat(ProcStatus.parse("Uid:\tx\t1\n").realUid()).isEqualTo(-1);
  }
}
