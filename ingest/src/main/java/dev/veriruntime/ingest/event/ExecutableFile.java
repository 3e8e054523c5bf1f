package dev.veriruntime.ingest.event;

import dev.veriruntime.verifier.FileIdentity;
import java.util.Objects;
import java.util.Set;

/**
 * A file that was executed or mapped executable, as the kernel saw it when the event fired.
 *
 * @param identity the kernel identity (device, inode, ctime, size)
 * @param nlink link count at the time of the event; 0 means the file was already deleted
 * @param mode {@code i_mode}: file type and permission bits
 * @param filesystemMagic {@code super_block.s_magic} of the file's filesystem
 * @param memfd the file is a memfd ({@code memfd_create}), i.e. has no path on any filesystem
 * @param deleted the file had no links left ({@code nlink == 0})
 * @param path best-effort path rebuilt by walking dentries and mounts in the kernel; relative to
 *     the root of the mount namespace; empty when it could not be resolved. Never an identity.
 *     Kernel bytes are decoded as UTF-8, invalid sequences becoming U+FFFD.
 * @param pathTruncated leading components of {@link #path()} are missing (too deep or too long)
 * @param generation {@code i_generation}, which tells apart files that had the same inode number in
 *     turn (a file system reuses a freed one); 0 when not known (read from {@code /proc})
 */
public record ExecutableFile(
    FileIdentity identity,
    int nlink,
    int mode,
    int filesystemMagic,
    boolean memfd,
    boolean deleted,
    String path,
    boolean pathTruncated,
    int generation) {

  /**
   * {@code s_magic} of filesystems on local block devices or in memory: ext2/3/4, XFS, Btrfs, F2FS,
   * ZFS, tmpfs, ramfs, overlayfs, SquashFS, EROFS. Reading a file there cannot hang on a network.
   */
  private static final Set<Integer> LOCAL_FILESYSTEMS =
      Set.of(
          0xEF53,
          0x58465342,
          0x9123683E,
          0xF2F52010,
          0x2FC12FC1,
          0x01021994,
          0x858458F6,
          0x794C7630,
          0x73717368,
          0xE0F5E1E2);

  private static final int S_ISUID = 04000;
  private static final int S_ISGID = 02000;

  public ExecutableFile {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(path, "path");
  }

  /** The set-user-ID bit is set. */
  public boolean setuid() {
    return (mode & S_ISUID) != 0;
  }

  /** The set-group-ID bit is set. */
  public boolean setgid() {
    return (mode & S_ISGID) != 0;
  }

  /**
   * The file is on a local disk or in memory (see {@link #LOCAL_FILESYSTEMS}), not on a network or
   * FUSE filesystem whose reads may block for as long as a server takes to answer.
   */
  public boolean onLocalFilesystem() {
    return LOCAL_FILESYSTEMS.contains(filesystemMagic);
  }
}
