package dev.veriruntime.pipeline;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Verifies executed files by kernel identity, at most once per identity: cache hits answer at once;
 * a miss joins a verification already in flight or starts one.
 *
 * <p>A new verification opens the file <em>immediately</em>, on the caller's thread, through {@code
 * /proc/PID/exe}: the exact inode that runs, even if the path was replaced, and it stays readable
 * after a short-lived process exits. If the process is already gone, the path is used, but only
 * when its identity still equals the one the kernel reported (the verifier checks), else the result
 * is an unverifiable {@link ExecutableCheck}. Hashing then runs on one of two injected schedulers:
 * files of at least {@code largeFileBytes} on their own lane, so a huge file cannot starve small
 * ones. At most {@code maxOpen} files are held open waiting; beyond that the file is reopened by
 * path later (still identity-checked).
 *
 * <p>A small file on a local filesystem may instead be verified at once on the caller's thread
 * ({@link #checkNow}, within the {@link Inline} budget): the ring reader answers a new binary's
 * exec without waking a lane thread, whose wake-up and wait for a CPU were most of a new binary's
 * latency tail (benchmarks/README.md, "New binaries: verified on the reader"). Thread-safe.
 */
public final class ExecutableVerification {
  private final BinaryVerifier verifier;
  private final IdentityCache<FileIdentity, ExecutableCheck> cache;
  private final Scheduler smallLane;
  private final Scheduler largeLane;
  private final long largeFileBytes;
  private final int maxOpen;
  private final AtomicInteger open = new AtomicInteger();
  private final PipelineMetrics metrics;
  private final DropLedger ledger;
  private final long inlineMaxBytes;
  private final TokenBucket inlineBudget;

  /**
   * What a caller's thread may verify itself: files of at most {@code maxBytes}, for at most {@code
   * perSecond} of its time in any second (a verification that outruns what is left is paid back
   * before the next starts); zero either way turns it off.
   */
  public record Inline(long maxBytes, Duration perSecond) {
    public static final Inline OFF = new Inline(0, Duration.ZERO);

    boolean on() {
      return maxBytes > 0 && perSecond.toNanos() > 0;
    }
  }

  public ExecutableVerification(
      BinaryVerifier verifier,
      int cacheEntries,
      Scheduler smallLane,
      Scheduler largeLane,
      long largeFileBytes,
      int maxOpen,
      Inline inline,
      PipelineMetrics metrics,
      DropLedger ledger) {
    this.verifier = verifier;
    this.cache = new IdentityCache<>(cacheEntries);
    this.smallLane = smallLane;
    this.largeLane = largeLane;
    this.largeFileBytes = largeFileBytes;
    this.maxOpen = maxOpen;
    this.inlineMaxBytes = inline.maxBytes();
    // Tokens are the caller's nanoseconds: perSecond of them a second, at most one second's worth.
    long budgetNanos = Math.min(Integer.MAX_VALUE, inline.perSecond().toNanos());
    this.inlineBudget =
        inline.on() ? new TokenBucket(budgetNanos, (int) budgetNanos, System::nanoTime) : null;
    this.metrics = metrics;
    this.ledger = ledger;
  }

  /**
   * A completed check for this identity, counted as a cache hit; empty when it must be computed.
   */
  public Optional<ExecutableCheck> hit(FileIdentity identity) {
    Optional<ExecutableCheck> c = cache.getIfPresent(identity);
    if (c.isPresent()) {
      metrics.cacheHit();
    }
    return c;
  }

  /**
   * A completed check for this identity, not counted (for reading the state, not for verifying).
   */
  public Optional<ExecutableCheck> cached(FileIdentity identity) {
    return cache.getIfPresent(identity);
  }

  /**
   * The check for the file {@code pid} executed (or mapped) as {@code identity}.
   *
   * @param pid the process, or 0 when the file is known only by path
   * @param procPath computes, on a miss only, the path that reaches the exact inode while the
   *     process lives ({@code /proc/PID/exe} or {@code /proc/PID/map_files/...}); may give null
   */
  public Mono<ExecutableCheck> check(
      String path, FileIdentity identity, Supplier<String> procPath) {
    return cache
        .get(
            identity,
            () -> start(path, identity, procPath),
            source -> metrics.cache(source.name().toLowerCase()))
        .doOnNext(c -> keepOnlyExact(identity, c));
  }

  /**
   * The check for the file {@code file} names, computed now on the caller's thread, as {@link
   * #check} would on a lane; empty, doing nothing, unless the file is at most {@link
   * Inline#maxBytes}, on a local filesystem (a read from a hung network server must never stall the
   * caller), not being verified already, and within the inline budget. A cache hit is for {@link
   * #hit}: this is for a miss.
   */
  public Optional<ExecutableCheck> checkNow(ExecutableFile file, Supplier<String> procPath) {
    FileIdentity identity = file.identity();
    if (inlineBudget == null
        || identity.size() > inlineMaxBytes
        || !file.onLocalFilesystem()
        || !inlineBudget.positive()) {
      return Optional.empty();
    }
    long started = System.nanoTime();
    Optional<ExecutableCheck> c =
        cache.computeNow(
            identity,
            () -> {
              Opened opened = openExact(procPath.get(), identity);
              try {
                return verifyNow(file.path(), identity, opened);
              } finally {
                if (opened != null) {
                  closeQuietly(opened.channel());
                }
              }
            });
    inlineBudget.spend(System.nanoTime() - started);
    c.ifPresent(
        check -> {
          metrics.cache("miss");
          metrics.verifiedOn("reader");
          keepOnlyExact(identity, check);
        });
    return c;
  }

  /** Keeps only answers about the very inode the kernel named; anything else may succeed later. */
  private void keepOnlyExact(FileIdentity identity, ExecutableCheck c) {
    if (!c.verified() || !c.verification().identity().equals(identity)) {
      cache.invalidate(identity);
    }
  }

  /** Forget a verdict, for example when the package database changed. */
  public void invalidate(FileIdentity identity) {
    cache.invalidate(identity);
  }

  /**
   * Forgets the cached checks for which {@code test} holds, for example those of files whose
   * package record changed, and returns them; checks in flight now answer but are not cached.
   */
  public List<ExecutableCheck> invalidateIf(Predicate<ExecutableCheck> test) {
    return cache.invalidateIf(test);
  }

  private Mono<ExecutableCheck> start(
      String path, FileIdentity identity, Supplier<String> procPath) {
    Opened opened = open.get() >= maxOpen ? null : openExact(procPath.get(), identity);
    if (opened != null) {
      open.incrementAndGet();
    }
    Scheduler lane = identity.size() >= largeFileBytes ? largeLane : smallLane;
    return Mono.fromCallable(
            () -> {
              metrics.verifiedOn("lane");
              return verifyNow(path, identity, opened);
            })
        .subscribeOn(lane)
        .onErrorResume(
            RejectedExecutionException.class,
            e -> {
              ledger.increment("stage.verify.rejected");
              return Mono.just(
                  ExecutableCheck.unverifiable(
                      path, identity, "verification queue full: " + e.getMessage()));
            })
        .doFinally(
            s -> {
              if (opened != null) {
                closeQuietly(opened.channel());
                open.decrementAndGet();
              }
            });
  }

  /** A file opened through its /proc path, with the identity it had when opened. */
  private record Opened(FileChannel channel, FileIdentity identity, String procPath) {}

  private ExecutableCheck verifyNow(String path, FileIdentity identity, Opened opened) {
    try {
      BinaryVerification v =
          opened != null
              ? verifier.verifyOpened(opened.channel(), opened.identity(), path, identity)
              : verifier.verify(Path.of(path), identity);
      metrics.verdict(v.verdict().name());
      metrics.hashed(v.identity().size());
      return ExecutableCheck.of(v);
    } catch (IOException | RuntimeException e) {
      String why =
          opened == null
              ? "the running file could not be opened through /proc (process gone, or it executed something else since), and "
                  + path
                  + " no longer holds it: "
                  + e.getMessage()
              : "executable unreadable: " + e.getMessage();
      return ExecutableCheck.unverifiable(path, identity, why);
    }
  }

  /**
   * Opens {@code procPath} if it still reaches the very inode the kernel reported; anything else
   * (process gone, exec'd again, mapping changed) gives null and the caller falls back to the path,
   * identity-checked.
   */
  private static Opened openExact(String procPath, FileIdentity expected) {
    if (procPath == null) {
      return null;
    }
    FileChannel ch = openIfSame(Path.of(procPath), expected);
    return ch == null ? null : new Opened(ch, expected, procPath);
  }

  /**
   * Opens {@code path} for reading if it is the file {@code expected} names, before and after the
   * open (stat, open, stat again); null when it is not, or cannot be read. The agent's verifier
   * warm-up opens its file this way too, so that a cache miss meets compiled code.
   */
  public static FileChannel openIfSame(Path path, FileIdentity expected) {
    FileChannel ch = null;
    try {
      if (!expected.equals(BinaryVerifier.identity(path))) {
        return null;
      }
      ch = FileChannel.open(path, StandardOpenOption.READ);
      if (!expected.equals(BinaryVerifier.identity(path))) {
        closeQuietly(ch);
        return null;
      }
      return ch;
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        closeQuietly(ch);
      }
      return null;
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // read-only channel: nothing to lose
    }
  }
}
