package dev.veriruntime.ingest.record;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.ProbeSpec;
import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.FollowReason;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.ingest.record.ProbeObjectBtf.Layout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java view of the wire records must be the layout clang actually produced: every offset and
 * size in {@link WireFormat} is compared with the BTF of the probe object packaged in the jar (the
 * committed bpf/veriruntime.bpf.o). Every member of each C struct must be known to Java, except
 * explicit padding, so a field added in C without a decoder change fails here. Needs no root.
 */
class WireFormatBtfTest {
  private static ProbeObjectBtf btf;

  @BeforeAll
  static void readObject() throws IOException {
    try (InputStream in = WireFormat.class.getResourceAsStream(WireFormat.PROBE_OBJECT_RESOURCE)) {
      btf = new ProbeObjectBtf(Objects.requireNonNull(in, "probe object resource").readAllBytes());
    }
  }

  private static void assertLayout(String struct, int size, Map<String, Integer> javaOffsets) {
    Layout layout =
        btf.struct(struct).orElseThrow(() -> new AssertionError(struct + " not in BTF"));
    assertThat(layout.size()).as("sizeof(struct %s)", struct).isEqualTo(size);
    Map<String, Integer> cOffsets = new TreeMap<>(layout.memberOffsets());
    cOffsets.keySet().removeIf(member -> member.startsWith("_pad"));
    assertThat(new TreeMap<>(javaOffsets)).as("offsets of struct %s", struct).isEqualTo(cOffsets);
  }

  @Test
  void header() {
    assertLayout(
        "vr_header",
        WireFormat.Header.SIZE,
        Map.of(
            "version", WireFormat.Header.VERSION,
            "kind", WireFormat.Header.KIND,
            "size", WireFormat.Header.RECORD_SIZE,
            "ktime_ns", WireFormat.Header.KTIME_NS,
            "pid", WireFormat.Header.PID,
            "tgid", WireFormat.Header.TGID,
            "uid", WireFormat.Header.UID,
            "gid", WireFormat.Header.GID,
            "cgroup_id", WireFormat.Header.CGROUP_ID,
            "comm", WireFormat.Header.COMM));
    assertThat(WireFormat.Header.COMM_LEN)
        .isEqualTo(WireFormat.Header.SIZE - WireFormat.Header.COMM);
  }

  @Test
  void file() {
    assertLayout(
        "vr_file",
        WireFormat.File.SIZE,
        Map.of(
            "dev", WireFormat.File.DEV,
            "ino", WireFormat.File.INO,
            "ctime_ns", WireFormat.File.CTIME_NS,
            "size", WireFormat.File.FILE_SIZE,
            "nlink", WireFormat.File.NLINK,
            "mode", WireFormat.File.MODE,
            "flags", WireFormat.File.FLAGS,
            "generation", WireFormat.File.GENERATION,
            "magic", WireFormat.File.MAGIC));
  }

  @Test
  void exec() {
    assertLayout(
        "vr_exec",
        WireFormat.Exec.SIZE,
        Map.ofEntries(
            Map.entry("hdr", 0),
            Map.entry("ppid", WireFormat.Exec.PPID),
            Map.entry("old_pid", WireFormat.Exec.OLD_PID),
            Map.entry("euid", WireFormat.Exec.EUID),
            Map.entry("egid", WireFormat.Exec.EGID),
            Map.entry("file", WireFormat.Exec.FILE),
            Map.entry("path_flags", WireFormat.Exec.PATH_FLAGS),
            Map.entry("path_len", WireFormat.Exec.PATH_LEN),
            Map.entry("filename_len", WireFormat.Exec.FILENAME_LEN),
            Map.entry("filename", WireFormat.Exec.FILENAME),
            Map.entry("path", WireFormat.Exec.PATH)));
    assertThat(WireFormat.Exec.PATH - WireFormat.Exec.FILENAME)
        .isEqualTo(WireFormat.Exec.FILENAME_CAPACITY);
    assertThat(WireFormat.Exec.SIZE - WireFormat.Exec.PATH)
        .isEqualTo(WireFormat.Exec.PATH_CAPACITY);
  }

