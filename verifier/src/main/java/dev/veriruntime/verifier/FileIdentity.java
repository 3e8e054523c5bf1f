package dev.veriruntime.verifier;

/**
 * What the kernel executed, as the kernel names it: device, inode, change time and size; the key by
 * which a binary is recognised (DESIGN guarantee 5), never a path. Two equal identities denote the
 * same bytes unless the file was written without its ctime changing, which the kernel does not
 * allow for ordinary writes. The probe's records, the start-up scan, {@code stat} and {@code
 * /proc/PID/maps} all arrive here through the one conversion {@link #kernelDev(long)} / {@link
 * #kernelDev(long, long)}.
 *
 * @param dev device number in the kernel's encoding ({@code new_encode_dev}: {@code major << 20 |
 *     minor}, what BPF reads from {@code super_block.s_dev}), not the glibc {@code st_dev} encoding
 * @param inode inode number
 * @param ctimeNanos inode change time, seconds × 10⁹ + nanoseconds
 * @param size file size in bytes
 */
public record FileIdentity(long dev, long inode, long ctimeNanos, long size) {
  private static final int MINOR_BITS = 20;
  private static final long MINOR_MASK = (1L << MINOR_BITS) - 1;

  /** The kernel encoding of a device from its major and minor numbers. */
  public static long kernelDev(long major, long minor) {
    return (major << MINOR_BITS) | (minor & MINOR_MASK);
  }

  /**
   * Converts glibc's {@code st_dev} (what {@code stat(2)} returns to user space, and {@code stat -c
   * %d} prints: major in bits 8-19 and 32-63, minor in bits 0-7 and 20-31) to the kernel encoding.
   */
  public static long kernelDev(long stDev) {
    long major = ((stDev >>> 8) & 0xfffL) | ((stDev >>> 32) & ~0xfffL);
    long minor = (stDev & 0xffL) | ((stDev >>> 12) & ~0xffL);
    return kernelDev(major, minor);
  }

  /** Builds an identity from {@code stat(2)} fields ({@code st_dev} in glibc's encoding). */
  public static FileIdentity fromStat(long stDev, long inode, long ctimeNanos, long size) {
    return new FileIdentity(kernelDev(stDev), inode, ctimeNanos, size);
  }

  /** The major number of {@link #dev()}. */
  public int major() {
    return (int) (dev >>> MINOR_BITS);
  }

  /** The minor number of {@link #dev()}. */
  public int minor() {
    return (int) (dev & MINOR_MASK);
  }
}
