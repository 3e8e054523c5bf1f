package dev.veriruntime.ingest.event;

/** The system call that made memory executable ({@code enum vr_map_source}). */
public enum MappingSource {
  MMAP,
  MPROTECT
}
