package dev.veriruntime.ingest.record;

/**
 * The Java view of bpf/veriruntime.h: schema version, record kinds, and the byte offset of every
 * field the decoder reads. A test ({@code WireFormatBtfTest}) parses the BTF of the committed probe
 * object and fails if any offset or struct size here differs from what clang laid out, so these
 * constants cannot drift from the C header silently.
 *
 * <p>All multi-byte fields are in the host's byte order (the kernel writes them natively).
 */
public final class WireFormat {
  /** {@code VR_SCHEMA_VERSION}: records with any other {@code vr_header.version} are rejected. */
  public static final int SCHEMA_VERSION = 2;

  /** Classpath location of the compiled probe inside the ingest jar. */
  public static final String PROBE_OBJECT_RESOURCE = "/dev/veriruntime/ingest/veriruntime.bpf.o";

  /** {@code VR_FILE_*} bits of {@code vr_file.flags}. */
  public static final int FILE_MEMFD = 1;

  public static final int FILE_DELETED = 2;
  public static final int FILE_SETUID = 4;
  public static final int FILE_SETGID = 8;

  /** Exec records only: the executable is in {@link Maps#TOOLCHAIN_EXES}; the task is marked. */
  public static final int FILE_TOOLCHAIN = 16;

  /** {@code VR_PATH_*} bits of {@code path_flags}. */
  public static final int PATH_TRUNCATED = 1;

  public static final int FILENAME_TRUNCATED = 2;
  public static final int PATH_UNRESOLVED = 4;

  /**
   * Exec only: sent late, just before another record of a process that started quietly (its exec
   * was filtered); the filename is empty and the executable is the process's current one.
   */
  public static final int EXEC_LATE = 8;

  /** {@code enum vr_map_source}. */
  public static final int SOURCE_MMAP = 1;

  public static final int SOURCE_MPROTECT = 2;

  /** {@code enum vr_injection_technique}. */
  public static final int INJECT_PTRACE = 1;

  public static final int INJECT_PROCESS_VM_WRITEV = 2;
  public static final int INJECT_PROC_MEM = 3;
  public static final int INJECT_PROC_MEM_WRITE = 4;
  public static final int INJECT_WRITE_DONE = 5;

  /** {@code enum vr_write_op}. */
  public static final int WRITE_OPEN = 1;

  public static final int WRITE_FTRUNCATE = 2;

  /** Toolchain writes only: the writer is done; the record holds the file's final identity. */
  public static final int WRITE_DONE = 3;

  /** {@code enum vr_watch_reason}: bits of the {@link Maps#WATCHED_FILES} value. */
  public static final int WATCH_VERIFIED = 1;

  public static final int WATCH_MAPPED_EXEC = 2;
  public static final int WATCH_SELF = 4;

  /** {@code VR_KIND_MAX}: entries in the per-CPU counters map, indexed by kind code. */
  public static final int KIND_MAX = 9;

  private WireFormat() {}

  /** {@code struct vr_header}: the first bytes of every record. */
  public static final class Header {
    public static final int SIZE = 56;
    public static final int VERSION = 0;
    public static final int KIND = 2;
    public static final int RECORD_SIZE = 4;
    public static final int KTIME_NS = 8;
    public static final int PID = 16;
    public static final int TGID = 20;
    public static final int UID = 24;
    public static final int GID = 28;
    public static final int CGROUP_ID = 32;
    public static final int COMM = 40;
    public static final int COMM_LEN = 16;

    private Header() {}
  }

  /** {@code struct vr_file}, embedded in exec and mapping records. */
  public static final class File {
    public static final int SIZE = 48;
    public static final int DEV = 0;
    public static final int INO = 8;
    public static final int CTIME_NS = 16;
    public static final int FILE_SIZE = 24;
    public static final int NLINK = 32;
    public static final int MODE = 36;
    public static final int FLAGS = 38;
    public static final int GENERATION = 40;
    public static final int MAGIC = 44;

    private File() {}
  }

  /** {@code struct vr_exec}. */
  public static final class Exec {
    public static final int SIZE = 896;
    public static final int PPID = 56;
    public static final int OLD_PID = 60;
    public static final int EUID = 64;
    public static final int EGID = 68;
    public static final int FILE = 72;
    public static final int PATH_FLAGS = 120;
    public static final int PATH_LEN = 124;
    public static final int FILENAME_LEN = 126;
    public static final int FILENAME = 128;
    public static final int FILENAME_CAPACITY = 256;
    public static final int PATH = 384;
    public static final int PATH_CAPACITY = 512;

    private Exec() {}
  }

  /** {@code struct vr_exit}. */
  public static final class Exit {
    public static final int SIZE = 64;
    public static final int EXIT_CODE = 56;

    private Exit() {}
  }

  /** {@code struct vr_exec_mapping}. */
  public static final class ExecMapping {
    public static final int SIZE = 664;
    public static final int ADDR = 56;
    public static final int LEN = 64;
    public static final int OFFSET = 72;
    public static final int PROT = 80;
    public static final int MAP_FLAGS = 84;
    public static final int SOURCE = 88;
    public static final int FD = 92;
    public static final int FILE = 96;
    public static final int PATH_FLAGS = 144;
    public static final int PATH_LEN = 148;
    public static final int PATH = 152;
    public static final int PATH_CAPACITY = 512;

