package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;

/** The few libc functions the binding needs: formatting libbpf's {@code va_list} log messages. */
public interface LibC {
  int vsnprintf(@Out byte[] buffer, @size_t long size, Pointer format, Pointer vaList);
}