  @Test
  void exit() {
    assertLayout(
        "vr_exit", WireFormat.Exit.SIZE, Map.of("hdr", 0, "exit_code", WireFormat.Exit.EXIT_CODE));
  }

  @Test
  void execMapping() {
    assertLayout(
        "vr_exec_mapping",
        WireFormat.ExecMapping.SIZE,
        Map.ofEntries(
            Map.entry("hdr", 0),
            Map.entry("addr", WireFormat.ExecMapping.ADDR),
            Map.entry("len", WireFormat.ExecMapping.LEN),
            Map.entry("offset", WireFormat.ExecMapping.OFFSET),
            Map.entry("prot", WireFormat.ExecMapping.PROT),
            Map.entry("map_flags", WireFormat.ExecMapping.MAP_FLAGS),
            Map.entry("source", WireFormat.ExecMapping.SOURCE),
            Map.entry("fd", WireFormat.ExecMapping.FD),
            Map.entry("file", WireFormat.ExecMapping.FILE),
            Map.entry("path_flags", WireFormat.ExecMapping.PATH_FLAGS),
            Map.entry("path_len", WireFormat.ExecMapping.PATH_LEN),
            Map.entry("path", WireFormat.ExecMapping.PATH)));
    assertThat(WireFormat.ExecMapping.SIZE - WireFormat.ExecMapping.PATH)
        .isEqualTo(WireFormat.ExecMapping.PATH_CAPACITY);
  }

  @Test
  void anonymousExec() {
    assertLayout(
        "vr_anon_exec",
        WireFormat.AnonExec.SIZE,
        Map.of(
            "hdr", 0,
            "addr", WireFormat.AnonExec.ADDR,
            "len", WireFormat.AnonExec.LEN,
            "prot", WireFormat.AnonExec.PROT,
            "map_flags", WireFormat.AnonExec.MAP_FLAGS,
            "source", WireFormat.AnonExec.SOURCE));
  }

  @Test
  void injection() {
    assertLayout(
        "vr_injection",
        WireFormat.Injection.SIZE,
        Map.of(
            "hdr", 0,
            "technique", WireFormat.Injection.TECHNIQUE,
            "target_pid", WireFormat.Injection.TARGET_PID,
            "request", WireFormat.Injection.REQUEST,
            "addr", WireFormat.Injection.ADDR,
            "count", WireFormat.Injection.COUNT));
  }

  @Test
  void memfdCreate() {
    assertLayout(
        "vr_memfd_create",
        WireFormat.MemfdCreate.SIZE,
        Map.of(
            "hdr", 0,
            "flags", WireFormat.MemfdCreate.FLAGS,
            "fd", WireFormat.MemfdCreate.FD,
            "name_len", WireFormat.MemfdCreate.NAME_LEN,
            "name", WireFormat.MemfdCreate.NAME));
    assertThat(WireFormat.MemfdCreate.SIZE - WireFormat.MemfdCreate.NAME)
        .isEqualTo(WireFormat.MemfdCreate.NAME_CAPACITY);
  }

  @Test
  void fileWrite() {
    assertLayout(
        "vr_file_write",
        WireFormat.FileWrite.SIZE,
        Map.of(
            "hdr", 0,
            "operation", WireFormat.FileWrite.OPERATION,
            "fd", WireFormat.FileWrite.FD,
            "watch", WireFormat.FileWrite.WATCH,
            "arg", WireFormat.FileWrite.ARG,
            "file", WireFormat.FileWrite.FILE,
            "writer", WireFormat.FileWrite.WRITER,
            "path_flags", WireFormat.FileWrite.PATH_FLAGS,
            "path_len", WireFormat.FileWrite.PATH_LEN,
            "path", WireFormat.FileWrite.PATH));
    assertThat(WireFormat.FileWrite.SIZE - WireFormat.FileWrite.PATH)
        .isEqualTo(WireFormat.FileWrite.PATH_CAPACITY);
  }

