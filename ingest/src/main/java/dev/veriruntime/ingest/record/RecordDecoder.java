package dev.veriruntime.ingest.record;

import dev.veriruntime.ingest.event.AnonymousExecEvent;
import dev.veriruntime.ingest.event.EventKind;
import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ExecMappingEvent;
import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ExitEvent;
import dev.veriruntime.ingest.event.FileWriteEvent;
import dev.veriruntime.ingest.event.FileWriteOperation;
import dev.veriruntime.ingest.event.InjectionEvent;
import dev.veriruntime.ingest.event.InjectionTechnique;
import dev.veriruntime.ingest.event.MappingSource;
import dev.veriruntime.ingest.event.MemfdCreateEvent;
import dev.veriruntime.ingest.event.RemoteWriteDone;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.ingest.event.ToolchainWriteEvent;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.ByteBuffer;

/**
 * Turns one raw ring-buffer record (bpf/veriruntime.h) into a domain {@link RuntimeEvent}: the one
 * place where raw records become events.
 *
 * <pre>{@code
 * RecordDecoder decoder = new RecordDecoder();
 * RuntimeEvent event = decoder.decode(sample); // sample: the bytes libbpf handed to the callback
 * }</pre>
 *
 * <p>The record spans {@code [position, position + vr_header.size)} of the buffer, which may hold
 * more bytes after it. The buffer's position, limit and byte order are left untouched, and nothing
 * of the buffer is retained, so a ring-buffer slot may be reused as soon as {@code decode} returns.
 * Multi-byte fields are read in native byte order.
 *
 * <p>Thread-safe; its only state is a cache of recent strings (paths, command names), so a string
 * seen before costs no allocation, and a per-thread copy buffer for records that do not lie in a
 * heap array. A record in a heap array (what the ring-buffer reader hands) is read in place; one
 * elsewhere is copied first. Apart from strings not seen before, a record costs the domain objects
 * it becomes and nothing else. Any deviation from the wire format (version, kind, size, length
 * fields, enum codes) raises {@link MalformedRecordException}, never another exception.
 */
public final class RecordDecoder {

  /** The largest record struct: what a record outside a heap array is copied into. */
  private static final int MAX_RECORD =
      Math.max(
          Math.max(WireFormat.Exec.SIZE, WireFormat.ExecMapping.SIZE),
          Math.max(WireFormat.FileWrite.SIZE, WireFormat.MemfdCreate.SIZE));

  private final StringCache strings = new StringCache();

  // Records outside a heap array (direct or read-only buffers) are read from a copy.
  private final ThreadLocal<byte[]> scratch = ThreadLocal.withInitial(() -> new byte[MAX_RECORD]);

  public RecordDecoder() {}

  /**
   * Decodes the record at the buffer's position.
   *
   * @throws MalformedRecordException if the record is shorter than its header, has another schema
   *     version, an unknown kind, a size other than its kind's, or a field out of range
   */
  public RuntimeEvent decode(ByteBuffer buffer) throws MalformedRecordException {
    if (buffer == null) {
      throw new MalformedRecordException("no record (null buffer)");
    }
    int available = buffer.remaining();
    if (available < WireFormat.Header.SIZE) {
      throw new MalformedRecordException(
          "record of "
              + available
              + " bytes is shorter than its "
              + WireFormat.Header.SIZE
              + "-byte header");
    }
    byte[] bytes;
    int base;
    if (buffer.hasArray()) {
      // The ring-buffer reader's case: read the record where it lies.
      bytes = buffer.array();
      base = buffer.arrayOffset() + buffer.position();
    } else {
      bytes = scratch.get();
      buffer.get(buffer.position(), bytes, 0, Math.min(available, bytes.length));
      base = 0;
    }
    int version = RawRecord.u16(bytes, base + WireFormat.Header.VERSION);
    if (version != WireFormat.SCHEMA_VERSION) {
      throw new MalformedRecordException(
          "schema version "
              + version
              + ", expected "
              + WireFormat.SCHEMA_VERSION
              + " (probe object and decoder come from different builds)");
    }
    int kindCode = RawRecord.u16(bytes, base + WireFormat.Header.KIND);
    EventKind kind = EventKind.fromCode(kindCode).orElse(null);
    if (kind == null) {
      throw new MalformedRecordException("unknown record kind " + kindCode);
    }
    long size = Integer.toUnsignedLong(RawRecord.s32(bytes, base + WireFormat.Header.RECORD_SIZE));
    int expected = expectedSize(kind);
    if (size != expected) {
      throw new MalformedRecordException(
          kind + " record declares " + size + " bytes, its struct has " + expected);
    }
    if (available < expected) {
      throw new MalformedRecordException(
          kind + " record truncated: " + available + " of " + expected + " bytes");
    }
    // From here on every field lies inside the record: its kind's struct size was checked above.
    RawRecord raw = new RawRecord(bytes, base, strings);
    return switch (kind) {
      case EXEC -> exec(raw);
      case EXIT -> exit(raw);
      case EXEC_MAPPING -> execMapping(raw);
      case ANONYMOUS_EXEC -> anonymousExec(raw);
      case INJECTION -> injection(raw);
      case MEMFD_CREATE -> memfdCreate(raw);
      case FILE_WRITE -> fileWrite(raw);
      case TOOLCHAIN_WRITE -> toolchainWrite(raw);
    };
  }

