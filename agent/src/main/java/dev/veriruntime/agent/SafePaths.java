package dev.veriruntime.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;

/**
 * Refuses the paths the agent writes evidence to, or reads trust from, when someone other than the
 * agent's user could redirect or replace what is there, or when they name a kernel pseudo-file
 * system. Checked once at start-up, before anything is opened; each refusal is an {@link
 * UnsafePathException} whose message is one line naming the path and the reason.
 *
 * <p>The rules, as {@code sshd}'s StrictModes and systemd's tmpfiles apply them:
 *
 * <ul>
 *   <li>nothing under {@code /proc}, {@code /dev} or {@code /sys} (after resolving links): those
 *       are not files (an endless {@code /dev/zero}, a {@code /proc/PID/fd} of another process);
 *   <li>the state directory and every directory above it (resolved) is owned by root or the agent's
 *       user, and not writable by group or others unless it has the sticky bit ({@code /tmp});
 *   <li>the state directory itself, and the journal, keys and marker inside it, are not writable by
 *       group or others, are owned by the agent's user, and are not symbolic links: a link there
 *       would send signed evidence, or the node's private key, somewhere else;
 *   <li>the API socket's directory follows the directory rules; the socket and its lock file are
 *       not symbolic links;
 *   <li>an input file (policy, references, keys) is a regular file once links are resolved.
 * </ul>
 *
 * <p>Stateless and thread-safe. A path that does not exist yet passes (it is created 0700 by its
 * owner); its nearest existing ancestor is checked.
 */
public final class SafePaths {
  private static final List<Path> PSEUDO_FILE_SYSTEMS =
      List.of(Path.of("/proc"), Path.of("/dev"), Path.of("/sys"));

  /** Entries of a state or journal directory that must never be links. */
  private static final List<String> OWN_ENTRIES =
      List.of("journal", "keys", RunMarker.FILE, RunMarker.FILE + ".tmp");

  private final int uid;

  /** For the user this process runs as. */
  public SafePaths() {
    this(currentUid());
  }

  SafePaths(int uid) {
    this.uid = uid;
  }

  /** A path refused by {@link SafePaths}; the message is one line. */
  public static final class UnsafePathException extends IOException {
    private static final long serialVersionUID = 1L;

    UnsafePathException(Path path, String why) {
      super(path + ": " + why);
    }
  }

  /**
   * Checks a directory the agent keeps evidence in: the state directory, or the journal directory
   * when it is given apart ({@code journal/}, {@code keys/} and the run marker are looked at inside
   * it).
   */
  public void stateDirectory(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    notPseudo(dir, abs);
    Path existing = nearestExisting(abs);
    Path real = existing.toRealPath();
    notPseudo(dir, real);
    ancestors(dir, real.getParent());
    if (!existing.equals(abs)) {
      ancestors(dir, real);
      return; // created by the agent, 0700
    }
    PosixFileAttributes a = lstat(abs);
    if (a.isSymbolicLink()) {
      throw new UnsafePathException(
          dir,
          "is a symbolic link (to "
              + Files.readSymbolicLink(abs)
              + "); give the directory it points to, owned by this user");
    }
    if (!a.isDirectory()) {
      throw new UnsafePathException(dir, "is not a directory");
    }
    ownedAndPrivate(dir, a, "the state directory");
    for (String name : OWN_ENTRIES) {
      Path entry = abs.resolve(name);
      PosixFileAttributes e = lstatIfExists(entry);
      if (e == null) {
        continue;
      }
      if (e.isSymbolicLink()) {
        throw new UnsafePathException(
            entry,
            "is a symbolic link (to "
                + Files.readSymbolicLink(entry)
                + "); the agent's evidence and keys stay in its own state directory");
      }
      ownedAndPrivate(entry, e, "an entry of the state directory");
      if (e.isDirectory()) {
        entriesAreNotLinks(entry);
      }
    }
  }

