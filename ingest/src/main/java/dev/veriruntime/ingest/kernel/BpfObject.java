package dev.veriruntime.ingest.kernel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;

/**
 * One libbpf {@code struct bpf_object}: opened from ELF bytes, adjusted (initial values of {@code
 * .rodata}, map sizes, which programs load), loaded into the kernel, then its programs attached one
 * by one.
 *
 * <p>Ownership: this object owns the native {@code bpf_object} and with it every program and map
 * file descriptor; {@link #close()} releases them (idempotent). Links returned by {@link
 * #attach(String)} are owned by the caller and must be closed before this object.
 *
 * <p>Thread safety: not thread-safe; confine to one thread, except {@link #mapFd(String)} after
 * load.
 *
 * <pre>{@code
 * try (BpfObject object = BpfObject.open("veriruntime", elfBytes)) {
 *   object.setInitialValue(".rodata", rodata);
 *   object.load();
 *   try (BpfLink link = object.attach("handle_exec")) { ... }
 * }
 * }</pre>
 */
public final class BpfObject implements AutoCloseable {
  private static final Pattern FAILED_PROGRAM =
      Pattern.compile("prog '([^']+)': (?:BPF program load failed|failed to load)");

  private final NativeLibraries libs;
  private final String name;
  // The ELF image and the open options stay reachable as long as the object: libbpf may refer to
  // them.
  private final Pointer image;
  private final Pointer nameMemory;
  private final Pointer openOptions;
  private Pointer object;
  private boolean loaded;

  private BpfObject(
      NativeLibraries libs,
      String name,
      Pointer image,
      Pointer nameMemory,
      Pointer openOptions,
      Pointer object) {
    this.libs = libs;
    this.name = name;
    this.image = image;
    this.nameMemory = nameMemory;
    this.openOptions = openOptions;
    this.object = object;
  }

  /**
   * Parses an ELF BPF object with {@code bpf_object__open_mem}. Needs no privilege and no kernel.
   *
   * @throws BpfException when libbpf is missing or rejects the ELF
   */
  public static BpfObject open(String name, byte[] elf) {
    NativeLibraries libs = NativeLibraries.get();
    jnr.ffi.Runtime runtime = libs.runtime;
    Pointer image = Memory.allocateDirect(runtime, elf.length);
    image.put(0, elf, 0, elf.length);
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    Pointer nameMemory = Memory.allocateDirect(runtime, nameBytes.length + 1, true);
    nameMemory.put(0, nameBytes, 0, nameBytes.length);
    // struct bpf_object_open_opts { size_t sz; const char *object_name; ... }: declaring sz = 16
    // tells libbpf we only fill the first two fields, which every libbpf >= 0.0.6 understands.
    Pointer opts = Memory.allocateDirect(runtime, 16, true);
    opts.putLong(0, 16);
    opts.putAddress(8, nameMemory.address());
    Pointer object = libs.bpf.bpf_object__open_mem(image, elf.length, opts);
    if (object == null || object.address() == 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot open BPF object '" + name + "': " + Errno.describe(errno), errno);
    }
    return new BpfObject(libs, name, image, nameMemory, opts, object);
  }

  public String name() {
    return name;
  }

  /** Program (function) names in ELF order. */
  public List<String> programNames() {
    requireOpen();
    List<String> names = new ArrayList<>();
    Pointer program = libs.bpf.bpf_object__next_program(object, null);
    while (program != null && program.address() != 0) {
      names.add(libs.bpf.bpf_program__name(program));
      program = libs.bpf.bpf_object__next_program(object, program);
    }
    return names;
  }

  /** The ELF section of a program, e.g. {@code tp/sched/sched_process_exec}. */
  public String sectionName(String program) {
    return libs.bpf.bpf_program__section_name(program(program));
  }

  /** Excludes (or re-includes) a program from {@link #load()}; only before load. */
  public void setAutoload(String program, boolean autoload) {
    requireNotLoaded();
    check(
        libs.bpf.bpf_program__set_autoload(program(program), autoload),
        "set autoload of " + program);
  }

  /**
   * Resizes a map (e.g. the ring buffer: a power of two multiple of the page size); only before
   * load.
   */
  public void setMaxEntries(String map, int maxEntries) {
    requireNotLoaded();
    check(libs.bpf.bpf_map__set_max_entries(map(map), maxEntries), "set max_entries of " + map);
  }

  /** Value size of a map; for {@code .rodata} the size of the section. */
  public int valueSize(String map) {
    return libs.bpf.bpf_map__value_size(map(map));
  }

  /**
   * Replaces the initial contents of a global-data map ({@code .rodata}: {@code const volatile}
   * settings); {@code data.length} must equal {@link #valueSize(String)}. Only before load.
   */
  public void setInitialValue(String map, byte[] data) {
    requireNotLoaded();
    check(
        libs.bpf.bpf_map__set_initial_value(map(map), data, data.length),
        "set initial value of " + map);
  }

  /**
   * Creates the maps and verifies and loads every program still marked for autoload.
   *
   * @throws BpfLoadException naming the rejected program when libbpf's log says which one
   */
  public void load() {
    requireNotLoaded();
    List<String> log = LibBpfLog.startCapture();
    int result;
    try {
      result = libs.bpf.bpf_object__load(object);
    } finally {
      LibBpfLog.stopCapture();
      // For CO-RE, libbpf parsed the kernel's whole BTF (tens of MB) and has freed it by now, but
      // glibc keeps freed memory resident in its arena; hand it back to the system.
      libs.libc.malloc_trim(0);
    }
    if (result != 0) {
      int errno = Math.abs(result);
      String failed = null;
      for (String line : log) {
        Matcher matcher = FAILED_PROGRAM.matcher(line);
        if (matcher.find()) {
          failed = matcher.group(1);
        }
      }
      String what =
          failed == null
              ? "cannot load BPF object '" + name + "'"
              : "kernel refused program '" + failed + "'";
      throw new BpfLoadException(
          what + ": " + Errno.describe(errno), errno, failed, List.copyOf(log));
    }
    loaded = true;
  }

