package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves an executable's {@code DT_NEEDED} closure the way glibc's dynamic loader does, in pure
 * Java: for each object, in breadth-first order, each needed name is looked up in {@code DT_RPATH}
 * of the object and of the executable (only when the object has no {@code DT_RUNPATH}), then {@code
 * LD_LIBRARY_PATH}, then the object's {@code DT_RUNPATH}, then the {@link LoaderConfiguration}
 * directories (what {@code /etc/ld.so.cache} is built from) and finally the default directories
 * (unless {@code DF_1_NODEFLIB}). A name containing {@code /} is used as a path. A candidate is
 * accepted only if it is an ELF file of the executable's class and machine, as the loader skips
 * others. {@code $ORIGIN}, {@code $LIB} and {@code $PLATFORM} are expanded. The interpreter ({@code
 * PT_INTERP}) is part of the closure.
 *
 * <p>Known approximations: the {@code glibc-hwcaps} subdirectories are all accepted rather than the
 * one the CPU selects; the cache's soname index is approximated by file names.
 *
 * <p>Files are opened below {@code root} ({@code /proc/PID/root} sees the process's own mount
 * namespace). Immutable and thread-safe.
 */
public final class DependencyResolver {
  private static final ElfReader HEADERS = ElfReader.create();
  private static final long DF_1_NODEFLIB = 0x800;
  private static final int MAX_OBJECTS = 4096;
  private static final List<String> HWCAPS =
      List.of(
          "glibc-hwcaps/x86-64-v4",
          "glibc-hwcaps/x86-64-v3",
          "glibc-hwcaps/x86-64-v2",
          "glibc-hwcaps/power10",
          "glibc-hwcaps/power9",
          "glibc-hwcaps/z15",
          "glibc-hwcaps/z14");

  private final LoaderConfiguration config;
  private final Path root;

  public DependencyResolver(LoaderConfiguration config, Path root) {
    this.config = config;
    this.root = root;
  }

  private record LoadedObject(String path, ElfFile elf) {}

  /**
   * The closure of {@code executable}.
   *
   * @param executablePath the path the executable runs from (for {@code $ORIGIN}; may be a {@code
   *     /memfd:} name, in which case {@code $ORIGIN} expands to nothing)
   * @param ldLibraryPath the process's {@code LD_LIBRARY_PATH} entries (empty if unset)
   */
  public DependencyClosure resolve(
      ElfFile executable, String executablePath, List<String> ldLibraryPath) {
    Map<String, ResolvedLibrary> found = new LinkedHashMap<>();
    List<String> unresolved = new ArrayList<>();
    executable
        .interpreter()
        .ifPresent(
            interp -> {
              Optional<ResolvedLibrary> r =
                  candidate(interp, interp, executablePath, "PT_INTERP", executable.header());
              if (r.isPresent()) {
                found.put(interp, r.get());
              } else {
                unresolved.add(interp + " (interpreter of " + executablePath + ")");
              }
            });
    walk(
        new LoadedObject(executablePath, executable), executable, ldLibraryPath, found, unresolved);
    return new DependencyClosure(List.copyOf(found.values()), unresolved);
  }

  /**
   * The libraries named by a preload list ({@code LD_PRELOAD} or {@code /etc/ld.so.preload}) and
   * their own dependencies, searched as the loader searches them for {@code executable}.
   *
   * @param source how the entries got there, recorded as {@link ResolvedLibrary#foundVia()}
   */
  public DependencyClosure resolvePreload(
      List<String> entries,
      String source,
      ElfFile executable,
      String executablePath,
      List<String> ldLibraryPath) {
    Map<String, ResolvedLibrary> found = new LinkedHashMap<>();
    List<String> unresolved = new ArrayList<>();
    LoadedObject exe = new LoadedObject(executablePath, executable);
    for (String entry : entries) {
      Optional<ResolvedLibrary> lib =
          search(entry, exe, executable, ldLibraryPath)
              .map(
                  r ->
                      new ResolvedLibrary(
                          r.name(), r.path(), r.kernelDev(), r.inode(), executablePath, source));
      if (lib.isEmpty()) {
        unresolved.add(entry + " (" + source + ")");
        continue;
      }
      found.putIfAbsent(entry, lib.get());
      read(lib.get().path())
          .ifPresent(
              elf ->
                  walk(
                      new LoadedObject(lib.get().path(), elf),
                      executable,
                      ldLibraryPath,
                      found,
                      unresolved));
    }
    return new DependencyClosure(List.copyOf(found.values()), unresolved);
  }