  /** The size of the C struct for a kind ({@code sizeof(struct vr_*)}). */
  public static int expectedSize(EventKind kind) {
    return switch (kind) {
      case EXEC -> WireFormat.Exec.SIZE;
      case EXIT -> WireFormat.Exit.SIZE;
      case EXEC_MAPPING -> WireFormat.ExecMapping.SIZE;
      case ANONYMOUS_EXEC -> WireFormat.AnonExec.SIZE;
      case INJECTION -> WireFormat.Injection.SIZE;
      case MEMFD_CREATE -> WireFormat.MemfdCreate.SIZE;
      case FILE_WRITE, TOOLCHAIN_WRITE -> WireFormat.FileWrite.SIZE;
    };
  }

  /** Mirrors C {@code struct vr_header}. */
  private static TaskContext task(RawRecord raw) throws MalformedRecordException {
    return new TaskContext(
        raw.s32(WireFormat.Header.PID),
        raw.s32(WireFormat.Header.TGID),
        raw.s32(WireFormat.Header.UID),
        raw.s32(WireFormat.Header.GID),
        raw.s64(WireFormat.Header.CGROUP_ID),
        raw.cString(WireFormat.Header.COMM, WireFormat.Header.COMM_LEN));
  }

  private static long time(RawRecord raw) throws MalformedRecordException {
    return raw.s64(WireFormat.Header.KTIME_NS);
  }

  /** Mirrors C {@code struct vr_exec}. */
  private static ExecEvent exec(RawRecord raw) throws MalformedRecordException {
    int pathFlags = raw.s32(WireFormat.Exec.PATH_FLAGS);
    String filename =
        raw.sizedString(
            WireFormat.Exec.FILENAME,
            raw.u16(WireFormat.Exec.FILENAME_LEN),
            WireFormat.Exec.FILENAME_CAPACITY,
            "filename");
    String path =
        raw.sizedString(
            WireFormat.Exec.PATH,
            raw.u16(WireFormat.Exec.PATH_LEN),
            WireFormat.Exec.PATH_CAPACITY,
            "path");
    return new ExecEvent(
        time(raw),
        task(raw),
        raw.s32(WireFormat.Exec.PPID),
        raw.s32(WireFormat.Exec.OLD_PID),
        raw.s32(WireFormat.Exec.EUID),
        raw.s32(WireFormat.Exec.EGID),
        // A late exec (see WireFormat.EXEC_LATE) has no filename: the executable's path stands in.
        (pathFlags & WireFormat.EXEC_LATE) != 0 ? path : filename,
        (pathFlags & WireFormat.FILENAME_TRUNCATED) != 0,
        file(raw, WireFormat.Exec.FILE, path, pathFlags),
        (pathFlags & WireFormat.EXEC_LATE) != 0);
  }

  /** Mirrors C {@code struct vr_file} at {@code base}, plus the record's path fields. */
  private static ExecutableFile file(RawRecord raw, int base, String path, int pathFlags)
      throws MalformedRecordException {
    int flags = raw.u16(base + WireFormat.File.FLAGS);
    FileIdentity identity =
        new FileIdentity(
            raw.s64(base + WireFormat.File.DEV),
            raw.s64(base + WireFormat.File.INO),
            raw.s64(base + WireFormat.File.CTIME_NS),
            raw.s64(base + WireFormat.File.FILE_SIZE));
    return new ExecutableFile(
        identity,
        raw.s32(base + WireFormat.File.NLINK),
        raw.u16(base + WireFormat.File.MODE),
        raw.s32(base + WireFormat.File.MAGIC),
        (flags & WireFormat.FILE_MEMFD) != 0,
        (flags & WireFormat.FILE_DELETED) != 0,
        path,
        (pathFlags & WireFormat.PATH_TRUNCATED) != 0,
        raw.s32(base + WireFormat.File.GENERATION));
  }

