package dev.veriruntime.api;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;

/**
 * The file of a Unix domain socket a server listens on, made the way {@link ApiServer} documents: a
 * lock next to it held for the server's life, bound inside a fresh 0700 directory, given its mode
 * (0600, or 0660 and a group) there, then renamed into place, so it is never reachable with a wider
 * mode and a stale socket is replaced atomically; a live socket, or anything that is not a socket,
 * is never replaced. Closing removes the file only if it is still the one this server bound. Not
 * thread safe: one server owns one.
 *
 * <pre>{@code
 * SocketFile file = SocketFile.claim(path);      // lock, refuse a live socket
 * bind(file.stagingPath());                       // the server binds there
 * file.publish(group);                            // chmod, chgrp, rename into place
 * ...
 * file.close();                                   // remove (if ours), unlock
 * }</pre>
 */
final class SocketFile implements AutoCloseable {
  private final Path socket;
  private final FileChannel lock;
  private Path staging;
  private Object key;

  private SocketFile(Path socket, FileChannel lock) {
    this.socket = socket;
    this.lock = lock;
  }

  /**
   * Takes the lock next to {@code socket} and checks that nothing live is there.
   *
   * @throws IOException when another server holds the lock or listens on the socket, or the path is
   *     taken by something that is not a socket
   */
  static SocketFile claim(Path socket) throws IOException {
    Path path = socket.toAbsolutePath();
    Files.createDirectories(path.getParent());
    Path lockFile = path.resolveSibling(path.getFileName() + ".lock");
    FileChannel channel =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    boolean locked = false;
    try {
      locked = channel.tryLock() != null;
    } catch (OverlappingFileLockException e) {
      // Held by this JVM: another server on the same path.
    }
    if (!locked) {
      channel.close();
      throw new IOException(
          "another daemon is listening on " + path + " (" + lockFile + " is locked)");
    }
    try {
      switch (CoreApis.probe(path)) {
        case NOT_RUNNING, STALE_SOCKET -> {}
        case RUNNING, NO_PERMISSION ->
            throw new IOException("another daemon is listening on " + path);
        case NOT_A_SOCKET ->
            throw new IOException(path + " exists and is not a socket; refusing to replace it");
      }
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    return new SocketFile(path, channel);
  }

  Path path() {
    return socket;
  }

  /** Where to bind: inside a fresh directory only this process can enter. */
  Path stagingPath() throws IOException {
    if (staging == null) {
      staging =
          Files.createTempDirectory(
              socket.getParent(),
              "." + socket.getFileName() + "-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    return staging.resolve("s");
  }

  /** Gives the bound socket its mode (and group), then renames it into place. */
  void publish(String group) throws IOException {
    Path staged = stagingPath();
    try {
      Files.setPosixFilePermissions(
          staged, PosixFilePermissions.fromString(group == null ? "rw-------" : "rw-rw----"));
      if (group != null) {
        GroupPrincipal principal =
            staged
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByGroupName(group);
        Files.getFileAttributeView(staged, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setGroup(principal);
      }
      // rename(2) replaces a stale socket atomically and keeps the bound inode.
      Files.move(staged, socket, StandardCopyOption.ATOMIC_MOVE);
      key =
          Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
              .fileKey();
    } finally {
      removeStaging();
    }
  }

  @Override
  public void close() {
    try {
      if (key != null) {
        Object now =
            Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
        if (Objects.equals(now, key)) {
          Files.deleteIfExists(socket);
        }
      }
    } catch (IOException e) {
      // Already gone, or unreadable: nothing of ours to remove.
    }
    removeStaging();
    try {
      lock.close();
    } catch (IOException e) {
      // Closing releases the lock whatever happens.
    }
  }

  private void removeStaging() {
    if (staging == null) {
      return;
    }
    try {
      Files.deleteIfExists(staging.resolve("s"));
      Files.deleteIfExists(staging);
    } catch (IOException e) {
      // A leftover empty 0700 directory is harmless.
    }
    staging = null;
  }
}
