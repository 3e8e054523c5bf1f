package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.RemoteWriteDone;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Anything that is not a well-formed record gives MalformedRecordException, never another one.
 * Arbitrary bytes are {@link RecordDecoderFuzzTest}'s.
 */
class RecordDecoderMalformedTest {
  private static final List<String> ALL =
      List.of(
          "exec-scenario.bin",
          "exec-setuid-su.bin",
          "exec-memfd.bin",
          "exec-deleted.bin",
          "exec-tmpfs-mount.bin",
          "exec-deep-truncated.bin",
          "exit-status-7.bin",
          "exit-sigkill.bin",
          "mapping-mmap-libc.bin",
          "mapping-mprotect-true.bin",
          "anon-mmap.bin",
          "anon-mprotect.bin",
          "injection-ptrace-attach.bin",
          "injection-ptrace-pokedata.bin",
          "injection-process-vm-writev.bin",
          "memfd-create.bin");

  private final RecordDecoder decoder = new RecordDecoder();

  @Test
  void everyTruncationOfEveryFixtureIsMalformed() {
    for (String name : ALL) {
      byte[] record = Fixtures.bytes(name);
      for (int length = 0; length < record.length; length++) {
        ByteBuffer truncated = ByteBuffer.wrap(Arrays.copyOf(record, length));
        assertThatThrownBy(() -> decoder.decode(truncated))
            .as("%s cut at %d bytes", name, length)
            .isInstanceOf(MalformedRecordException.class);
      }
    }
  }

  @Test
  void anotherSchemaVersionIsRejected() {
    byte[] record = Fixtures.bytes("exit-status-7.bin");
    putShort(record, WireFormat.Header.VERSION, WireFormat.SCHEMA_VERSION + 1);

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(record)))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("schema version " + (WireFormat.SCHEMA_VERSION + 1));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 9, 10, 0xFFFF})
  void unknownKindsAreRejected(int kind) {
    byte[] record = Fixtures.bytes("exit-status-7.bin");
    putShort(record, WireFormat.Header.KIND, kind);

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(record)))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("unknown record kind");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 63, 65, 896, -1})
  void aSizeOtherThanTheKindsIsRejected(int size) {
    byte[] record = Arrays.copyOf(Fixtures.bytes("exit-status-7.bin"), 1024);
    putInt(record, WireFormat.Header.RECORD_SIZE, size);

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(record)))
        .isInstanceOf(MalformedRecordException.class);
  }

  @Test
  void aStringLengthBeyondItsFieldIsRejected() {
    byte[] record = Fixtures.bytes("exec-scenario.bin");
    putShort(record, WireFormat.Exec.PATH_LEN, WireFormat.Exec.PATH_CAPACITY);

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(record)))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("path length 512");
  }

  @Test
  void unknownEnumCodesAreRejected() {
    byte[] mapping = Fixtures.bytes("anon-mmap.bin");
    putInt(mapping, WireFormat.AnonExec.SOURCE, 3);
    byte[] injection = Fixtures.bytes("injection-ptrace-attach.bin");
    putInt(injection, WireFormat.Injection.REQUEST, 0); // PTRACE_TRACEME: never reported

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(mapping)))
        .isInstanceOf(MalformedRecordException.class);
    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(injection)))
        .isInstanceOf(MalformedRecordException.class);
  }

  @Test
  void aWriteDoneRecordNamesAPokeOrProcessVmWritev() throws Exception {
    byte[] done = Fixtures.bytes("injection-ptrace-pokedata.bin");
    putInt(done, WireFormat.Injection.TECHNIQUE, WireFormat.INJECT_WRITE_DONE);
    assertThat(decoder.decode(ByteBuffer.wrap(done)))
        .isInstanceOfSatisfying(
            RemoteWriteDone.class,
            d -> assertThat(d.technique()).isEqualTo(InjectionTechnique.PTRACE_POKEDATA));
    putInt(done, WireFormat.Injection.REQUEST, 16); // PTRACE_ATTACH writes nothing

    assertThatThrownBy(() -> decoder.decode(ByteBuffer.wrap(done)))
        .isInstanceOf(MalformedRecordException.class)
        .hasMessageContaining("ptrace request 16");
  }

  @Test
  void nullIsMalformedToo() {
    assertThatThrownBy(() -> decoder.decode(null)).isInstanceOf(MalformedRecordException.class);
  }

  private static void putShort(byte[] record, int offset, int value) {
    ByteBuffer.wrap(record).order(ByteOrder.nativeOrder()).putShort(offset, (short) value);
  }

  private static void putInt(byte[] record, int offset, int value) {
    ByteBuffer.wrap(record).order(ByteOrder.nativeOrder()).putInt(offset, value);
  }
}
