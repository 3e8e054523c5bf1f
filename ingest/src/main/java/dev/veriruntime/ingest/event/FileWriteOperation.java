package dev.veriruntime.ingest.event;

/** How a watched file was written ({@code enum vr_write_op} in bpf/veriruntime.h). */
public enum FileWriteOperation {
  /**
   * {@code open}, {@code openat}, {@code openat2} or {@code creat} succeeded with write access or
   * {@code O_TRUNC}: the writer can now change the file (and with O_TRUNC already has).
   */
  OPEN_FOR_WRITE,
  /** {@code ftruncate(2)} succeeded: the file's size changed, its code pages may be gone. */
  FTRUNCATE
}