  @Test
  void watchKey() {
    assertLayout(
        "vr_watch_key",
        WireFormat.WatchKey.SIZE,
        Map.of("dev", WireFormat.WatchKey.DEV, "ino", WireFormat.WatchKey.INO));
    assertThat(ProbeSpec.VERIRUNTIME_WIRING.writeWatch().keySize())
        .isEqualTo(WireFormat.WatchKey.SIZE);
    assertThat(ProbeSpec.VERIRUNTIME_WIRING.writeWatch().watchedFilesMap())
        .isEqualTo(WireFormat.Maps.WATCHED_FILES);
    assertLayout(
        "vr_watch",
        WireFormat.Watch.SIZE,
        Map.of("reasons", WireFormat.Watch.REASONS, "generation", WireFormat.Watch.GENERATION));
  }

  @Test
  void counter() {
    assertLayout(
        "vr_counter",
        WireFormat.Counter.SIZE,
        Map.of("seen", WireFormat.Counter.SEEN, "lost", WireFormat.Counter.LOST));
  }

  @Test
  void fileKey() {
    assertLayout(
        "vr_file_key",
        WireFormat.FileKey.SIZE,
        Map.of(
            "dev", WireFormat.FileKey.DEV,
            "ino", WireFormat.FileKey.INO,
            "ctime_ns", WireFormat.FileKey.CTIME_NS,
            "size", WireFormat.FileKey.FILE_SIZE));
  }

  @Test
  void quietTask() {
    assertLayout(
        "vr_quiet_exe",
        WireFormat.QuietExe.SIZE,
        Map.of(
            "execs", WireFormat.QuietExe.EXECS,
            "first_ns", WireFormat.QuietExe.FIRST_NS,
            "last_ns", WireFormat.QuietExe.LAST_NS,
            "last_pid", WireFormat.QuietExe.LAST_PID,
            "flags", WireFormat.QuietExe.FLAGS));
    assertLayout(
        "vr_quiet_task",
        WireFormat.QuietTask.SIZE,
        Map.of("exec_ns", WireFormat.QuietTask.EXEC_NS, "ppid", WireFormat.QuietTask.PPID));
  }

  @Test
  void decoderSizesAreTheStructSizes() {
    Map<EventKind, String> structOf =
        Map.of(
            EventKind.EXEC, "vr_exec",
            EventKind.EXIT, "vr_exit",
            EventKind.EXEC_MAPPING, "vr_exec_mapping",
            EventKind.ANONYMOUS_EXEC, "vr_anon_exec",
            EventKind.INJECTION, "vr_injection",
            EventKind.MEMFD_CREATE, "vr_memfd_create",
            EventKind.FILE_WRITE, "vr_file_write",
            EventKind.TOOLCHAIN_WRITE, "vr_file_write");
    assertThat(structOf).hasSize(EventKind.values().length);
    structOf.forEach(
        (kind, struct) ->
            assertThat(RecordDecoder.expectedSize(kind))
                .as(struct)
                .isEqualTo(btf.struct(struct).orElseThrow().size()));
  }

  @Test
  void loadTimeSettingsAreWhereJavaWritesThem() {
    assertThat(btf.symbolOffset(WireFormat.Config.SECTION, WireFormat.Config.AGENT_TGID_SYMBOL))
        .contains((long) WireFormat.Config.AGENT_TGID);
    assertThat(btf.symbolOffset(WireFormat.Config.SECTION, WireFormat.Config.TRACE_MMAP_SYMBOL))
        .contains((long) WireFormat.Config.TRACE_MMAP);
    assertThat(
            btf.symbolOffset(WireFormat.Config.SECTION, WireFormat.Config.TRACE_INJECTION_SYMBOL))
        .contains((long) WireFormat.Config.TRACE_INJECTION);
    assertThat(btf.symbolOffset(WireFormat.Config.SECTION, WireFormat.Config.TRACE_WRITES_SYMBOL))
        .contains((long) WireFormat.Config.TRACE_WRITES);
    assertThat(btf.symbolOffset(WireFormat.Config.SECTION, WireFormat.Config.TRACE_LINEAGE_SYMBOL))
        .contains((long) WireFormat.Config.TRACE_LINEAGE);
  }

