package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;

/** The few libc functions the binding needs: libbpf log formatting, filesystem magic. */
public interface LibC {
  int vsnprintf(@Out byte[] buffer, @size_t long size, Pointer format, Pointer vaList);

  @jnr.ffi.annotations.SaveError
  int statfs(String path, @Out byte[] buffer);

  /** glibc: returns free heap memory to the system; 1 if any was released. */
  int malloc_trim(@size_t long pad);
}
