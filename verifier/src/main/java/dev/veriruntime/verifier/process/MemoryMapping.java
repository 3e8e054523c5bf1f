package dev.veriruntime.verifier.process;

import java.util.Objects;

/**
 * One line of {@code /proc/PID/maps}: an address range, its protection, and what backs it.
 *
 * <p>Immutable. {@code pathname} is exactly what the kernel printed after the inode column (empty
 * for anonymous memory; {@code [heap]}, {@code [stack]}, {@code [vdso]}... for special mappings;
 * {@code /path (deleted)} for an unlinked file; {@code /memfd:name (deleted)} for a memfd). Use
 * {@link #kind()} rather than parsing it again.
 *
 * @param start first address (inclusive)
 * @param end end address (exclusive)
 * @param permissions the four-character field, for example {@code r-xp}
 * @param offset file offset of {@code start} (0 for anonymous memory)
 * @param devMajor major number of the backing file's device
 * @param devMinor minor number of the backing file's device
 * @param inode inode of the backing file (0 for anonymous memory)
 * @param pathname what the kernel printed as the backing name, possibly empty
 */
public record MemoryMapping(
    long start,
    long end,
    String permissions,
    long offset,
    int devMajor,
    int devMinor,
    long inode,
    String pathname) {

  /** Suffix the kernel appends to the path of a file unlinked after it was mapped. */
  public static final String DELETED_SUFFIX = " (deleted)";

  /** Prefix of the names of files created by {@code memfd_create}. */
  public static final String MEMFD_PREFIX = "/memfd:";

  /** What backs a mapping, as far as {@code /proc/PID/maps} tells. */
  public enum Kind {
    /** A regular file that still has a name. */
    FILE,
    /** A file unlinked (or replaced by rename) since it was mapped. */
    DELETED_FILE,
    /** A file created by {@code memfd_create}: code that never existed on disk. */
    MEMFD,
    /** Anonymous memory: no backing file, not a kernel-provided special mapping. */
    ANONYMOUS,
    /** {@code [heap]} (the brk area). */
    HEAP,
    /** {@code [stack]} or {@code [stack:TID]}. */
    STACK,
    /** {@code [vdso]}: code the kernel provides to every process. */
    VDSO,
    /** {@code [vsyscall]}: the legacy fixed-address kernel page. */
    VSYSCALL,
    /** Other bracketed kernel names ({@code [vvar]}, {@code [uprobes]}, {@code [anon:name]}...). */
    SPECIAL,
    /** Shared memory or another inode-backed object whose name is not a path (SysV shm...). */
    OTHER_INODE
  }

  public MemoryMapping {
    Objects.requireNonNull(permissions, "permissions");
    Objects.requireNonNull(pathname, "pathname");
    if (permissions.length() != 4) {
      throw new IllegalArgumentException("permissions must have 4 characters: " + permissions);
    }
    if (Long.compareUnsigned(end, start) < 0) {
      throw new IllegalArgumentException(
          "end before start: " + Long.toHexString(start) + "-" + Long.toHexString(end));
    }
  }

  public long length() {
    return end - start;
  }

  public boolean readable() {
    return permissions.charAt(0) == 'r';
  }

  public boolean writable() {
    return permissions.charAt(1) == 'w';
  }

  public boolean executable() {
    return permissions.charAt(2) == 'x';
  }

  /** True for {@code MAP_SHARED} mappings ({@code s} in the fourth column). */
  public boolean shared() {
    return permissions.charAt(3) == 's';
  }

  /** True when a file (deleted, memfd or named) backs the mapping. */
  public boolean fileBacked() {
    return inode != 0
        && (kind() == Kind.FILE || kind() == Kind.DELETED_FILE || kind() == Kind.MEMFD);
  }

  /** Device in the kernel's encoding, as in {@link dev.veriruntime.verifier.FileIdentity#dev()}. */
  public long kernelDev() {
    return dev.veriruntime.verifier.FileIdentity.kernelDev(devMajor, devMinor);
  }

  public Kind kind() {
    if (pathname.isEmpty()) {
      return inode == 0 ? Kind.ANONYMOUS : Kind.OTHER_INODE;
    }
    if (pathname.startsWith(MEMFD_PREFIX)) {
      return Kind.MEMFD;
    }
    if (pathname.startsWith("/")) {
      return pathname.endsWith(DELETED_SUFFIX) ? Kind.DELETED_FILE : Kind.FILE;
    }
    if (pathname.equals("[heap]")) {
      return Kind.HEAP;
    }
    if (pathname.equals("[stack]") || pathname.startsWith("[stack:")) {
      return Kind.STACK;
    }
    if (pathname.equals("[vdso]")) {
      return Kind.VDSO;
    }
    if (pathname.equals("[vsyscall]")) {
      return Kind.VSYSCALL;
    }
    if (pathname.startsWith("[")) {
      // [anon:name] is anonymous memory named with prctl(PR_SET_VMA_ANON_NAME): still anonymous.
      return pathname.startsWith("[anon:") ? Kind.ANONYMOUS : Kind.SPECIAL;
    }
    return Kind.OTHER_INODE;
  }

  /**
   * The path of the backing file without the kernel's {@code " (deleted)"} suffix; for a memfd, its
   * {@code /memfd:name} pseudo path. Empty for mappings that have no path.
   */
  public String filePath() {
    if (!pathname.startsWith("/")) {
      return "";
    }
    return pathname.endsWith(DELETED_SUFFIX)
        ? pathname.substring(0, pathname.length() - DELETED_SUFFIX.length())
        : pathname;
  }

  /** The name of this mapping's entry in {@code /proc/PID/map_files}: {@code start-end} in hex. */
  public String mapFilesName() {
    return Long.toHexString(start) + "-" + Long.toHexString(end);
  }

  /** True when {@code address} is inside {@code [start, end)}. */
  public boolean contains(long address) {
    return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
  }

  /** The maps line this record was parsed from, re-rendered (for findings and logs). */
  public String describe() {
    return String.format(
            "%x-%x %s %08x %02x:%02x %d %s",
            start, end, permissions, offset, devMajor, devMinor, inode, pathname)
        .strip();
  }
}
