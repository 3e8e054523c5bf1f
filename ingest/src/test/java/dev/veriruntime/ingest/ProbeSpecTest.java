package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Reading a probe description needs no kernel, no root and no libbpf. */
class ProbeSpecTest {
  static final ProbeSpec.Wiring FIXTURE_WIRING =
      new ProbeSpec.Wiring(
          "events",
          new ProbeSpec.LossCounters("lost", 1, 1, 0),
          Set.of("fixture_exec"),
          "ignore_tgid");

  static byte[] fixtureBytes() throws IOException {
    try (InputStream in =
        ProbeSpecTest.class.getResourceAsStream(
            "/dev/veriruntime/ingest/kernel/ringbuf_fixture.bpf.o")) {
      return in.readAllBytes();
    }
  }

  static ProbeSpec fixture() throws IOException {
    return ProbeSpec.parse("fixture", fixtureBytes(), FIXTURE_WIRING);
  }

  @Test
  void listsProgramsMapsAndSettingsFromTheElf() throws IOException {
    ProbeSpec spec = fixture();
    assertThat(spec.programs())
        .containsExactly(
            new ProbeSpec.ProgramSpec("fixture_exec", "raw_tp/sched_process_exec"),
            new ProbeSpec.ProgramSpec("fixture_optional_fentry", "fentry/do_exit"));
    assertThat(spec.maps()).containsExactlyInAnyOrder("events", "lost");
    assertThat(spec.constants())
        .containsOnly(
            Map.entry("ignore_tgid", new ProbeSpec.ConstantSpec("ignore_tgid", 0, 4)),
            Map.entry("fixture_magic", new ProbeSpec.ConstantSpec("fixture_magic", 8, 8)));
    assertThat(spec.rodata()).hasSize(16).containsOnly(0);
    assertThat(spec.isRequired("fixture_exec")).isTrue();
    assertThat(spec.isRequired("fixture_optional_fentry")).isFalse();
  }

  @Test
  void writesSettingsLittleEndianAtTheirOffsets() throws IOException {
    byte[] image = fixture().rodataWith(Map.of("ignore_tgid", 4242L, "fixture_magic", -2L));
    ByteBuffer buffer = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(buffer.getInt(0)).isEqualTo(4242);
    assertThat(buffer.getLong(8)).isEqualTo(-2L);
  }

  @Test
  void refusesUnknownOrOversizedSettings() throws IOException {
    ProbeSpec spec = fixture();
    assertThatThrownBy(() -> spec.rodataWith(Map.of("nope", 1L)))
        .hasMessageContaining("no setting 'nope'");
    assertThatThrownBy(() -> spec.rodataWith(Map.of("ignore_tgid", 1L << 33)))
        .hasMessageContaining("does not fit");
  }

  @Test
  void checksTheWiringAgainstTheObject() throws IOException {
    byte[] bytes = fixtureBytes();
    assertThatThrownBy(
            () -> ProbeSpec.parse("x", bytes, new ProbeSpec.Wiring("ring", null, Set.of(), null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no ring-buffer map 'ring'");
    assertThatThrownBy(
            () ->
                ProbeSpec.parse(
                    "x", bytes, new ProbeSpec.Wiring("events", null, Set.of("missing"), null)))
        .hasMessageContaining("no program 'missing'");
    assertThatThrownBy(
            () ->
                ProbeSpec.parse(
                    "x",
                    bytes,
                    new ProbeSpec.Wiring(
                        "events", new ProbeSpec.LossCounters("gone", 1, 1, 0), Set.of(), null)))
        .hasMessageContaining("no lost-counter map 'gone'");
  }

  @Test
  void rejectsNonBpfAndTruncatedFiles() throws IOException {
    byte[] bytes = fixtureBytes();
    assertThatThrownBy(() -> ProbeSpec.parse("x", "hello".getBytes(), FIXTURE_WIRING))
        .hasMessageContaining("not an ELF");
    assertThatThrownBy(() -> ProbeSpec.parse("x", Arrays.copyOf(bytes, 200), FIXTURE_WIRING))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("malformed");
    byte[] x86 = bytes.clone();
    x86[0x12] = 62;
    assertThatThrownBy(() -> ProbeSpec.parse("x", x86, FIXTURE_WIRING))
        .hasMessageContaining("not BPF");
  }

  /**
   * The per-syscall programs are attached to the syscalls the wiring lists, and the raw ones see
   * every syscall: the two agree only if the list is the dispatch's cases in the probe's source
   * (each {@code case NR_name:} of {@code on_sys_enter} and {@code on_sys_exit}).
   */
  @Test
  void theSyscallHooksListTheSyscallsTheProbeDispatches() throws IOException {
    String source = Files.readString(Path.of("..", "bpf", "veriruntime.bpf.c"));
    ProbeSpec.SyscallHooks hooks = ProbeSpec.VERIRUNTIME_WIRING.syscallHooks();
    assertThat(cases(source, "on_sys_enter"))
        .containsExactlyInAnyOrderElementsOf(hooks.enterSyscalls());
    assertThat(cases(source, "on_sys_exit"))
        .containsExactlyInAnyOrderElementsOf(hooks.exitSyscalls());
    assertThat(hooks.exitSyscalls()).containsAll(hooks.optionalSyscalls());
  }

  /** The syscall names of the {@code case NR_x:} labels in the body of C function {@code name}. */
  private static List<String> cases(String source, String name) {
    int start = source.indexOf("static __always_inline int " + name + "(");
    assertThat(start).as("function %s in the probe's source", name).isNotNegative();
    int end = source.indexOf("\n}\n", start);
    Matcher m = Pattern.compile("case NR_(\\w+):").matcher(source.substring(start, end));
    List<String> names = new ArrayList<>();
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  @Test
  void objectBytesAreDefensiveCopies() throws IOException {
    ProbeSpec spec = fixture();
    spec.objectBytes()[0] = 0;
    assertThat(spec.objectBytes()[0]).isEqualTo((byte) 0x7f);
  }
}