  @Test
  void theParserSeesKernelTypesToo() {
    // A sanity check of the BTF walk itself: the minimal kernel struct vr_kernel.h declares for
    // CO-RE, and a map value struct, with their known member lists.
    assertThat(btf.struct("mount").orElseThrow().memberOffsets())
        .containsExactly(
            Map.entry("mnt_parent", 0), Map.entry("mnt_mountpoint", 8), Map.entry("mnt", 16));
    assertThat(btf.struct("vr_pending_mprotect").orElseThrow().size()).isEqualTo(24);
  }

  @Test
  void macrosAndEnumsOfTheHeaderMatchJava() throws IOException {
    // Macros and enum constants leave no trace in BTF, so these are read from the header itself.
    String header = Files.readString(Path.of("..", "bpf", "veriruntime.h"));
    assertThat(define(header, "VR_SCHEMA_VERSION")).isEqualTo(WireFormat.SCHEMA_VERSION);
    assertThat(define(header, "VR_COMM_LEN")).isEqualTo(WireFormat.Header.COMM_LEN);
    assertThat(define(header, "VR_PATH_LEN")).isEqualTo(WireFormat.Exec.PATH_CAPACITY);
    assertThat(define(header, "VR_FILENAME_LEN")).isEqualTo(WireFormat.Exec.FILENAME_CAPACITY);
    assertThat(define(header, "VR_MEMFD_NAME_LEN")).isEqualTo(WireFormat.MemfdCreate.NAME_CAPACITY);
    assertThat(enumerator(header, "VR_KIND_EXEC")).isEqualTo(EventKind.EXEC.code());
    assertThat(enumerator(header, "VR_KIND_EXIT")).isEqualTo(EventKind.EXIT.code());
    assertThat(enumerator(header, "VR_KIND_EXEC_MAPPING")).isEqualTo(EventKind.EXEC_MAPPING.code());
    assertThat(enumerator(header, "VR_KIND_ANON_EXEC")).isEqualTo(EventKind.ANONYMOUS_EXEC.code());
    assertThat(enumerator(header, "VR_KIND_INJECTION")).isEqualTo(EventKind.INJECTION.code());
    assertThat(enumerator(header, "VR_KIND_MEMFD_CREATE")).isEqualTo(EventKind.MEMFD_CREATE.code());
    assertThat(enumerator(header, "VR_KIND_MAX")).isEqualTo(WireFormat.KIND_MAX);
    assertThat(enumerator(header, "VR_FILE_MEMFD")).isEqualTo(WireFormat.FILE_MEMFD);
    assertThat(enumerator(header, "VR_FILE_DELETED")).isEqualTo(WireFormat.FILE_DELETED);
    assertThat(enumerator(header, "VR_FILE_SETUID")).isEqualTo(WireFormat.FILE_SETUID);
    assertThat(enumerator(header, "VR_FILE_SETGID")).isEqualTo(WireFormat.FILE_SETGID);
    assertThat(enumerator(header, "VR_PATH_TRUNCATED")).isEqualTo(WireFormat.PATH_TRUNCATED);
    assertThat(enumerator(header, "VR_FILENAME_TRUNCATED"))
        .isEqualTo(WireFormat.FILENAME_TRUNCATED);
    assertThat(enumerator(header, "VR_PATH_UNRESOLVED")).isEqualTo(WireFormat.PATH_UNRESOLVED);
    assertThat(enumerator(header, "VR_SOURCE_MMAP")).isEqualTo(WireFormat.SOURCE_MMAP);
    assertThat(enumerator(header, "VR_SOURCE_MPROTECT")).isEqualTo(WireFormat.SOURCE_MPROTECT);
    assertThat(enumerator(header, "VR_INJECT_PTRACE")).isEqualTo(WireFormat.INJECT_PTRACE);
    assertThat(enumerator(header, "VR_INJECT_PROCESS_VM_WRITEV"))
        .isEqualTo(WireFormat.INJECT_PROCESS_VM_WRITEV);
    assertThat(enumerator(header, "VR_INJECT_PROC_MEM")).isEqualTo(WireFormat.INJECT_PROC_MEM);
    assertThat(enumerator(header, "VR_INJECT_PROC_MEM_WRITE"))
        .isEqualTo(WireFormat.INJECT_PROC_MEM_WRITE);
    assertThat(enumerator(header, "VR_INJECT_WRITE_DONE")).isEqualTo(WireFormat.INJECT_WRITE_DONE);
    assertThat(enumerator(header, "VR_KIND_FILE_WRITE")).isEqualTo(EventKind.FILE_WRITE.code());
    assertThat(enumerator(header, "VR_WRITE_OPEN")).isEqualTo(WireFormat.WRITE_OPEN);
    assertThat(enumerator(header, "VR_WRITE_FTRUNCATE")).isEqualTo(WireFormat.WRITE_FTRUNCATE);
    assertThat(enumerator(header, "VR_WRITE_DONE")).isEqualTo(WireFormat.WRITE_DONE);
    assertThat(enumerator(header, "VR_KIND_TOOLCHAIN_WRITE"))
        .isEqualTo(EventKind.TOOLCHAIN_WRITE.code());
    assertThat(enumerator(header, "VR_FILE_TOOLCHAIN")).isEqualTo(WireFormat.FILE_TOOLCHAIN);
    assertThat(enumerator(header, "VR_WATCH_VERIFIED"))
        .isEqualTo(WireFormat.WATCH_VERIFIED)
        .isEqualTo(WatchReason.VERIFIED.bit());
    assertThat(enumerator(header, "VR_WATCH_MAPPED_EXEC"))
        .isEqualTo(WireFormat.WATCH_MAPPED_EXEC)
        .isEqualTo(WatchReason.MAPPED_EXECUTABLE.bit());
    assertThat(enumerator(header, "VR_WATCH_SELF"))
        .isEqualTo(WireFormat.WATCH_SELF)
        .isEqualTo(WatchReason.SELF.bit());
    assertThat(enumerator(header, "VR_FOLLOW_INCIDENT")).isEqualTo(FollowReason.INCIDENT.bit());
    assertThat(enumerator(header, "VR_FOLLOW_LINEAGE")).isEqualTo(FollowReason.LINEAGE.bit());
    assertThat(enumerator(header, "VR_FOLLOW_TOOLCHAIN")).isEqualTo(FollowReason.TOOLCHAIN.bit());
    assertThat(enumerator(header, "VR_FOLLOW_INHERITED")).isEqualTo(FollowReason.INHERITED.bit());
    assertThat(enumerator(header, "VR_FOLLOW_GENERATION_SHIFT"))
        .isEqualTo(WireFormat.FollowGeneration.SHIFT);
    assertThat(enumerator(header, "VR_INCIDENT_GENERATIONS"))
        .isEqualTo(WireFormat.FollowGeneration.INCIDENT_GENERATIONS);
    assertThat(enumerator(header, "VR_TASKS_INCIDENT_DEPTH"))
        .isEqualTo(WireFormat.TaskCounts.INCIDENT_DEPTH);
    assertThat(enumerator(header, "VR_TASKS_FOLLOWED_EXECS"))
        .isEqualTo(WireFormat.TaskCounts.FOLLOWED_EXECS);
    assertThat(enumerator(header, "VR_TASKS_INHERITED")).isEqualTo(WireFormat.TaskCounts.INHERITED);
    assertThat(enumerator(header, "VR_TASKS_FOLLOW_DROPPED"))
        .isEqualTo(WireFormat.TaskCounts.FOLLOW_DROPPED);
    assertThat(enumerator(header, "VR_TASKS_UNTRACKED_EXITS"))
        .isEqualTo(WireFormat.TaskCounts.UNTRACKED_EXITS);
    assertThat(enumerator(header, "VR_TASK_COUNTS")).isEqualTo(WireFormat.TaskCounts.KEYS);
  }

  private static int define(String header, String name) {
    return number(header, "#define\\s+" + name + "\\s+(\\d+)", name);
  }

  private static int enumerator(String header, String name) {
    return number(header, "\\b" + name + "\\s*=\\s*(\\d+)", name);
  }

  private static int number(String header, String regex, String name) {
    Matcher m = Pattern.compile(regex).matcher(header);
    assertThat(m.find()).as("%s in veriruntime.h", name).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
