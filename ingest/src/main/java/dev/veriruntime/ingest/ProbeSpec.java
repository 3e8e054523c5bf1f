package dev.veriruntime.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A pure description of a BPF probe: its ELF bytes, the programs and maps it declares, its {@code
 * const volatile} settings (from {@code .rodata}), and the wiring the loader needs (which map is
 * the event ring, which counts losses, which programs must attach). Reading a spec needs no kernel,
 * no privilege and no native library; {@link Probe#load} turns it into a live handle.
 *
 * <p>Immutable and thread-safe. Accessors return copies of byte arrays.
 *
 * <pre>{@code
 * ProbeSpec spec = ProbeSpec.veriRuntime();
 * spec.programs();          // [ProgramSpec[name=handle_exec, section=tp_btf/sched_process_exec], ...]
 * try (Probe probe = Probe.load(spec, ProbeSettings.forCurrentProcess())) { ... }
 * }</pre>
 */
public final class ProbeSpec {
  /** Classpath resource of the product probe, built from {@code bpf/veriruntime.bpf.c}. */
  public static final String RESOURCE = "/dev/veriruntime/ingest/veriruntime.bpf.o";

  /** Wiring of the product probe; names are those of {@code bpf/veriruntime.bpf.c}. */
  public static final Wiring VERIRUNTIME_WIRING =
      new Wiring(
          "vr_events",
          new LossCounters("vr_counters", 8, 2, 1),
          Set.of("vr_exec"),
          "vr_agent_tgid",
          new MappingFilter("vr_verified_files", 32, "vr_filtered"),
          new WriteWatch("vr_watched_files", 16),
          // The cases of on_sys_enter and on_sys_exit in bpf/veriruntime.bpf.c (ProbeSpecTest
          // reads them there); open and creat are x86-64's only.
          new SyscallHooks(
              "vr_sys_enter",
              "vr_sys_exit",
              "vr_tp_sys_enter",
              List.of("mprotect", "ptrace", "process_vm_writev"),
              "vr_tp_sys_exit",
              List.of(
                  "mmap",
                  "mprotect",
                  "memfd_create",
                  "ptrace",
                  "process_vm_writev",
                  "open",
                  "creat",
                  "openat",
                  "openat2",
                  "ftruncate",
                  "write",
                  "writev",
                  "pwrite64",
                  "pwritev",
                  "pwritev2"),
              Set.of("open", "creat")));

  /** A program: its function name and the ELF section that says where it attaches. */
  public record ProgramSpec(String name, String section) {}

  /** A {@code const volatile} global: its byte offset and size inside {@code .rodata}. */
  public record ConstantSpec(String name, int offset, int size) {}

  /**
   * Where the probe counts records it could not store: a {@code BPF_MAP_TYPE_PERCPU_ARRAY} whose
   * value is a struct of {@code __u64} fields. For the product probe: {@code vr_counters}, indexed
   * by {@code enum vr_kind}, value {@code struct vr_counter {seen, lost}}, so {@code lostField} 1.
   *
   * @param map map name
   * @param keys number of elements read (keys {@code 0..keys-1})
   * @param valueLongs {@code __u64} fields per value
   * @param lostField index of the "lost" field in the value
   */
  public record LossCounters(String map, int keys, int valueLongs, int lostField) {
    public LossCounters {
      Objects.requireNonNull(map, "map");
      if (keys < 1 || valueLongs < 1 || lostField < 0 || lostField >= valueLongs) {
        throw new IllegalArgumentException(
            "inconsistent loss counters: "
                + keys
                + " keys, "
                + valueLongs
                + " fields, lost field "
                + lostField);
      }
    }
  }

  /**
   * Kernel-side filtering of executable mappings: a hash map of file identities the agent has
   * verified ({@code struct vr_file_key}: dev, ino, ctime_ns, size as {@code __u64}), whose mmaps
   * the probe counts in a one-element per-CPU {@code __u64} array instead of reporting.
   */
  public record MappingFilter(String verifiedFilesMap, int keySize, String filteredCounter) {
    public MappingFilter {
      Objects.requireNonNull(verifiedFilesMap, "verifiedFilesMap");
      Objects.requireNonNull(filteredCounter, "filteredCounter");
    }
  }

  /**
   * Kernel-side reporting of writes into chosen files: a hash map keyed by {@code struct
   * vr_watch_key} (dev, ino as {@code __u64}) whose value is {@code struct vr_watch} (the agent's
   * reason bits and the file's inode generation, {@link
   * dev.veriruntime.ingest.record.WireFormat.Watch}).
   */
  public record WriteWatch(String watchedFilesMap, int keySize) {
    public WriteWatch {
      Objects.requireNonNull(watchedFilesMap, "watchedFilesMap");
    }
  }

  /**
   * The probe's syscall programs, which can be reached two ways. The raw pair ({@code
   * tp_btf/sys_enter}, {@code tp_btf/sys_exit}) attaches by name but runs at every syscall on the
   * host; the per-syscall pair ({@code SEC("tracepoint")}, no attach point of its own) is attached
   * to {@code syscalls/sys_enter_NAME} and {@code syscalls/sys_exit_NAME} for each syscall listed,
   * so it runs only for those (a few hundred nanoseconds less on every other syscall, see
   * benchmarks/syscall-cost/README.md), but needs tracefs to find them ({@link
   * dev.veriruntime.ingest.kernel.Tracefs}). The loader attaches one pair, never both.
   *
   * @param optionalSyscalls listed syscalls an architecture may lack (no tracepoint there)
   */
  public record SyscallHooks(
      String rawEnter,
      String rawExit,
      String enter,
      List<String> enterSyscalls,
      String exit,
      List<String> exitSyscalls,
      Set<String> optionalSyscalls) {
    public SyscallHooks {
      Objects.requireNonNull(rawEnter, "rawEnter");
      Objects.requireNonNull(rawExit, "rawExit");
      Objects.requireNonNull(enter, "enter");
      Objects.requireNonNull(exit, "exit");
      enterSyscalls = List.copyOf(enterSyscalls);
      exitSyscalls = List.copyOf(exitSyscalls);
      optionalSyscalls = Set.copyOf(optionalSyscalls);
    }

    /** The four programs: the per-syscall pair, then the raw pair. */
    public List<String> programs() {
      return List.of(enter, exit, rawEnter, rawExit);
    }
  }

  /**
   * What the loader must know beyond the ELF.
   *
   * @param ringBufferMap the {@code BPF_MAP_TYPE_RINGBUF} map carrying records
   * @param lossCounters where the probe counts records it could not reserve; null when it does not
   * @param requiredPrograms programs whose load or attach failure fails the whole probe; others are
   *     optional and only reported
   * @param ignoredTgidConstant the {@code .rodata} setting holding the agent's own tgid, or null
   * @param mappingFilter the probe's verified-file filter, or null when it has none
   * @param writeWatch the probe's watched-file map, or null when it has none
   * @param syscallHooks the probe's two ways to its syscall programs, or null when it has none
   */
  public record Wiring(
      String ringBufferMap,
      LossCounters lossCounters,
      Set<String> requiredPrograms,
      String ignoredTgidConstant,
      MappingFilter mappingFilter,
      WriteWatch writeWatch,
      SyscallHooks syscallHooks) {
    public Wiring {
      Objects.requireNonNull(ringBufferMap, "ringBufferMap");
      requiredPrograms = Set.copyOf(requiredPrograms);
    }

    /** A probe without a mapping filter. */
    public Wiring(
        String ringBufferMap,
        LossCounters lossCounters,
        Set<String> requiredPrograms,
        String ignoredTgidConstant) {
      this(ringBufferMap, lossCounters, requiredPrograms, ignoredTgidConstant, null, null, null);
    }
  }

  private final String name;
  private final byte[] object;
  private final List<ProgramSpec> programs;
  private final List<String> maps;
  private final Map<String, ConstantSpec> constants;
  private final byte[] rodata;
  private final Wiring wiring;

  private ProbeSpec(String name, byte[] object, BpfObjectFile file, Wiring wiring) {
    this.name = name;
    this.object = object;
    this.programs = List.copyOf(file.programs);
    this.maps = List.copyOf(file.maps);
    this.constants = Map.copyOf(file.constants);
    this.rodata = file.rodata;
    this.wiring = wiring;
  }

  /**
   * The product probe from {@link #RESOURCE}.
   *
   * @throws IllegalStateException when the resource is missing from the classpath or malformed
   */
  public static ProbeSpec veriRuntime() {
    try (InputStream in = ProbeSpec.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "probe object " + RESOURCE + " is not on the classpath (build bpf/ first)");
      }
      return parse("veriruntime", in.readAllBytes(), VERIRUNTIME_WIRING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "probe object " + RESOURCE + " is unusable: " + e.getMessage(), e);
    }
  }

  /**
   * Parses an object and checks the wiring against it.
   *
   * @param name object name shown by libbpf and in reports (at most 15 characters are kept by the
   *     kernel)
   * @throws IllegalArgumentException when the ELF is malformed or the wiring names something absent
   */
  public static ProbeSpec parse(String name, byte[] object, Wiring wiring) {
    BpfObjectFile file = BpfObjectFile.parse(object);
    if (!file.maps.contains(wiring.ringBufferMap())) {
      throw new IllegalArgumentException(
          "object has no ring-buffer map '" + wiring.ringBufferMap() + "'; maps: " + file.maps);
    }
    if (wiring.lossCounters() != null && !file.maps.contains(wiring.lossCounters().map())) {
      throw new IllegalArgumentException(
          "object has no lost-counter map '"
              + wiring.lossCounters().map()
              + "'; maps: "
              + file.maps);
    }
    List<String> programNames = file.programs.stream().map(ProgramSpec::name).toList();
    if (wiring.mappingFilter() != null) {
      for (String map :
          List.of(
              wiring.mappingFilter().verifiedFilesMap(),
              wiring.mappingFilter().filteredCounter())) {
        if (!file.maps.contains(map)) {
          throw new IllegalArgumentException(
              "object has no mapping-filter map '" + map + "'; maps: " + file.maps);
        }
      }
    }
    if (wiring.writeWatch() != null && !file.maps.contains(wiring.writeWatch().watchedFilesMap())) {
      throw new IllegalArgumentException(
          "object has no watched-files map '"
              + wiring.writeWatch().watchedFilesMap()
              + "'; maps: "
              + file.maps);
    }
    if (wiring.syscallHooks() != null) {
      for (String program : wiring.syscallHooks().programs()) {
        if (!programNames.contains(program)) {
          throw new IllegalArgumentException(
              "object has no syscall program '" + program + "'; programs: " + programNames);
        }
      }
    }
    for (String required : wiring.requiredPrograms()) {
      if (!programNames.contains(required)) {
        throw new IllegalArgumentException(
            "object has no program '" + required + "'; programs: " + programNames);
      }
    }
    if (wiring.ignoredTgidConstant() != null
        && !file.constants.containsKey(wiring.ignoredTgidConstant())) {
      throw new IllegalArgumentException(
          "object has no setting '"
              + wiring.ignoredTgidConstant()
              + "'; settings: "
              + file.constants.keySet());
    }
    return new ProbeSpec(name, object.clone(), file, wiring);
  }

  public String name() {
    return name;
  }

  /** The ELF bytes (a copy). */
  public byte[] objectBytes() {
    return object.clone();
  }

  /** Programs in ELF symbol-table order. */
  public List<ProgramSpec> programs() {
    return programs;
  }

  /** Map names, including none of libbpf's internal ones ({@code .rodata}, {@code .bss}). */
  public List<String> maps() {
    return maps;
  }

  /** {@code const volatile} settings by name. */
  public Map<String, ConstantSpec> constants() {
    return constants;
  }

  public Wiring wiring() {
    return wiring;
  }

  public boolean isRequired(String program) {
    return wiring.requiredPrograms().contains(program);
  }

  /** The initial {@code .rodata} image (a copy); empty when the object has no settings. */
  public byte[] rodata() {
    return rodata.clone();
  }

  /**
   * The {@code .rodata} image with the given settings written little-endian over their defaults.
   *
   * @throws IllegalArgumentException for an unknown setting or a value that does not fit its size
   */
  byte[] rodataWith(Map<String, Long> values) {
    byte[] image = rodata.clone();
    ByteBuffer buffer = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    values.forEach(
        (setting, value) -> {
          ConstantSpec constant = constants.get(setting);
          if (constant == null) {
            throw new IllegalArgumentException(
                "probe has no setting '" + setting + "'; settings: " + constants.keySet());
          }
          switch (constant.size()) {
            case 1 -> buffer.put(constant.offset(), (byte) checkedFit(setting, value, 8));
            case 2 -> buffer.putShort(constant.offset(), (short) checkedFit(setting, value, 16));
            case 4 -> buffer.putInt(constant.offset(), (int) checkedFit(setting, value, 32));
            case 8 -> buffer.putLong(constant.offset(), value);
            default ->
                throw new IllegalArgumentException(
                    "setting '" + setting + "' has unsupported size " + constant.size());
          }
        });
    return image;
  }

  private static long checkedFit(String setting, long value, int bits) {
    // Accept both signed and unsigned readings of the field width.
    if (value < -(1L << (bits - 1)) || value >= (1L << bits)) {
      throw new IllegalArgumentException(
          "value " + value + " does not fit setting '" + setting + "' (" + bits + " bits)");
    }
    return value;
  }

  @Override
  public String toString() {
    return "ProbeSpec["
        + name
        + ", programs="
        + programs
        + ", maps="
        + maps
        + ", settings="
        + constants.keySet()
        + "]";
  }
}
