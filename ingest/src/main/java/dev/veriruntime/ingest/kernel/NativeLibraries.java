package dev.veriruntime.ingest.kernel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;

/**
 * Loads libbpf and libc once, on first use. Loading fails with {@link BpfException} (not a linkage
 * error) so callers can report "libbpf.so.1 not found" as one line.
 */
final class NativeLibraries {
  private static volatile NativeLibraries instance;

  final LibBpf bpf;
  final LibC libc;
  final Runtime runtime;

  private NativeLibraries(LibBpf bpf, LibC libc) {
    this.bpf = bpf;
    this.libc = libc;
    this.runtime = Runtime.getRuntime(bpf);
  }

  static NativeLibraries get() {
    NativeLibraries local = instance;
    if (local == null) {
      synchronized (NativeLibraries.class) {
        local = instance;
        if (local == null) {
          local = load();
          instance = local;
          LibBpfLog.install(local);
        }
      }
    }
    return local;
  }

  private static NativeLibraries load() {
    try {
      // The versioned soname: libbpf-dev's unversioned libbpf.so symlink is absent on runtime
      // hosts.
      LibBpf bpf =
          LibraryLoader.create(LibBpf.class)
              .search("/usr/lib/x86_64-linux-gnu")
              .search("/usr/lib/aarch64-linux-gnu")
              .search("/usr/lib64")
              .search("/usr/lib")
              .load("libbpf.so.1");
      LibC libc = LibraryLoader.create(LibC.class).load("c");
      return new NativeLibraries(bpf, libc);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      throw new BpfException(
          "cannot load libbpf.so.1 (libbpf >= 1.0 is required): " + e.getMessage(), 0, e);
    }
  }

  int lastErrno() {
    return runtime.getLastError();
  }
}