    private ExecMapping() {}
  }

  /** {@code struct vr_anon_exec}. */
  public static final class AnonExec {
    public static final int SIZE = 88;
    public static final int ADDR = 56;
    public static final int LEN = 64;
    public static final int PROT = 72;
    public static final int MAP_FLAGS = 76;
    public static final int SOURCE = 80;

    private AnonExec() {}
  }

  /** {@code struct vr_injection}. */
  public static final class Injection {
    public static final int SIZE = 88;
    public static final int TECHNIQUE = 56;
    public static final int TARGET_PID = 60;
    public static final int REQUEST = 64;
    public static final int ADDR = 72;
    public static final int COUNT = 80;

    private Injection() {}
  }

  /** {@code struct vr_memfd_create}. */
  public static final class MemfdCreate {
    public static final int SIZE = 328;
    public static final int FLAGS = 56;
    public static final int FD = 60;
    public static final int NAME_LEN = 64;
    public static final int NAME = 72;
    public static final int NAME_CAPACITY = 256;

    private MemfdCreate() {}
  }

  /** {@code struct vr_file_write}. */
  public static final class FileWrite {
    public static final int SIZE = 696;
    public static final int OPERATION = 56;
    public static final int FD = 60;
    public static final int WATCH = 64;
    public static final int ARG = 72;
    public static final int FILE = 80;
    public static final int WRITER = 128;
    public static final int PATH_FLAGS = 176;
    public static final int PATH_LEN = 180;
    public static final int PATH = 184;
    public static final int PATH_CAPACITY = 512;

    private FileWrite() {}
  }

  /**
   * The probe's load-time settings: {@code const volatile} globals in its {@code .rodata} section,
   * to be written (at these byte offsets of the map's initial value) before the object is loaded.
   */
  public static final class Config {
    /** Name of the ELF section (and, with the object name prefix, of the libbpf map). */
    public static final String SECTION = ".rodata";

    /** {@code __u32 vr_agent_tgid}: our own process id; its events are not reported (0: none). */
    public static final String AGENT_TGID_SYMBOL = "vr_agent_tgid";

    public static final int AGENT_TGID = 0;

    /** {@code __u32 vr_trace_mmap}: 0 disables the mmap and mprotect programs' reports. */
    public static final String TRACE_MMAP_SYMBOL = "vr_trace_mmap";

    public static final int TRACE_MMAP = 4;

    /** {@code __u32 vr_trace_injection}: 0 disables ptrace, process_vm_writev, memfd_create. */
    public static final String TRACE_INJECTION_SYMBOL = "vr_trace_injection";

    public static final int TRACE_INJECTION = 8;

    /** {@code __u32 vr_trace_writes}: 0 disables the reports of writes into watched files. */
    public static final String TRACE_WRITES_SYMBOL = "vr_trace_writes";

    public static final int TRACE_WRITES = 12;

    /**
     * {@code __u32 vr_trace_lineage}: 1 enables build lineage (toolchain tasks marked at exec,
     * their writes reported); 0 (the default) leaves it off.
     */
    public static final String TRACE_LINEAGE_SYMBOL = "vr_trace_lineage";

    public static final int TRACE_LINEAGE = 16;

    private Config() {}
  }

  /** Names of the probe's maps and of the ring buffer's default size. */
  public static final class Maps {
    /**
     * {@code BPF_MAP_TYPE_HASH}, key {@code struct vr_file_key}: toolchain executables whose
     * processes are marked at exec (build lineage). Written by the agent.
     */
    public static final String TOOLCHAIN_EXES = "vr_toolchain_exes";

    /** {@code BPF_MAP_TYPE_RINGBUF} carrying every record. */
    public static final String EVENTS = "vr_events";

    /** Default ring-buffer size; resize with {@code bpf_map__set_max_entries} before load. */
    public static final int EVENTS_DEFAULT_BYTES = 16 * 1024 * 1024;

    /** {@code BPF_MAP_TYPE_PERCPU_ARRAY} of {@code struct vr_counter}, key = kind code. */
    public static final String COUNTERS = "vr_counters";

    /**
     * {@code BPF_MAP_TYPE_LRU_HASH}, key {@code struct vr_file_key}: files whose mmaps are not
     * reported.
     */
    public static final String VERIFIED_FILES = "vr_verified_files";

    /**
     * {@code BPF_MAP_TYPE_PERCPU_ARRAY} of {@code __u64} indexed by {@link Filtered}: what the
     * probe counted instead of reporting.
     */
    public static final String FILTERED = "vr_filtered";

    /**
     * {@code BPF_MAP_TYPE_LRU_HASH}, key {@code struct vr_file_key}, value {@code struct
     * vr_quiet_exe}: executables whose exec sends no record (the process goes to {@link
     * #QUIET_TASKS}). Written by the agent.
     */
    public static final String QUIET_EXES = "vr_quiet_exes";