  private void walk(
      LoadedObject start,
      ElfFile executable,
      List<String> ldLibraryPath,
      Map<String, ResolvedLibrary> found,
      List<String> unresolved) {
    Set<String> seenNames = new HashSet<>(found.keySet());
    Deque<LoadedObject> queue = new ArrayDeque<>();
    queue.add(start);
    int objects = 0;
    while (!queue.isEmpty() && objects++ < MAX_OBJECTS) {
      LoadedObject obj = queue.poll();
      for (String name : obj.elf().dynamic().needed()) {
        if (!seenNames.add(name)) {
          continue;
        }
        Optional<ResolvedLibrary> lib = search(name, obj, executable, ldLibraryPath);
        if (lib.isEmpty()) {
          unresolved.add(name + " (needed by " + obj.path() + ")");
          continue;
        }
        found.put(name, lib.get());
        Optional<ElfFile> elf = read(lib.get().path());
        elf.flatMap(e -> e.dynamic().soname()).ifPresent(seenNames::add);
        elf.ifPresent(e -> queue.add(new LoadedObject(lib.get().path(), e)));
      }
    }
  }

  private Optional<ResolvedLibrary> search(
      String name, LoadedObject obj, ElfFile executable, List<String> ldLibraryPath) {
    ElfHeader want = executable.header();
    if (name.contains("/")) {
      return candidate(name, name, obj.path(), "path", want);
    }
    List<String[]> order = new ArrayList<>();
    boolean hasRunpath = !obj.elf().dynamic().runpath().isEmpty();
    if (!hasRunpath) {
      obj.elf()
          .dynamic()
          .rpath()
          .forEach(
              d ->
                  order.add(
                      new String[] {
                        expand(d, obj.path(), want.machine()), "RPATH of " + obj.path()
                      }));
      if (obj.elf() != executable && executable.dynamic().runpath().isEmpty()) {
        executable
            .dynamic()
            .rpath()
            .forEach(d -> order.add(new String[] {d, "RPATH of the executable"}));
      }
    }
    ldLibraryPath.forEach(d -> order.add(new String[] {d, "LD_LIBRARY_PATH"}));
    obj.elf()
        .dynamic()
        .runpath()
        .forEach(
            d ->
                order.add(
                    new String[] {
                      expand(d, obj.path(), want.machine()), "RUNPATH of " + obj.path()
                    }));
    config.configuredDirectories().forEach(d -> order.add(new String[] {d, "ld.so.conf"}));
    if ((flags1(obj.elf()) & DF_1_NODEFLIB) == 0) {
      config.defaultDirectories().forEach(d -> order.add(new String[] {d, "default directories"}));
    }
    for (String[] entry : order) {
      String dir = entry[0].isEmpty() ? "." : entry[0];
      for (String hw : HWCAPS) {
        Optional<ResolvedLibrary> r =
            candidate(name, dir + "/" + hw + "/" + name, obj.path(), entry[1], want);
        if (r.isPresent()) {
          return r;
        }
      }
      Optional<ResolvedLibrary> r = candidate(name, dir + "/" + name, obj.path(), entry[1], want);
      if (r.isPresent()) {
        return r;
      }
    }
    return Optional.empty();
  }

  private static long flags1(ElfFile elf) {
    return elf.dynamic().flags1();
  }

  private Optional<ResolvedLibrary> candidate(
      String name, String path, String neededBy, String via, ElfHeader want) {
    Path file = onRoot(path);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    Optional<ElfFile> elf = read(path);
    if (elf.isEmpty()
        || elf.get().header().elfClass() != want.elfClass()
        || elf.get().header().machine() != want.machine()) {
      return Optional.empty();
    }
    try {
      Map<String, Object> a = Files.readAttributes(file, "unix:dev,ino");
      long dev = FileIdentity.fromStat((Long) a.get("dev"), 0, 0, 0).dev();
      return Optional.of(new ResolvedLibrary(name, path, dev, (Long) a.get("ino"), neededBy, via));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private Optional<ElfFile> read(String path) {
    try {
      return Optional.of(HEADERS.read(onRoot(path)));
    } catch (IOException | MalformedElfException e) {
      return Optional.empty();
    }
  }

  private Path onRoot(String path) {
    return path.startsWith("/") ? root.resolve(path.substring(1)) : root.resolve(path);
  }

  /** Expands {@code $ORIGIN}, {@code $LIB} and {@code $PLATFORM} (and their braced forms). */
  static String expand(String dir, String objectPath, int machine) {
    // Debian's loader expands $LIB to the multiarch directory.
    String lib = LoaderConfiguration.defaultDirectories(machine).get(0).substring(1);
    String platform = machine == ElfHeader.EM_X86_64 ? "x86_64" : ElfHeader.machineName(machine);
    int slash = objectPath.lastIndexOf('/');
    String origin =
        objectPath.startsWith("/memfd:") || slash < 0
            ? ""
            : (slash == 0 ? "/" : objectPath.substring(0, slash));
    return dir.replace("${ORIGIN}", origin)
        .replace("$ORIGIN", origin)
        .replace("${LIB}", lib)
        .replace("$LIB", lib)
        .replace("${PLATFORM}", platform)
        .replace("$PLATFORM", platform);
  }
}