  /** Mirrors C {@code struct vr_exit}. */
  private static ExitEvent exit(RawRecord raw) throws MalformedRecordException {
    return new ExitEvent(time(raw), task(raw), raw.s32(WireFormat.Exit.EXIT_CODE));
  }

  /** Mirrors C {@code struct vr_exec_mapping}. */
  private static ExecMappingEvent execMapping(RawRecord raw) throws MalformedRecordException {
    int pathFlags = raw.s32(WireFormat.ExecMapping.PATH_FLAGS);
    String path =
        raw.sizedString(
            WireFormat.ExecMapping.PATH,
            raw.u16(WireFormat.ExecMapping.PATH_LEN),
            WireFormat.ExecMapping.PATH_CAPACITY,
            "path");
    return new ExecMappingEvent(
        time(raw),
        task(raw),
        raw.s64(WireFormat.ExecMapping.ADDR),
        raw.s64(WireFormat.ExecMapping.LEN),
        raw.s64(WireFormat.ExecMapping.OFFSET),
        raw.s32(WireFormat.ExecMapping.PROT),
        raw.s32(WireFormat.ExecMapping.MAP_FLAGS),
        source(raw.s32(WireFormat.ExecMapping.SOURCE)),
        raw.s32(WireFormat.ExecMapping.FD),
        file(raw, WireFormat.ExecMapping.FILE, path, pathFlags));
  }

  /** Mirrors C {@code struct vr_anon_exec}. */
  private static AnonymousExecEvent anonymousExec(RawRecord raw) throws MalformedRecordException {
    return new AnonymousExecEvent(
        time(raw),
        task(raw),
        raw.s64(WireFormat.AnonExec.ADDR),
        raw.s64(WireFormat.AnonExec.LEN),
        raw.s32(WireFormat.AnonExec.PROT),
        raw.s32(WireFormat.AnonExec.MAP_FLAGS),
        source(raw.s32(WireFormat.AnonExec.SOURCE)));
  }

  /** Mirrors C {@code struct vr_injection}. */
  private static RuntimeEvent injection(RawRecord raw) throws MalformedRecordException {
    int code = raw.s32(WireFormat.Injection.TECHNIQUE);
    long request = raw.s64(WireFormat.Injection.REQUEST);
    if (code == WireFormat.INJECT_WRITE_DONE) {
      return new RemoteWriteDone(
          time(raw),
          task(raw),
          request == 0 ? InjectionTechnique.PROCESS_VM_WRITEV : pokeTechnique(request),
          raw.s32(WireFormat.Injection.TARGET_PID),
          raw.s64(WireFormat.Injection.ADDR),
          raw.s64(WireFormat.Injection.COUNT));
    }
    InjectionTechnique technique =
        switch (code) {
          case WireFormat.INJECT_PTRACE -> ptraceTechnique(request);
          case WireFormat.INJECT_PROCESS_VM_WRITEV -> InjectionTechnique.PROCESS_VM_WRITEV;
          case WireFormat.INJECT_PROC_MEM -> InjectionTechnique.PROC_PID_MEM;
          case WireFormat.INJECT_PROC_MEM_WRITE -> InjectionTechnique.PROC_PID_MEM_WRITE;
          default -> throw new MalformedRecordException("unknown injection technique " + code);
        };
    return new InjectionEvent(
        time(raw),
        task(raw),
        technique,
        raw.s32(WireFormat.Injection.TARGET_PID),
        request,
        raw.s64(WireFormat.Injection.ADDR),
        raw.s64(WireFormat.Injection.COUNT));
  }

  /** Mirrors C {@code struct vr_memfd_create}. */
  private static MemfdCreateEvent memfdCreate(RawRecord raw) throws MalformedRecordException {
    String name =
        raw.sizedString(
            WireFormat.MemfdCreate.NAME,
            raw.u16(WireFormat.MemfdCreate.NAME_LEN),
            WireFormat.MemfdCreate.NAME_CAPACITY,
            "name");
    return new MemfdCreateEvent(
        time(raw),
        task(raw),
        name,
        raw.s32(WireFormat.MemfdCreate.FLAGS),
        raw.s32(WireFormat.MemfdCreate.FD));
  }

