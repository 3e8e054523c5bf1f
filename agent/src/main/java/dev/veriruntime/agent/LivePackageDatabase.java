package dev.veriruntime.agent;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The package database as it is now: the snapshot loaded at start, replaced by a new one after the
 * package manager changed it. Hand it to the verifier as a {@code Supplier<PackageDatabase>}; each
 * verification reads one snapshot.
 *
 * <p>{@link #reloads()} polls a cheap {@link Signature} of the database every {@code poll} on the
 * injected scheduler. Once it differs from the one the current snapshot was loaded under and then
 * stays the same for {@code quiet} (dpkg writes one package after another, many files each), a new
 * snapshot is loaded on that scheduler, swapped in, and what changed is emitted. A snapshot that
 * cannot be loaded leaves the previous one in place and is emitted as a failed {@link Reload}.
 *
 * <pre>{@code
 * LivePackageDatabase packages = LivePackageDatabase.open(PackageDatabase.DEFAULT_INFO_DIR,
 *     Duration.ofSeconds(1), Duration.ofSeconds(2), Schedulers.newSingle("packages", true));
 * BinaryVerifier verifier = new BinaryVerifier(store, packages, clock, options);
 * packages.reloads().subscribe(r -> ... r.changes() ...);
 * }</pre>
 *
 * <p>Thread-safe: {@link #get} from any thread. Subscribe to {@link #reloads()} once; it never
 * completes by itself.
 */
public final class LivePackageDatabase implements Supplier<PackageDatabase> {
  private final Supplier<?> signature;
  private final Loader loader;
  private final Duration poll;
  private final Duration quiet;
  private final Scheduler scheduler;
  private final AtomicReference<PackageDatabase> current = new AtomicReference<>();

  /** The signature the current snapshot was loaded under. */
  private final AtomicReference<Object> loadedUnder = new AtomicReference<>();

  /** Loads one snapshot. */
  @FunctionalInterface
  public interface Loader {
    PackageDatabase load() throws IOException;
  }

  /**
   * What the package manager changes whenever it installs, upgrades or removes a package: the
   * modification time of the info directory (dpkg renames every new {@code PACKAGE.md5sums} and
   * {@code PACKAGE.list} into it) and of the {@code status} file beside it (rewritten at the end of
   * every dpkg run). {@link Long#MIN_VALUE} for a file that does not exist. An {@code md5sums} file
   * edited in place, which dpkg never does, is noticed at the next dpkg run.
   */
  public record Signature(long infoDirModifiedNanos, long statusModifiedNanos) {
    public static Signature of(Path infoDir) {
      return new Signature(
          modified(infoDir), modified(infoDir.toAbsolutePath().resolveSibling("status")));
    }

    private static long modified(Path p) {
      try {
        return Files.getLastModifiedTime(p).to(TimeUnit.NANOSECONDS);
      } catch (NoSuchFileException e) {
        return Long.MIN_VALUE;
      } catch (IOException e) {
        // Unreadable now: a distinct value, so that becoming readable again counts as a change.
        return Long.MIN_VALUE + 1;
      }
    }
  }

  /**
   * One reload: the snapshot now in use and what differs from the previous one, or why no new
   * snapshot could be loaded ({@code failure} non-null; the previous snapshot stays in use).
   */
  public record Reload(PackageDatabase database, PackageDatabase.Changes changes, String failure) {
    public boolean failed() {
      return failure != null;
    }
  }

  /**
   * Reads the signature, then loads the first snapshot.
   *
   * @param signature what changes when the database changes (see {@link Signature})
   * @throws IOException if the first snapshot cannot be loaded
   */
  public LivePackageDatabase(
      Supplier<?> signature, Loader loader, Duration poll, Duration quiet, Scheduler scheduler)
      throws IOException {
    this.signature = Objects.requireNonNull(signature, "signature");
    this.loader = Objects.requireNonNull(loader, "loader");
    this.poll = Objects.requireNonNull(poll, "poll");
    this.quiet = Objects.requireNonNull(quiet, "quiet");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    loadedUnder.set(signature.get());
    current.set(Objects.requireNonNull(loader.load(), "loader gave null"));
  }

  /**
   * The dpkg database under {@code infoDir} ({@code /var/lib/dpkg/info}); a missing directory is
   * empty.
   */
  public static LivePackageDatabase open(
      Path infoDir, Duration poll, Duration quiet, Scheduler scheduler) throws IOException {
    return new LivePackageDatabase(
        () -> Signature.of(infoDir), () -> PackageDatabase.load(infoDir), poll, quiet, scheduler);
  }

  /** The snapshot in use now. */
  @Override
  public PackageDatabase get() {
    return current.get();
  }

  /** Reloads as they happen (see the class comment); never completes by itself. */
  public Flux<Reload> reloads() {
    return Flux.interval(poll, poll, scheduler)
        .onBackpressureDrop()
        .map(tick -> (Object) signature.get())
        .distinctUntilChanged()
        .filter(s -> !s.equals(loadedUnder.get()))
        // Debounce: only a signature that no newer one followed within the quiet period.
        .sampleTimeout(s -> Mono.delay(quiet, scheduler))
        .concatMap(s -> Mono.fromSupplier(this::reload), 1);
  }

  private Reload reload() {
    // Read before loading: a change made while loading shows up as a newer signature next poll.
    loadedUnder.set(signature.get());
    PackageDatabase before = current.get();
    PackageDatabase after;
    try {
      after = Objects.requireNonNull(loader.load(), "loader gave null");
    } catch (IOException | RuntimeException e) {
      return new Reload(
          before,
          PackageDatabase.Changes.NONE,
          "the package database could not be reloaded, the previous snapshot stays in use: "
              + e.getMessage());
    }
    current.set(after);
    return new Reload(after, after.changesFrom(before), null);
  }
}
