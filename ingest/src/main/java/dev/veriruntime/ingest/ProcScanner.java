package dev.veriruntime.ingest;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Start-up scan of {@code /proc}: the processes that were already running before the probe
 * attached, each with the identity of the file it executes, read through {@code /proc/PID/exe}
 * (the inode that runs, even if its path was since replaced or deleted).
 *
 * <p>Identity encoding matches the probe's: {@code dev} is the kernel's {@code s_dev} encoding
 * ({@code major << 20 | minor}), converted from the glibc {@code st_dev} that Java's {@code
 * unix:dev} returns; {@code ctime} is in nanoseconds since the epoch.
 *
 * <p>Races are normal: a process that exits between listing and reading is skipped and counted in
 * {@link Scan#vanished()}; kernel threads (no executable) are skipped and counted separately;
 * processes we may not read (without root) are counted in {@link Scan#unreadable()}.
 *
 * <p>Stateless and thread-safe; each {@link #scan()} reads /proc afresh.
 */
public final class ProcScanner {
  private final Path proc;

  /**
   * One already-running process.
   *
   * @param pid thread-group id
   * @param ppid parent's thread-group id
   * @param exe path the kernel reports for /proc/PID/exe, without the " (deleted)" suffix
   * @param deleted whether the executable was deleted (or replaced) since exec
   * @param dev device of the executable, kernel encoding {@code major << 20 | minor}
   * @param inode inode number
   * @param ctimeNanos inode change time, ns since the epoch
   * @param size file size in bytes
   * @param startTimeTicks process start, clock ticks since boot (field 22 of /proc/PID/stat), to
   *     tell a reused pid apart
   */
  public record ProcessSnapshot(
      long pid, long ppid, String exe, boolean deleted, long dev, long inode, long ctimeNanos, long size, long startTimeTicks) {}

  /** Result of one scan: processes in ascending pid order, plus what was skipped and why. */
  public record Scan(List<ProcessSnapshot> processes, int vanished, int kernelThreads, int unreadable) {
    public Scan {
      processes = List.copyOf(processes);
    }
  }

  public ProcScanner() {
    this(Path.of("/proc"));
  }

  /** For tests: a /proc-shaped directory. */
  ProcScanner(Path proc) {
    this.proc = proc;
  }

  /**
   * Reads every numeric entry of /proc once.
   *
   * @throws java.io.UncheckedIOException when /proc itself cannot be listed
   */
  public Scan scan() {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
          pids.add(Long.parseLong(name));
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot list " + proc, e);
    }
    pids.sort(null);
    List<ProcessSnapshot> processes = new ArrayList<>(pids.size());
    int vanished = 0;
    int kernelThreads = 0;
    int unreadable = 0;
    for (long pid : pids) {
      Path dir = proc.resolve(Long.toString(pid));
      try {
        Optional<ProcessSnapshot> snapshot = read(pid, dir);
        if (snapshot.isPresent()) {
          processes.add(snapshot.get());
        } else {
          kernelThreads++;
        }
      } catch (NoSuchFileException e) {
        vanished++;
      } catch (AccessDeniedException e) {
        unreadable++;
      } catch (IOException | RuntimeException e) {
        // A process exiting mid-read shows as ESRCH or a short stat file: vanished if its dir is gone.
        if (Files.exists(dir)) {
          unreadable++;
        } else {
          vanished++;
        }
      }
    }
    return new Scan(processes, vanished, kernelThreads, unreadable);
  }

  /** Empty for kernel threads; throws NoSuchFileException when the process is gone. */
  private Optional<ProcessSnapshot> read(long pid, Path dir) throws IOException {
    String stat = Files.readString(dir.resolve("stat"));
    // comm (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    long ppid = Long.parseLong(fields[1]);
    long startTime = Long.parseLong(fields[19]);
    Path exeLink = dir.resolve("exe");
    String target;
    try {
      target = Files.readSymbolicLink(exeLink).toString();
    } catch (NoSuchFileException e) {
      if (Files.exists(dir)) {
        return Optional.empty(); // kernel thread: no mm, no exe link target
      }
      throw e;
    }
    Map<String, Object> attributes = Files.readAttributes(exeLink, "unix:dev,ino,ctime,size");
    boolean deleted = target.endsWith(" (deleted)");
    String exe = deleted ? target.substring(0, target.length() - " (deleted)".length()) : target;
    return Optional.of(new ProcessSnapshot(pid, ppid, exe, deleted,
        kernelDev((Long) attributes.get("dev")), (Long) attributes.get("ino"),
        ((FileTime) attributes.get("ctime")).to(TimeUnit.NANOSECONDS), (Long) attributes.get("size"), startTime));
  }

  /**
   * Converts glibc's {@code dev_t} (what {@code stat(2)} returns to user space: major in bits 8-19
   * and 32-63, minor in bits 0-7 and 20-31) to the kernel's internal {@code dev_t} ({@code
   * major << 20 | minor}), which is what BPF reads from {@code inode->i_sb->s_dev}.
   */
  static long kernelDev(long userDev) {
    long major = ((userDev >>> 8) & 0xfffL) | ((userDev >>> 32) & 0xfffff000L);
    long minor = (userDev & 0xffL) | ((userDev >>> 12) & 0xfff00L);
    return (major << 20) | minor;
  }
}