  /** Checks where the control API's socket goes. */
  public void socket(Path socket) throws IOException {
    Path abs = socket.toAbsolutePath().normalize();
    notPseudo(socket, abs);
    Path parent = abs.getParent();
    Path real = nearestExisting(parent).toRealPath();
    notPseudo(socket, real);
    ancestors(socket, real);
    for (Path p : List.of(abs, abs.resolveSibling(abs.getFileName() + ".lock"))) {
      PosixFileAttributes a = lstatIfExists(p);
      if (a != null && a.isSymbolicLink()) {
        throw new UnsafePathException(
            p, "is a symbolic link (to " + Files.readSymbolicLink(p) + "); remove it");
      }
    }
  }

  /** Checks a file the agent reads trust from: a policy, references, a key. */
  public void inputFile(Path file) throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    notPseudo(file, abs);
    Path real;
    try {
      real = abs.toRealPath();
    } catch (NoSuchFileException e) {
      return; // the reader says "cannot read", with its own exit code
    }
    notPseudo(file, real);
    if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
      throw new UnsafePathException(file, "is not a regular file");
    }
  }

  private static void notPseudo(Path shown, Path p) throws UnsafePathException {
    for (Path fs : PSEUDO_FILE_SYSTEMS) {
      if (p.startsWith(fs)) {
        throw new UnsafePathException(
            shown, "is under " + fs + ", a kernel file system, not a place for files");
      }
    }
  }

  /**
   * Every directory from the root down to {@code dir}: owned by root or this user, and not writable
   * by others unless sticky (anyone may create there, only the owner may replace).
   */
  private void ancestors(Path shown, Path dir) throws IOException {
    if (dir == null) {
      return;
    }
    Path p = dir.getRoot();
    for (Path name : dir) {
      p = p.resolve(name);
      check(shown, p);
    }
    check(shown, dir.getRoot());
  }

  private void check(Path shown, Path dir) throws IOException {
    PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
    int owner = ownerUid(dir);
    if (owner != 0 && owner != uid) {
      throw new UnsafePathException(
          shown,
          "its directory " + dir + " is owned by uid " + owner + ", not by root or this user");
    }
    Set<PosixFilePermission> m = a.permissions();
    boolean sticky = sticky(dir);
    if (!sticky
        && (m.contains(PosixFilePermission.OTHERS_WRITE)
            || m.contains(PosixFilePermission.GROUP_WRITE))) {
      throw new UnsafePathException(
          shown,
          "its directory "
              + dir
              + " is writable by "
              + (m.contains(PosixFilePermission.OTHERS_WRITE) ? "others" : "its group")
              + " and not sticky, so another user could replace what is in it");
    }
  }

  private void ownedAndPrivate(Path p, PosixFileAttributes a, String what) throws IOException {
    int owner = ownerUid(p);
    if (owner != uid) {
      throw new UnsafePathException(
          p, what + " is owned by uid " + owner + ", not by this user (uid " + uid + ")");
    }
    Set<PosixFilePermission> m = a.permissions();
    if (m.contains(PosixFilePermission.OTHERS_WRITE)
        || m.contains(PosixFilePermission.GROUP_WRITE)) {
      throw new UnsafePathException(
          p,
          what
              + " is writable by "
              + (m.contains(PosixFilePermission.OTHERS_WRITE) ? "others" : "its group")
              + " (mode "
              + mode(m)
              + "); make it 0700");
    }
  }

  private static void entriesAreNotLinks(Path dir) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path e : s) {
        if (Files.isSymbolicLink(e)) {
          throw new UnsafePathException(
              e,
              "is a symbolic link (to "
                  + Files.readSymbolicLink(e)
                  + "); the agent's evidence and keys stay in its own state directory");
        }
      }
    }
  }

  private static Path nearestExisting(Path abs) {
    Path p = abs;
    while (p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      p = p.getParent();
    }
    return p == null ? abs.getRoot() : p;
  }

  private static PosixFileAttributes lstat(Path p) throws IOException {
    return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
  }

  private static PosixFileAttributes lstatIfExists(Path p) throws IOException {
    try {
      return lstat(p);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static int ownerUid(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
  }

  private static boolean sticky(Path p) throws IOException {
    int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (mode & 01000) != 0;
  }

  private static String mode(Set<PosixFilePermission> m) {
    int bits = 0;
    for (PosixFilePermission p : m) {
      bits |= 1 << (8 - p.ordinal());
    }
    return String.format("%04o", bits);
  }

  private static int currentUid() {
    try {
      // /proc/self belongs to the process's effective user.
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
