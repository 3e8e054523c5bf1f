package dev.veriruntime.verifier.process;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Read access to another process's address space.
 *
 * <p>The one implementation that ships is {@link ProcMemReader} ({@code /proc/PID/mem}); tests and
 * other transports (a process_vm_readv door in the kernel package, a core file) can provide their
 * own. Implementations must be safe for use by one thread at a time; {@link #close()} releases what
 * the instance holds and may be called more than once.
 */
public interface ProcessMemory extends AutoCloseable {

  /** The process whose memory this reads. */
  int pid();

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code address} into {@code dst}, advancing its
   * position. Returns how many bytes were read; fewer than asked means that the byte at {@code
   * address + result} is not readable (unmapped, or past the end of a mapped file).
   *
   * @throws ProcessGoneException if the process exited
   * @throws UnreadableMemoryException if not even the first byte can be read
   * @throws java.nio.file.AccessDeniedException if the kernel refuses access to the process
   * @throws IOException for other read errors
   */
  int read(long address, ByteBuffer dst) throws IOException;

  @Override
  void close() throws IOException;

  /** Opens the memory of a process: {@code ProcMemReader::open} in production. */
  @FunctionalInterface
  interface Opener {
    /**
     * @throws ProcessGoneException if there is no such process
     * @throws java.nio.file.AccessDeniedException if the kernel refuses access
     */
    ProcessMemory open(int pid) throws IOException;
  }
}