  /** Mirrors C {@code struct vr_file_write}. */
  private static FileWriteEvent fileWrite(RawRecord raw) throws MalformedRecordException {
    int pathFlags = raw.s32(WireFormat.FileWrite.PATH_FLAGS);
    String path =
        raw.sizedString(
            WireFormat.FileWrite.PATH,
            raw.u16(WireFormat.FileWrite.PATH_LEN),
            WireFormat.FileWrite.PATH_CAPACITY,
            "path");
    int code = raw.s32(WireFormat.FileWrite.OPERATION);
    FileWriteOperation operation =
        switch (code) {
          case WireFormat.WRITE_OPEN -> FileWriteOperation.OPEN_FOR_WRITE;
          case WireFormat.WRITE_FTRUNCATE -> FileWriteOperation.FTRUNCATE;
          default -> throw new MalformedRecordException("unknown write operation " + code);
        };
    int writer = WireFormat.FileWrite.WRITER;
    FileIdentity writerExecutable =
        new FileIdentity(
            raw.s64(writer + WireFormat.File.DEV),
            raw.s64(writer + WireFormat.File.INO),
            raw.s64(writer + WireFormat.File.CTIME_NS),
            raw.s64(writer + WireFormat.File.FILE_SIZE));
    return new FileWriteEvent(
        time(raw),
        task(raw),
        operation,
        raw.s32(WireFormat.FileWrite.FD),
        raw.s64(WireFormat.FileWrite.ARG),
        WatchReason.of(raw.s32(WireFormat.FileWrite.WATCH)),
        file(raw, WireFormat.FileWrite.FILE, path, pathFlags),
        writerExecutable.inode() == 0 ? null : writerExecutable);
  }

  /** Mirrors C {@code struct vr_file_write} as a {@code VR_KIND_TOOLCHAIN_WRITE} record. */
  private static ToolchainWriteEvent toolchainWrite(RawRecord raw) throws MalformedRecordException {
    int pathFlags = raw.s32(WireFormat.FileWrite.PATH_FLAGS);
    String path =
        raw.sizedString(
            WireFormat.FileWrite.PATH,
            raw.u16(WireFormat.FileWrite.PATH_LEN),
            WireFormat.FileWrite.PATH_CAPACITY,
            "path");
    int code = raw.s32(WireFormat.FileWrite.OPERATION);
    ToolchainWriteEvent.Phase phase =
        switch (code) {
          case WireFormat.WRITE_OPEN -> ToolchainWriteEvent.Phase.OPENED;
          case WireFormat.WRITE_DONE -> ToolchainWriteEvent.Phase.DONE;
          default -> throw new MalformedRecordException("unknown toolchain write phase " + code);
        };
    int writer = WireFormat.FileWrite.WRITER;
    FileIdentity writerExecutable =
        new FileIdentity(
            raw.s64(writer + WireFormat.File.DEV),
            raw.s64(writer + WireFormat.File.INO),
            raw.s64(writer + WireFormat.File.CTIME_NS),
            raw.s64(writer + WireFormat.File.FILE_SIZE));
    return new ToolchainWriteEvent(
        time(raw),
        task(raw),
        phase,
        file(raw, WireFormat.FileWrite.FILE, path, pathFlags),
        writerExecutable.inode() == 0 ? null : writerExecutable);
  }

  private static MappingSource source(int code) throws MalformedRecordException {
    return switch (code) {
      case WireFormat.SOURCE_MMAP -> MappingSource.MMAP;
      case WireFormat.SOURCE_MPROTECT -> MappingSource.MPROTECT;
      default -> throw new MalformedRecordException("unknown mapping source " + code);
    };
  }

  /** The poke a write-done record names: only pokes are reported so. */
  private static InjectionTechnique pokeTechnique(long request) throws MalformedRecordException {
    InjectionTechnique t = ptraceTechnique(request);
    if (t != InjectionTechnique.PTRACE_POKETEXT && t != InjectionTechnique.PTRACE_POKEDATA) {
      throw new MalformedRecordException("write-done record for ptrace request " + request);
    }
    return t;
  }

  /** The ptrace requests the probe reports (linux/ptrace.h); any other is a contract violation. */
  private static InjectionTechnique ptraceTechnique(long request) throws MalformedRecordException {
    int code = request == (int) request ? (int) request : -1;
    return switch (code) {
      case 4 -> InjectionTechnique.PTRACE_POKETEXT;
      case 5 -> InjectionTechnique.PTRACE_POKEDATA;
      case 6 -> InjectionTechnique.PTRACE_POKEUSER;
      case 13, 15 -> InjectionTechnique.PTRACE_SETREGS; // SETREGS, SETFPREGS
      case 16 -> InjectionTechnique.PTRACE_ATTACH;
      case 0x4205 -> InjectionTechnique.PTRACE_SETREGSET;
      case 0x4206 -> InjectionTechnique.PTRACE_SEIZE;
      default ->
          throw new MalformedRecordException(
              "ptrace request " + request + " is not reported by the probe");
    };
  }
}
