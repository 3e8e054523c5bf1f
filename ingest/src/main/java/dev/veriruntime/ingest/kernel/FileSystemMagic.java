package dev.veriruntime.ingest.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * The filesystem type magic ({@code statfs(2)} {@code f_type}, the kernel's {@code s_magic}) of the
 * filesystem holding a path, which Java's file APIs do not expose. Thread-safe.
 */
public final class FileSystemMagic {
  private FileSystemMagic() {}

  /**
   * {@code f_type} of the filesystem of {@code path} (symlinks followed, so {@code /proc/PID/exe}
   * gives the executable's filesystem); empty when statfs fails (e.g. the process exited).
   */
  public static OptionalInt of(Path path) {
    // struct statfs is 120 bytes on x86_64 and arm64; f_type (__fsword_t, a long) comes first.
    byte[] buffer = new byte[256];
    if (NativeLibraries.get().libc.statfs(path.toString(), buffer) != 0) {
      return OptionalInt.empty();
    }
    return OptionalInt.of((int) ByteBuffer.wrap(buffer).order(ByteOrder.nativeOrder()).getLong(0));
  }
}