    /**
     * {@code BPF_MAP_TYPE_LRU_HASH}, key tgid ({@code __u32}), value {@code struct vr_quiet_task}:
     * processes that exec'd a quiet executable and were not adopted yet. The agent deletes what it
     * adopts; the probe deletes an entry at the process's exit (and then sends no exit record).
     */
    public static final String QUIET_TASKS = "vr_quiet_tasks";

    /**
     * {@code BPF_MAP_TYPE_HASH}, key {@code struct vr_watch_key}, value {@code __u32} watch
     * reasons: files whose writes are reported.
     */
    public static final String WATCHED_FILES = "vr_watched_files";

    /**
     * {@code BPF_MAP_TYPE_HASH} of at most {@link #FOLLOW_TASKS_MAX} entries, key tgid ({@code
     * __u32}), value {@code enum vr_follow_reason} bits: processes whose every exec is reported;
     * children inherit at fork, entries go at exit. Written by the agent and the probe.
     */
    public static final String FOLLOW_TASKS = "vr_follow_tasks";

    /** {@code VR_FOLLOW_TASKS_MAX}: a full map refuses new entries (counted, E2BIG). */
    public static final int FOLLOW_TASKS_MAX = 16384;

    /**
     * {@code BPF_MAP_TYPE_HASH}, key {@code struct vr_file_key}: build roots whose exec makes the
     * process followed (lineage on). Written by the agent.
     */
    public static final String FOLLOW_EXES = "vr_follow_exes";

    /**
     * {@code BPF_MAP_TYPE_LRU_HASH}, key tgid: processes forked since load that have not exec'd;
     * their exit is counted, not reported.
     */
    public static final String UNTRACKED_TASKS = "vr_untracked_tasks";

    /** {@code BPF_MAP_TYPE_PERCPU_ARRAY} of {@code __u64} indexed by {@link TaskCounts}. */
    public static final String TASK_COUNTS = "vr_task_counts";

    private Maps() {}
  }

  /** {@code struct vr_file_key}: the key the agent writes into {@link Maps#VERIFIED_FILES}. */
  public static final class FileKey {
    public static final int SIZE = 32;
    public static final int DEV = 0;
    public static final int INO = 8;
    public static final int CTIME_NS = 16;
    public static final int FILE_SIZE = 24;

    private FileKey() {}
  }

  /** {@code enum vr_filtered_key}: the keys of {@link Maps#FILTERED}. */
  public static final class Filtered {
    public static final int MAPPINGS = 0;
    public static final int EXECS = 1;
    public static final int EXITS = 2;
    public static final int KEYS = 3;

    private Filtered() {}
  }

  /** {@code enum vr_task_count}: the keys of {@link Maps#TASK_COUNTS}. */
  public static final class TaskCounts {
    public static final int FOLLOWED_EXECS = 0;
    public static final int INHERITED = 1;
    public static final int FOLLOW_DROPPED = 2;
    public static final int UNTRACKED_EXITS = 3;
    public static final int WATCH_STALE = 4;
    public static final int INCIDENT_DEPTH = 5;
    public static final int KEYS = 6;

    private TaskCounts() {}
  }

  /**
   * {@code enum vr_follow_generation}: bits 8-15 of a {@link Maps#FOLLOW_TASKS} value with the
   * incident reason count the forks below the process with the incident; children past {@link
   * #INCIDENT_GENERATIONS} do not inherit it.
   */
  public static final class FollowGeneration {
    public static final int SHIFT = 8;
    public static final int MASK = 0xff << SHIFT;
    public static final int INCIDENT_GENERATIONS = 3;

    private FollowGeneration() {}
  }

  /** {@code struct vr_quiet_exe}: the value of {@link Maps#QUIET_EXES}. */
  public static final class QuietExe {
    public static final int SIZE = 32;
    public static final int EXECS = 0;
    public static final int FIRST_NS = 8;
    public static final int LAST_NS = 16;
    public static final int LAST_PID = 24;
    public static final int FLAGS = 28;

    /** {@code VR_QUIET_COUNT}: an unknown executable whose execs the probe counts in its entry. */
    public static final int COUNT = 1;

    private QuietExe() {}
  }

  /** {@code struct vr_quiet_task}: the value of {@link Maps#QUIET_TASKS}. */
  public static final class QuietTask {
    public static final int SIZE = 16;
    public static final int EXEC_NS = 0;
    public static final int PPID = 8;

    private QuietTask() {}
  }

  /** {@code struct vr_watch_key}: the key the agent writes into {@link Maps#WATCHED_FILES}. */
  public static final class WatchKey {
    public static final int SIZE = 16;
    public static final int DEV = 0;
    public static final int INO = 8;

    private WatchKey() {}
  }

  /** {@code struct vr_watch}: the value of {@link Maps#WATCHED_FILES}. */
  public static final class Watch {
    public static final int SIZE = 8;
    public static final int REASONS = 0;
    public static final int GENERATION = 4;

    private Watch() {}
  }

  /** {@code struct vr_counter}: one per kind and CPU in the counters map. */
  public static final class Counter {
    public static final int SIZE = 16;
    public static final int SEEN = 0;
    public static final int LOST = 8;

    private Counter() {}
  }
}
