package dev.veriruntime.verifier.process;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@link ProcessMemory} over {@code /proc/PID/mem}, read with positional reads ({@code pread}) at
 * the virtual address. Pure Java: no ptrace, no native code.
 *
 * <p>Opening needs the same right as attaching a debugger ({@code PTRACE_MODE_ATTACH}: root, or the
 * same user with a permissive Yama scope); refused access surfaces as {@link
 * AccessDeniedException}. The channel is opened read-only. After the process exits the kernel
 * returns end-of-file, which is reported as {@link ProcessGoneException}; an address the process
 * cannot read yields {@code EIO}, reported as a short read or {@link UnreadableMemoryException}.
 *
 * <p>Not thread-safe for concurrent reads into one buffer, but the channel itself tolerates
 * concurrent positional reads. Owns its channel: close it.
 *
 * <pre>{@code
 * try (ProcessMemory mem = ProcMemReader.open(pid)) {
 *   ByteBuffer code = ByteBuffer.allocateDirect(4096);
 *   mem.read(0x401000L, code);
 * }
 * }</pre>
 */
public final class ProcMemReader implements ProcessMemory {
  private final int pid;
  private final Path procDir;
  private final FileChannel channel;

  private ProcMemReader(int pid, Path procDir, FileChannel channel) {
    this.pid = pid;
    this.procDir = procDir;
    this.channel = channel;
  }

  /** Opens {@code /proc/PID/mem}. */
  public static ProcMemReader open(int pid) throws IOException {
    return open(Path.of("/proc"), pid);
  }

  /**
   * Opens {@code procRoot/PID/mem}.
   *
   * @throws ProcessGoneException if there is no such process
   * @throws AccessDeniedException if the kernel refuses access
   */
  public static ProcMemReader open(Path procRoot, int pid) throws IOException {
    Path dir = procRoot.resolve(Integer.toString(pid));
    try {
      return new ProcMemReader(
          pid, dir, FileChannel.open(dir.resolve("mem"), StandardOpenOption.READ));
    } catch (NoSuchFileException e) {
      throw new ProcessGoneException(pid, "process " + pid + " does not exist", e);
    } catch (IOException e) {
      if (isPermissionError(e)) {
        throw accessDenied(dir.resolve("mem"), e);
      }
      throw e;
    }
  }

  @Override
  public int pid() {
    return pid;
  }

  @Override
  public int read(long address, ByteBuffer dst) throws IOException {
    if (address < 0) {
      // Kernel-half addresses: pread takes a signed offset, and user space never maps there.
      throw new UnreadableMemoryException(
          address, "address 0x" + Long.toHexString(address) + " is outside user space", null);
    }
    int total = 0;
    while (dst.hasRemaining()) {
      int n;
      try {
        n = channel.read(dst, address + total);
      } catch (IOException e) {
        if (total > 0) {
          return total;
        }
        if (!Files.exists(procDir)) {
          throw new ProcessGoneException(
              pid, "process " + pid + " exited while its memory was read", e);
        }
        if (isPermissionError(e)) {
          throw accessDenied(procDir.resolve("mem"), e);
        }
        throw new UnreadableMemoryException(
            address,
            "memory of process "
                + pid
                + " at 0x"
                + Long.toHexString(address)
                + " is not readable: "
                + e.getMessage(),
            e);
      }
      if (n < 0) {
        // The kernel returns 0 bytes once the address space is gone.
        throw new ProcessGoneException(pid, "process " + pid + " exited while its memory was read");
      }
      if (n == 0) {
        return total;
      }
      total += n;
    }
    return total;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  static boolean isPermissionError(IOException e) {
    String m = e.getMessage();
    return e instanceof AccessDeniedException
        || (m != null
            && (m.contains("Permission denied") || m.contains("Operation not permitted")));
  }

  private static AccessDeniedException accessDenied(Path file, IOException cause) {
    AccessDeniedException denied =
        new AccessDeniedException(file.toString(), null, cause.getMessage());
    denied.initCause(cause);
    return denied;
  }
}
