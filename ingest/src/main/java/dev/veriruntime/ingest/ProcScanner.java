package dev.veriruntime.ingest;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.ScannedProcess;
import dev.veriruntime.ingest.kernel.FileSystemMagic;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
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
import java.util.function.ToIntFunction;
import reactor.core.publisher.Flux;

/**
 * Start-up scan of {@code /proc}: the processes that were already running before the probe
 * attached, as {@link ScannedProcess} events, each with the identity of the file it executes read
 * through {@code /proc/PID/exe} (the inode that runs, even if its path was since replaced or
 * deleted).
 *
 * <p>Identity encoding matches the probe's: the device is the kernel's {@code s_dev} encoding
 * ({@code major << 20 | minor}), converted from the glibc {@code st_dev} that Java's {@code
 * unix:dev} returns; ctime is in nanoseconds.
 *
 * <p>Races are normal: a process that exits between listing and reading is skipped and counted in
 * {@link Scan#vanished()}. Kernel threads are reported with an empty executable (and counted);
 * processes whose executable we may not read (without root) likewise, counted in {@link
 * Scan#unreadable()}.
 *
 * <p>Stateless and thread-safe; each {@link #scan()} reads /proc afresh.
 */
public final class ProcScanner {
  private final Path proc;
  private final ToIntFunction<Path> filesystemMagic;

  /** Result of one scan: processes in ascending pid order, plus what could not be fully read. */
  public record Scan(
      List<ScannedProcess> processes, int vanished, int kernelThreads, int unreadable) {
    public Scan {
      processes = List.copyOf(processes);
    }
  }

  public ProcScanner() {
    this(Path.of("/proc"), path -> FileSystemMagic.of(path).orElse(0));
  }

  /** For tests: a /proc-shaped directory, and a statfs stand-in. */
  ProcScanner(Path proc, ToIntFunction<Path> filesystemMagic) {
    this.proc = proc;
    this.filesystemMagic = filesystemMagic;
  }

  /** The scan as events, read when subscribed (cold; every subscription scans again). */
  public Flux<ScannedProcess> events() {
    return Flux.defer(() -> Flux.fromIterable(scan().processes()));
  }

  /**
   * Reads every numeric entry of /proc once.
   *
   * @throws java.io.UncheckedIOException when /proc itself cannot be listed
   */
  public Scan scan() {
    List<Integer> pids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(proc)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (!name.isEmpty() && name.length() < 10 && name.chars().allMatch(Character::isDigit)) {
          pids.add(Integer.parseInt(name));
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot list " + proc, e);
    }
    pids.sort(null);
    List<ScannedProcess> processes = new ArrayList<>(pids.size());
    int vanished = 0;
    int kernelThreads = 0;
    int unreadable = 0;
    for (int pid : pids) {
      Path dir = proc.resolve(Integer.toString(pid));
      try {
        ScannedProcess process = read(pid, dir);
        processes.add(process);
        if (process.executable().isEmpty()) {
          if (process.ppid() == 2 || pid == 2) {
            kernelThreads++;
          } else {
            unreadable++;
          }
        }
      } catch (NoSuchFileException e) {
        vanished++;
      } catch (IOException | RuntimeException e) {
        // A process exiting mid-read shows as ESRCH or a short file: vanished if its dir is gone.
        if (Files.exists(dir)) {
          unreadable++;
        } else {
          vanished++;
        }
      }
    }
    return new Scan(processes, vanished, kernelThreads, unreadable);
  }

  /**
   * One process, read as {@link #scan()} reads each (a kernel thread has an empty executable);
   * empty when it does not exist or ended while being read. For a process the live stream cannot
   * name, such as a child forked without exec.
   *
   * @throws IOException when it exists but cannot be read
   */
  public Optional<ScannedProcess> process(int pid) throws IOException {
    Path dir = proc.resolve(Integer.toString(pid));
    if (!dir.toFile().exists()) {
      // Gone (the usual answer when an event about a short-lived process names it): one stat,
      // where opening its files would throw a NoSuchFileException, whose stack trace alone cost
      // the ring reader a fifth of its time over a burst of such events.
      return Optional.empty();
    }
    try {
      return Optional.of(read(pid, dir));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      if (!Files.exists(dir)) {
        return Optional.empty();
      }
      throw e instanceof IOException io ? io : new IOException("cannot read " + dir, e);
    }
  }

