package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;

/**
 * The subset of libbpf 1.1 ({@code libbpf.so.1}) that VeriRuntime calls. Signatures mirror {@code
 * <bpf/libbpf.h>} and {@code <bpf/bpf.h>}. libbpf 1.x reports failure as NULL (with errno set) or
 * as a negative errno; {@link SaveError} makes errno readable afterwards.
 */
public interface LibBpf {

  /** {@code libbpf_print_fn_t}: {@code int (*)(enum libbpf_print_level, const char *, va_list)}. */
  interface PrintCallback {
    @Delegate
    int print(int level, Pointer format, Pointer vaList);
  }

  Pointer libbpf_set_print(PrintCallback callback);

  @SaveError
  Pointer bpf_object__open_mem(Pointer buffer, @size_t long size, Pointer openOpts);

  @SaveError
  int bpf_object__load(Pointer object);

  void bpf_object__close(Pointer object);

  Pointer bpf_object__find_map_by_name(Pointer object, String name);

  Pointer bpf_object__find_program_by_name(Pointer object, String name);

  Pointer bpf_object__next_program(Pointer object, Pointer previous);

  String bpf_program__name(Pointer program);

  String bpf_program__section_name(Pointer program);

  int bpf_program__set_autoload(Pointer program, boolean autoload);

  int bpf_program__fd(Pointer program);

  @SaveError
  Pointer bpf_program__attach(Pointer program);

  /** Attaches to the tracepoint {@code category/name}, found through tracefs. */
  @SaveError
  Pointer bpf_program__attach_tracepoint(Pointer program, String category, String name);

  int bpf_link__destroy(Pointer link);

  int bpf_map__fd(Pointer map);

  int bpf_map__set_max_entries(Pointer map, int maxEntries);

  int bpf_map__value_size(Pointer map);

  int bpf_map__set_initial_value(Pointer map, @In byte[] data, @size_t long size);

  @SaveError
  int bpf_map_lookup_elem(int fd, @In byte[] key, @Out byte[] value);

  @SaveError
  int bpf_map_update_elem(int fd, @In byte[] key, @In byte[] value, long flags);

  @SaveError
  int bpf_map_delete_elem(int fd, @In byte[] key);

  @SaveError
  int bpf_map_get_next_key(int fd, @In byte[] key, @Out byte[] nextKey);

  @SaveError
  int bpf_obj_get_info_by_fd(int fd, @In @Out byte[] info, @In @Out int[] infoLength);

  int libbpf_strerror(int error, @Out byte[] buffer, @size_t long size);
}
