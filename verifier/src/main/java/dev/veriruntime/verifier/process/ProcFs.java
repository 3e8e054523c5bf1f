package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Read access to one {@code /proc} tree (the host's by default; a copy in tests), with its errors
 * translated: a vanished process becomes {@link ProcessGoneException}, refused access {@link
 * AccessDeniedException}. Every read is of the live kernel state at the time of the call.
 *
 * <p>Immutable and thread-safe.
 */
public final class ProcFs {
  private static final ProcFs HOST = new ProcFs(Path.of("/proc"));

  private final Path root;

  public ProcFs(Path root) {
    this.root = root;
  }

  /** The host's {@code /proc}. */
  public static ProcFs host() {
    return HOST;
  }

  public Path root() {
    return root;
  }

  public Path dir(int pid) {
    return root.resolve(Integer.toString(pid));
  }

  /**
   * Whether {@code /proc/PID} is listed. {@code java.io.File} answers false where NIO builds a
   * {@code NoSuchFileException} with its stack trace and then says false: most of what a liveness
   * check of an exited process cost.
   */
  public boolean exists(int pid) {
    return dir(pid).toFile().isDirectory();
  }

  /** Pids of every process (not thread) now listed, in ascending order. */
  public List<Integer> pids() throws IOException {
    List<Integer> pids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path e : entries) {
        String name = e.getFileName().toString();
        if (!name.isEmpty() && name.chars().allMatch(Character::isDigit) && name.length() < 10) {
          pids.add(Integer.parseInt(name));
        }
      }
    }
    pids.sort(null);
    return pids;
  }

  /** The bytes of {@code /proc/PID/name} (procfs files report size 0, so read to end of file). */
  public byte[] readBytes(int pid, String name) throws IOException {
    Path file = dir(pid).resolve(name);
    try {
      return read(file);
    } catch (NoSuchFileException e) {
      throw gone(pid, name, e);
    } catch (IOException e) {
      // ESRCH from a /proc file means the task died between open and read.
      if (!exists(pid) || "No such process".equals(e.getMessage())) {
        throw gone(pid, name, e);
      }
      throw translate(file, e);
    }
  }

  public String readString(int pid, String name) throws IOException {
    return new String(readBytes(pid, name), StandardCharsets.UTF_8);
  }

  /**
   * The whole of a {@code /proc} or {@code /sys} file. Such a file reports size 0, and {@link
   * Files#readAllBytes} then reads through a buffer of 8 KiB, which for the few hundred bytes of a
   * {@code stat} or an {@code fdinfo} was most of what a liveness check or a probe check allocated;
   * this starts at 1 KiB and doubles.
   */
  public static byte[] read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1024];
      int n = 0;
      for (int r; (r = in.read(buf, n, buf.length - n)) > 0; ) {
        n += r;
        if (n == buf.length) {
          buf = Arrays.copyOf(buf, n * 2);
        }
      }
      return Arrays.copyOf(buf, n);
    }
  }

  public List<MemoryMapping> maps(int pid) throws IOException {
    return ProcMaps.parse(readString(pid, "maps"));
  }

  public ProcStatus status(int pid) throws IOException {
    return ProcStatus.parse(readString(pid, "status"));
  }

  /** The container of the process ({@link ContainerId}); empty for a process of the host. */
  public Optional<String> container(int pid) throws IOException {
    return ContainerId.fromCgroup(readString(pid, "cgroup"));
  }

  /** Field 22 of {@code /proc/PID/stat}: with the pid, identifies this process across pid reuse. */
  public long startTicks(int pid) throws IOException {
    return ProcStatus.startTicks(readString(pid, "stat"));
  }

  /**
   * As {@link #startTicks}, or empty when the process is gone: asked of processes that have mostly
   * exited (an incident's process, a counted exec's), so a gone one costs no exception.
   */
  public OptionalLong startTicksIfRunning(int pid) throws IOException {
    if (!exists(pid)) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(startTicks(pid));
    } catch (ProcessGoneException e) {
      return OptionalLong.empty(); // ended between the two looks
    }
  }

  /**
   * Whether {@code pid} still names the process that started at {@code startTicks} and that process
   * has not exited (a zombie has: its memory and files are released). One read of {@code
   * /proc/PID/stat}: asked every liveness period for every open incident.
   *
   * @throws IOException if {@code /proc} cannot be read for another reason than the process's end
   */
  public boolean stillRuns(int pid, long startTicks) throws IOException {
    if (!exists(pid)) {
      return false;
    }
    try {
      String stat = readString(pid, "stat");
      char state = ProcStatus.state(stat);
      return ProcStatus.startTicks(stat) == startTicks && state != 'Z' && state != 'X';
    } catch (ProcessGoneException e) {
      return false;
    }
  }

  /** {@code /proc/PID/environ} as a map (first value wins for a repeated name, as getenv does). */
  public Map<String, String> environ(int pid) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String entry : readString(pid, "environ").split("\0")) {
      int eq = entry.indexOf('=');
      if (eq > 0) {
        env.putIfAbsent(entry.substring(0, eq), entry.substring(eq + 1));
      }
    }
    return env;
  }

  /**
   * The target of {@code /proc/PID/exe} as the kernel prints it (with {@code " (deleted)"} when
   * unlinked); empty for kernel threads, which have no executable.
   */
  public Optional<String> exeLink(int pid) throws IOException {
    Path exe = dir(pid).resolve("exe");
    try {
      return Optional.of(Files.readSymbolicLink(exe).toString());
    } catch (NoSuchFileException e) {
      if (!exists(pid)) {
        throw gone(pid, "exe", e);
      }
      return Optional.empty();
    } catch (IOException e) {
      throw translate(exe, e);
    }
  }

  /** {@code /proc/PID/exe}: opening it yields the inode that runs, even if deleted or a memfd. */
  public Path exePath(int pid) {
    return dir(pid).resolve("exe");
  }

  /** {@code /proc/PID/map_files/START-END}: opening it yields the mapped inode itself. */
  public Path mapFile(int pid, MemoryMapping mapping) {
    return dir(pid).resolve("map_files").resolve(mapping.mapFilesName());
  }

  /**
   * Opens what {@code mapping} maps. Through {@code map_files} when allowed (the exact inode, even
   * deleted or memfd); else, for a file that still has its name, by path, accepted only if the file
   * at that path has the mapping's device and inode before and after opening.
   *
   * @throws ProcessGoneException if the process exited
   * @throws MappedFileUnavailableException if neither way yields the mapped file
   */
  public MappedFile openMapped(int pid, MemoryMapping mapping) throws IOException {
    Path viaMapFiles = mapFile(pid, mapping);
    IOException first;
    try {
      return new MappedFile(
          FileChannel.open(viaMapFiles, StandardOpenOption.READ), viaMapFiles, mapping);
    } catch (IOException e) {
      if (!exists(pid)) {
        throw gone(pid, "map_files", e);
      }
      first = e;
    }
    if (mapping.kind() != MemoryMapping.Kind.FILE) {
      throw new MappedFileUnavailableException(
          mapping,
          "cannot open "
              + viaMapFiles
              + " ("
              + message(first)
              + ") and "
              + mapping.kind().name().toLowerCase().replace('_', ' ')
              + " has no path to fall back to",
          first);
    }
    Path byPath = Path.of(mapping.filePath());
    FileChannel ch = null;
    try {
      checkIdentity(byPath, mapping);
      ch = FileChannel.open(byPath, StandardOpenOption.READ);
      checkIdentity(byPath, mapping);
      return new MappedFile(ch, byPath, mapping);
    } catch (IOException e) {
      if (ch != null) {
        ch.close();
      }
      throw e instanceof MappedFileUnavailableException m
          ? m
          : new MappedFileUnavailableException(
              mapping,
              "cannot open "
                  + viaMapFiles
                  + " ("
                  + message(first)
                  + ") nor "
                  + byPath
                  + " ("
                  + message(e)
                  + ")",
              e);
    }
  }

  private static void checkIdentity(Path path, MemoryMapping mapping) throws IOException {
    Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
    long dev = FileIdentity.fromStat((Long) a.get("dev"), 0, 0, 0).dev();
    long ino = (Long) a.get("ino");
    if (dev != mapping.kernelDev() || ino != mapping.inode()) {
      throw new MappedFileUnavailableException(
          mapping,
          String.format(
              "%s is now inode %d on %d:%d, not the mapped inode %d on %d:%d",
              path,
              ino,
              dev >>> 20,
              dev & 0xfffff,
              mapping.inode(),
              mapping.devMajor(),
              mapping.devMinor()),
          null);
    }
  }

  private static String message(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private ProcessGoneException gone(int pid, String what, IOException cause) {
    return new ProcessGoneException(
        pid, "process " + pid + " does not exist (reading /proc/" + pid + "/" + what + ")", cause);
  }

  private static IOException translate(Path file, IOException e) {
    if (e instanceof AccessDeniedException) {
      return e;
    }
    if (ProcMemReader.isPermissionError(e)) {
      AccessDeniedException denied =
          new AccessDeniedException(file.toString(), null, e.getMessage());
      denied.initCause(e);
      return denied;
    }
    return e;
  }

  /**
   * An open mapped file. Owns {@code channel}: close it.
   *
   * @param statPath a path whose {@code stat} names the same inode (for identity checks)
   */
  public record MappedFile(FileChannel channel, Path statPath, MemoryMapping mapping)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
