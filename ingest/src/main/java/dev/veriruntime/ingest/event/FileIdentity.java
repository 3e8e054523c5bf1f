package dev.veriruntime.ingest.event;

/**
 * What the kernel says a file is: the key by which a binary is recognised (DESIGN guarantee 5),
 * never a path. Two events refer to the same file content only if all four fields are equal.
 *
 * @param device {@code super_block.s_dev} in the kernel's encoding {@code major << 20 | minor} (not
 *     the userspace {@code st_dev} encoding; see {@link #fromUserspaceDevice(long)})
 * @param inode inode number
 * @param ctimeNanos inode change time, seconds × 10⁹ + nanoseconds
 * @param size file size in bytes
 */
public record FileIdentity(long device, long inode, long ctimeNanos, long size) {

  /** The major number of {@link #device()}. */
  public int deviceMajor() {
    return (int) (device >>> 20);
  }

  /** The minor number of {@link #device()}. */
  public int deviceMinor() {
    return (int) (device & 0xFFFFF);
  }

  /**
   * Converts a userspace {@code st_dev} (glibc {@code makedev} encoding, as {@code stat(2)} and
   * {@code /proc/PID/maps} report it after parsing) into the kernel encoding used here.
   */
  public static long fromUserspaceDevice(long stDev) {
    long major = ((stDev >>> 8) & 0xFFFL) | ((stDev >>> 32) & ~0xFFFL);
    long minor = (stDev & 0xFFL) | ((stDev >>> 12) & ~0xFFL);
    return kernelDevice(major, minor);
  }

  /** The kernel encoding {@code major << 20 | minor}. */
  public static long kernelDevice(long major, long minor) {
    return (major << 20) | (minor & 0xFFFFF);
  }
}
