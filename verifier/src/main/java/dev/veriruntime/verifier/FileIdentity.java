package dev.veriruntime.verifier;

/**
 * What the kernel executed, as the kernel names it: device, inode, change time and size. Two equal
 * identities denote the same bytes unless the file was written without its ctime changing, which
 * the kernel does not allow for ordinary writes.
 *
 * @param dev device number in the kernel's encoding ({@code new_encode_dev}: major &lt;&lt; 20 |
 *     minor in the probe; {@code st_dev} from {@code stat} uses the glibc encoding, see {@link
 *     #fromStat})
 */
public record FileIdentity(long dev, long inode, long ctimeNanos, long size) {

  /**
   * Convert a glibc-style {@code st_dev} (as shown by {@code stat -c %d}) to the kernel encoding.
   */
  public static long kernelDev(long major, long minor) {
    return (major << 20) | minor;
  }

  /** Build an identity from a glibc {@code st_dev} value plus the other stat fields. */
  public static FileIdentity fromStat(long stDev, long inode, long ctimeNanos, long size) {
    long major = ((stDev >>> 8) & 0xfffL) | ((stDev >>> 32) & ~0xfffL);
    long minor = (stDev & 0xffL) | ((stDev >>> 12) & ~0xffL);
    return new FileIdentity(kernelDev(major, minor), inode, ctimeNanos, size);
  }
}