  /**
   * Attaches a loaded program where its section says ({@code bpf_program__attach}).
   *
   * @throws BpfException with the errno when the kernel refuses
   */
  public BpfLink attach(String program) {
    requireLoaded();
    Pointer link = libs.bpf.bpf_program__attach(program(program));
    if (link == null || link.address() == 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot attach program '" + program + "': " + Errno.describe(errno), errno);
    }
    return new BpfLink(libs, program, link);
  }

  /**
   * Attaches a loaded program to the tracepoint {@code category/name} ({@code
   * bpf_program__attach_tracepoint}), whatever its section says; one program may be attached to
   * several. libbpf finds the tracepoint through tracefs ({@link Tracefs}).
   *
   * @throws BpfException with the errno when the tracepoint is not found or the kernel refuses
   */
  public BpfLink attachTracepoint(String program, String category, String name) {
    requireLoaded();
    Pointer link = libs.bpf.bpf_program__attach_tracepoint(program(program), category, name);
    if (link == null || link.address() == 0) {
      int errno = libs.lastErrno();
      throw new BpfException(
          "cannot attach program '"
              + program
              + "' to "
              + category
              + "/"
              + name
              + ": "
              + Errno.describe(errno),
          errno);
    }
    return new BpfLink(libs, program, link);
  }

  /** File descriptor of a created map; owned by this object, valid until {@link #close()}. */
  public int mapFd(String map) {
    requireLoaded();
    int fd = libs.bpf.bpf_map__fd(map(map));
    if (fd < 0) {
      throw new BpfException(
          "map '" + map + "' has no file descriptor: " + Errno.describe(fd), Math.abs(fd));
    }
    return fd;
  }

  /** Kernel id, type, tag and name of a loaded program ({@code bpf_obj_get_info_by_fd}). */
  public BpfProgramInfo programInfo(String program) {
    requireLoaded();
    int fd = libs.bpf.bpf_program__fd(program(program));
    if (fd < 0) {
      throw new BpfException("program '" + program + "' is not loaded", Math.abs(fd));
    }
    // struct bpf_prog_info: type@0 u32, id@4 u32, tag@8 u8[8], ..., name@64 char[16]; 80 bytes
    // cover all we read, and the kernel accepts a shorter info_len than its own struct.
    byte[] info = new byte[80];
    int[] length = {info.length};
    int result = libs.bpf.bpf_obj_get_info_by_fd(fd, info, length);
    if (result != 0) {
      int errno = Math.abs(result);
      throw new BpfException(
          "cannot read info of program '" + program + "': " + Errno.describe(errno), errno);
    }
    java.nio.ByteBuffer buffer =
        java.nio.ByteBuffer.wrap(info).order(java.nio.ByteOrder.nativeOrder());
    int type = buffer.getInt(0);
    int id = buffer.getInt(4);
    String tag = HexFormat.of().formatHex(info, 8, 16);
    int end = 64;
    while (end < 80 && info[end] != 0) {
      end++;
    }
    String kernelName = new String(info, 64, end - 64, StandardCharsets.UTF_8);
    return new BpfProgramInfo(program, id, type, tag, kernelName);
  }

  /** Whether the object holds a map of that name (libbpf's name; {@code .rodata} for settings). */
  public boolean hasMap(String map) {
    requireOpen();
    Pointer pointer = libs.bpf.bpf_object__find_map_by_name(object, map);
    return pointer != null && pointer.address() != 0;
  }

  public boolean isLoaded() {
    return loaded;
  }

  /** Unloads programs and closes every map and program descriptor. Idempotent. */
  @Override
  public void close() {
    if (object != null) {
      libs.bpf.bpf_object__close(object);
      object = null;
    }
  }

  private Pointer program(String program) {
    requireOpen();
    Pointer pointer = libs.bpf.bpf_object__find_program_by_name(object, program);
    if (pointer == null || pointer.address() == 0) {
      throw new BpfException("BPF object '" + name + "' has no program '" + program + "'", 2);
    }
    return pointer;
  }

  private Pointer map(String map) {
    requireOpen();
    Pointer pointer = libs.bpf.bpf_object__find_map_by_name(object, map);
    if (pointer == null || pointer.address() == 0) {
      throw new BpfException("BPF object '" + name + "' has no map '" + map + "'", 2);
    }
    return pointer;
  }

  private void check(int result, String what) {
    if (result != 0) {
      throw new BpfException("cannot " + what + ": " + Errno.describe(result), Math.abs(result));
    }
  }

  private void requireOpen() {
    if (object == null) {
      throw new IllegalStateException("BPF object '" + name + "' is closed");
    }
  }

  private void requireNotLoaded() {
    requireOpen();
    if (loaded) {
      throw new IllegalStateException("BPF object '" + name + "' is already loaded");
    }
  }

  private void requireLoaded() {
    requireOpen();
    if (!loaded) {
      throw new IllegalStateException("BPF object '" + name + "' is not loaded");
    }
  }
}
