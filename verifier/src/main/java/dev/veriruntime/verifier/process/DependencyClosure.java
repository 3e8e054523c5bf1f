package dev.veriruntime.verifier.process;

import java.util.List;
import java.util.Optional;

/**
 * The libraries an executable loads before {@code main} (its {@code DT_NEEDED} closure and the
 * interpreter), as {@link DependencyResolver} resolved them. Files are compared by device and
 * inode, because {@code /proc/PID/maps} names a library by its real path while the loader opened it
 * through whatever symbolic links the search path held.
 *
 * <p>Immutable and thread-safe.
 *
 * @param libraries resolved libraries in breadth-first load order
 * @param unresolved needed names no directory provided, as {@code "name (needed by path)"}
 */
public record DependencyClosure(List<ResolvedLibrary> libraries, List<String> unresolved) {

  public static final DependencyClosure EMPTY = new DependencyClosure(List.of(), List.of());

  public DependencyClosure {
    libraries = List.copyOf(libraries);
    unresolved = List.copyOf(unresolved);
  }

  /** The library with this device and inode, if it is part of the closure. */
  public Optional<ResolvedLibrary> find(long kernelDev, long inode) {
    return libraries.stream()
        .filter(l -> l.kernelDev() == kernelDev && l.inode() == inode)
        .findFirst();
  }

  public boolean contains(long kernelDev, long inode) {
    return find(kernelDev, inode).isPresent();
  }
}
