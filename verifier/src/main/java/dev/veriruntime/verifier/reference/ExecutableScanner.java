package dev.veriruntime.verifier.reference;

import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.Shebang;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Finds the executables under some directories and hashes them for a reference manifest: ELF files
 * (by their magic, whatever their mode, so shared libraries count) and scripts that start with
 * {@code #!} and have an execute bit. Symbolic links are never followed, so a scan stays inside its
 * trees and every real file is one entry named by its real path; {@link #resolveRoots} drops roots
 * that repeat or nest in another (merged /usr), so no file is hashed twice.
 *
 * <p>Files are hashed by {@link ManifestBuilder#describe} on a pool of {@code threads} threads. A
 * file a Debian package owns is first compared with the package's own checksum: if it differs it is
 * a {@linkplain TamperCandidate tamper candidate} and is left out of the result's entries.
 * Unreadable files and directories, and files with the ELF magic that are not well-formed ELF, are
 * listed in the result, never thrown.
 *
 * <p>One scan per instance. Progress is reported to a {@link ProgressListener} at most once per
 * interval, from the thread that called {@link #scan} while files are listed and from a hashing
 * thread afterwards, never from two threads at once. Pure: no console, no logging; the caller
 * decides how to show progress.
 *
 * <pre>{@code
 * ExecutableScanner.Roots roots = ExecutableScanner.resolveRoots(List.of(Path.of("/usr")));
 * ExecutableScanner.Result r =
 *     new ExecutableScanner(PackageDatabase.empty(), 4, Clock.systemUTC())
 *         .scan(roots.roots(), Duration.ofMillis(100), p -> System.err.println(p.done()));
 * }</pre>
 */
public final class ExecutableScanner {
  /** The kernel reads this much of a file to choose a binary format; enough for ELF and #!. */
  private static final int HEAD_BYTES = Shebang.MAX_LINE;

  private static final Set<PosixFilePermission> EXECUTE =
      EnumSet.of(
          PosixFilePermission.OWNER_EXECUTE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_EXECUTE);

  private static final ProgressListener SILENT = p -> {};

  private final PackageDatabase packages;
  private final int threads;
  private final Clock clock;
  private final AtomicLong listed = new AtomicLong();
  private final AtomicLong done = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private final ReentrantLock reporting = new ReentrantLock();
  private volatile long total = -1;
  private long startMillis;
  private long nextReportMillis;
  private long intervalMillis;
  private ProgressListener listener = SILENT;

  /** Told where a scan is; see the class comment for when and on which thread. */
  @FunctionalInterface
  public interface ProgressListener {
    void progress(Progress progress);
  }

  /** A file or directory that could not be read, or an ELF file that could not be parsed. */
  public record Problem(String path, String reason) {}

  /** A package-owned executable whose bytes differ from its package's recorded MD5. */
  public record TamperCandidate(
      String path, String packageName, String expectedMd5, String sha256) {}

  /** The roots to scan (real paths, none inside another) and those that do not exist. */
  public record Roots(List<Path> roots, List<Path> missing) {}

  /** Where a scan is: {@code total} is -1 while files are still being listed. */
  public record Progress(long listed, long total, long done, long bytes, Duration elapsed) {}

  /**
   * What a scan found.
   *
   * @param included entries to sign, in path order: every executable except tamper candidates
   * @param elfFiles ELF files among the executables (tamper candidates included)
   * @param scripts {@code #!} scripts among the executables
   * @param packageVerified included files whose bytes match their package's checksum
   * @param filesScanned regular files looked at
   * @param bytesHashed bytes of the executables hashed
   */
  public record Result(
      List<ManifestBuilder.Entry> included,
      int elfFiles,
      int scripts,
      int packageVerified,
      List<TamperCandidate> tamperCandidates,
      List<Problem> unreadable,
      List<Problem> malformed,
      long filesScanned,
      long bytesHashed,
      Duration elapsed) {}

  private sealed interface Outcome {}

  private record NotExecutable() implements Outcome {}

  private record Hashed(ManifestBuilder.Entry entry, boolean script, boolean packageVerified)
      implements Outcome {}

  private record Tampered(TamperCandidate candidate, boolean script) implements Outcome {}

  private record Unreadable(Problem problem) implements Outcome {}

  private record Malformed(Problem problem) implements Outcome {}

  private record Candidate(Path path, long size) {}

  /**
   * @param packages the package database whose checksums vouch for package-owned files
   * @param threads how many threads hash files, at least 1
   * @param clock measures the elapsed time and paces progress reports
   */
  public ExecutableScanner(PackageDatabase packages, int threads, Clock clock) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    this.packages = packages;
    this.threads = threads;
    this.clock = clock;
  }

  /**
   * Resolves each requested root to its real path and drops those that do not exist, repeat, or lie
   * inside another root (on merged /usr, {@code /bin} is {@code /usr/bin}).
   */
  public static Roots resolveRoots(List<Path> requested) throws IOException {
    List<Path> real = new ArrayList<>();
    List<Path> missing = new ArrayList<>();
    for (Path p : requested) {
      try {
        real.add(p.toRealPath());
      } catch (NoSuchFileException e) {
        missing.add(p);
      }
    }
    real.sort(Comparator.comparingInt(Path::getNameCount).thenComparing(Path::toString));
    List<Path> roots = new ArrayList<>();
    for (Path p : real) {
      if (roots.stream().noneMatch(p::startsWith)) {
        roots.add(p);
      }
    }
    return new Roots(List.copyOf(roots), List.copyOf(missing));
  }

  /** Lists and hashes everything under {@code roots} (real paths from {@link #resolveRoots}). */
  public Result scan(List<Path> roots) throws InterruptedException {
    return scan(roots, Duration.ofDays(1), SILENT);
  }

  /**
   * Lists and hashes everything under {@code roots} (real paths from {@link #resolveRoots}),
   * telling {@code listener} where the scan is at most once per {@code interval}.
   *
   * @throws IllegalStateException when this scanner has already scanned
   */
  public Result scan(List<Path> roots, Duration interval, ProgressListener listener)
      throws InterruptedException {
    synchronized (this) {
      if (startMillis != 0) {
        throw new IllegalStateException("one scan per ExecutableScanner");
      }
      startMillis = Math.max(1, clock.millis());
      intervalMillis = interval.toMillis();
      nextReportMillis = startMillis + intervalMillis;
      this.listener = listener;
    }
    List<Problem> unreadable = new ArrayList<>();
    List<Candidate> candidates = list(roots, unreadable);
    total = candidates.size();
    Outcome[] outcomes = hashAll(candidates);

    List<ManifestBuilder.Entry> included = new ArrayList<>();
    List<TamperCandidate> tampered = new ArrayList<>();
    List<Problem> malformed = new ArrayList<>();
    int elf = 0;
    int scripts = 0;
    int packageVerified = 0;
    for (Outcome o : outcomes) {
      if (o instanceof Hashed h) {
        included.add(h.entry());
        scripts += h.script() ? 1 : 0;
        elf += h.script() ? 0 : 1;
        packageVerified += h.packageVerified() ? 1 : 0;
      } else if (o instanceof Tampered t) {
        tampered.add(t.candidate());
        scripts += t.script() ? 1 : 0;
        elf += t.script() ? 0 : 1;
      } else if (o instanceof Unreadable u) {
        unreadable.add(u.problem());
      } else if (o instanceof Malformed m) {
        malformed.add(m.problem());
      }
    }
    unreadable.sort(Comparator.comparing(Problem::path));
    return new Result(
        List.copyOf(included),
        elf,
        scripts,
        packageVerified,
        List.copyOf(tampered),
        List.copyOf(unreadable),
        List.copyOf(malformed),
        candidates.size(),
        bytes.get(),
        Duration.ofMillis(clock.millis() - startMillis));
  }

  /**
   * Reports progress when the interval has passed. tryLock: a hashing thread never waits for
   * another's report (a slow terminal must not slow the scan), and reports never overlap.
   */
  private void maybeReport() {
    if (!reporting.tryLock()) {
      return;
    }
    try {
      long now = clock.millis();
      if (now < nextReportMillis) {
        return;
      }
      nextReportMillis = now + intervalMillis;
      listener.progress(
          new Progress(
              listed.get(), total, done.get(), bytes.get(), Duration.ofMillis(now - startMillis)));
    } finally {
      reporting.unlock();
    }
  }

  /** Every regular file under the roots, in path order; failures go to {@code unreadable}. */
  private List<Candidate> list(List<Path> roots, List<Problem> unreadable) {
    List<Candidate> out = new ArrayList<>();
    for (Path root : roots) {
      try {
        Files.walkFileTree(
            root,
            Set.of(), // never follow symbolic links: stay in the tree
            Integer.MAX_VALUE,
            new SimpleFileVisitor<>() {
              @Override
              public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                  out.add(new Candidate(file, attrs.size()));
                  listed.incrementAndGet();
                  maybeReport();
                }
                return FileVisitResult.CONTINUE;
              }

              @Override
              public FileVisitResult visitFileFailed(Path file, IOException e) {
                unreadable.add(new Problem(file.toString(), describe(e)));
                return FileVisitResult.CONTINUE;
              }

              @Override
              public FileVisitResult postVisitDirectory(Path dir, IOException e) {
                if (e != null) {
                  unreadable.add(new Problem(dir.toString(), describe(e)));
                }
                return FileVisitResult.CONTINUE;
              }
            });
      } catch (IOException e) {
        unreadable.add(new Problem(root.toString(), describe(e)));
      }
    }
    out.sort(Comparator.comparing(c -> c.path().toString()));
    return out;
  }

  /** Hashes every candidate on the pool; outcome {@code i} belongs to candidate {@code i}. */
  private Outcome[] hashAll(List<Candidate> candidates) throws InterruptedException {
    Outcome[] outcomes = new Outcome[candidates.size()];
    // Work in a fixed shuffled order: in path order the large binaries of /usr/bin come first and
    // the long tail of small library files last, so the rate (and the time left shown from it)
    // would swing; mixed, it holds from the start. Results still land in path order.
    List<Integer> order = new ArrayList<>(outcomes.length);
    for (int i = 0; i < outcomes.length; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(outcomes.length));
    AtomicInteger next = new AtomicInteger();
    Runnable worker =
        () -> {
          for (int k = next.getAndIncrement();
              k < outcomes.length && !Thread.currentThread().isInterrupted();
              k = next.getAndIncrement()) {
            int i = order.get(k);
            outcomes[i] = examine(candidates.get(i));
            done.incrementAndGet();
            maybeReport();
          }
        };
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "veriruntime-scan");
              t.setDaemon(true);
              return t;
            });
    try {
      List<Future<?>> running = new ArrayList<>(threads);
      for (int t = 0; t < threads; t++) {
        running.add(pool.submit(worker));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("a scan worker failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
    return outcomes;
  }

  private Outcome examine(Candidate c) {
    String name = c.path().toString();
    try (FileChannel ch =
        FileChannel.open(c.path(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer head = ByteBuffer.allocate(HEAD_BYTES);
      while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
        // positional reads until HEAD_BYTES or end of file
      }
      head.flip();
      boolean elf = ManifestBuilder.startsWithElfMagic(head);
      boolean script = !elf && Shebang.parse(head).isPresent() && executable(c.path());
      if (!elf && !script) {
        return new NotExecutable();
      }
      Optional<PackageDatabase.Match> match = packages.check(name, ch);
      ManifestBuilder.Entry entry = ManifestBuilder.describe(name, ch);
      bytes.addAndGet(c.size());
      if (match.orElse(null) == PackageDatabase.Match.DIFFERS) {
        PackageDatabase.PackageFile record = packages.lookup(name).orElseThrow();
        return new Tampered(
            new TamperCandidate(name, record.packageName(), record.md5(), entry.sha256()), script);
      }
      return new Hashed(entry, script, match.isPresent());
    } catch (IOException e) {
      return new Unreadable(new Problem(name, describe(e)));
    } catch (MalformedElfException e) {
      return new Malformed(new Problem(name, "malformed ELF: " + e.getMessage()));
    }
  }

  /** One line for a problem list: the common causes in words, otherwise the JDK's first line. */
  static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  private static boolean executable(Path file) throws IOException {
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
    return mode.stream().anyMatch(EXECUTE::contains);
  }
}