  /**
   * How much of {@code stat} and {@code status} is read: the fields used here come first (stat's
   * pid, comm, state and ppid; status's Uid and Gid lines end before byte 300 even with the longest
   * escaped name). A small head instead of whole files read as text keeps a read at about 1 KiB of
   * garbage rather than 30: it runs for every process scanned or adopted, and for every forked
   * parent a parent chain names.
   */
  private static final int HEAD_BYTES = 1024;

  /** Throws NoSuchFileException when the process is gone. */
  private ScannedProcess read(int pid, Path dir) throws IOException {
    long readAt = System.nanoTime();
    byte[] head = new byte[HEAD_BYTES];
    String stat = head(dir.resolve("stat"), head, StandardCharsets.UTF_8);
    // comm (field 2) may contain spaces and parentheses: fields are counted after the last ')',
    // which no later (numeric) field contains. After it: " S PPID ".
    int close = stat.lastIndexOf(')');
    int ppidStart = stat.indexOf(' ', close + 2) + 1;
    int ppidEnd = stat.indexOf(' ', ppidStart);
    if (close < 0 || ppidStart == 0 || ppidEnd < 0) {
      throw new IOException("cannot read the parent pid in " + dir.resolve("stat"));
    }
    int ppid = Integer.parseInt(stat, ppidStart, ppidEnd, 10);
    String comm = stat.substring(stat.indexOf('(') + 1, close);
    Path statusFile = dir.resolve("status");
    String status = head(statusFile, head, StandardCharsets.ISO_8859_1);
    int uid = firstValue(status, "Uid:\t", statusFile);
    int gid = firstValue(status, "Gid:\t", statusFile);
    return new ScannedProcess(readAt, pid, ppid, uid, gid, comm, executable(dir));
  }

  /** The first {@code buffer.length} bytes of {@code file} as text. */
  private static String head(Path file, byte[] buffer, Charset charset) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new String(buffer, 0, in.readNBytes(buffer, 0, buffer.length), charset);
    }
  }

  /**
   * The first value of the {@code key} line ({@code "Uid:\t"} or {@code "Gid:\t"}) of {@code
   * /proc/PID/status}, where the kernel separates values with tabs ({@code
   * "Uid:\t1000\t1000\t1000\t1000"}) and escapes any tab in the Name line, so the key occurs only
   * at the start of its line. No regular expression, as this runs for every process read.
   */
  private static int firstValue(String status, String key, Path file) throws IOException {
    int start = status.indexOf(key);
    if (start < 0) {
      throw new IOException("no " + key.strip() + " line in " + file);
    }
    start += key.length();
    int end = start;
    while (end < status.length() && Character.isDigit(status.charAt(end))) {
      end++;
    }
    return Integer.parseInt(status, start, end, 10);
  }

  private Optional<ExecutableFile> executable(Path dir) throws IOException {
    Path exeLink = dir.resolve("exe");
    String target;
    Map<String, Object> attributes;
    try {
      target = Files.readSymbolicLink(exeLink).toString();
      attributes = Files.readAttributes(exeLink, "unix:dev,ino,ctime,size,nlink,mode");
    } catch (NoSuchFileException e) {
      if (Files.exists(dir)) {
        return Optional.empty(); // kernel thread: no mm, so no exe link target
      }
      throw e;
    } catch (AccessDeniedException e) {
      return Optional.empty();
    }
    boolean deletedSuffix = target.endsWith(" (deleted)");
    String path =
        deletedSuffix ? target.substring(0, target.length() - " (deleted)".length()) : target;
    int nlink = (Integer) attributes.get("nlink");
    FileIdentity identity =
        new FileIdentity(
            FileIdentity.kernelDev((Long) attributes.get("dev")),
            (Long) attributes.get("ino"),
            ((FileTime) attributes.get("ctime")).to(TimeUnit.NANOSECONDS),
            (Long) attributes.get("size"));
    return Optional.of(
        new ExecutableFile(
            identity,
            nlink,
            (Integer) attributes.get("mode"),
            filesystemMagic.applyAsInt(exeLink),
            path.startsWith("/memfd:"),
            deletedSuffix || nlink == 0,
            path,
            false,
            0));
  }
}
