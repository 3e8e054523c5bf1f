package dev.veriruntime.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Results by kernel identity, with in-flight de-duplication: while the result for a key is being
 * computed, every further request for that key joins the same computation, so 500 concurrent execs
 * of a new binary cause one hash. Completed results are kept in an LRU of {@code capacity} entries.
 * Errors are not cached: the next request computes again. After {@link #invalidateIf}, computations
 * that were already running still answer their callers but are not cached, since they may have used
 * what the invalidation was about. Thread-safe.
 *
 * @param <K> key, normally {@code FileIdentity} (dev, inode, ctime, size)
 * @param <V> result
 */
public final class IdentityCache<K, V> {
  private final Map<K, V> done;
  private final ConcurrentHashMap<K, Mono<V>> inflight = new ConcurrentHashMap<>();

  /** Bumped by {@link #invalidateIf}; guarded by {@code done}. */
  private long generation;

  /** Where a result came from, for metrics. */
  public enum Source {
    HIT,
    INFLIGHT,
    MISS
  }

  public IdentityCache(int capacity) {
    this.done =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > capacity;
          }
        };
  }

  /** A completed result, without starting anything. */
  public Optional<V> getIfPresent(K key) {
    synchronized (done) {
      return Optional.ofNullable(done.get(key));
    }
  }

  /**
   * The result for {@code key}: cached, joined in flight, or computed by subscribing to {@code
   * compute.get()} (called at most once per miss). {@code onSource} is told which of the three.
   */
  public Mono<V> get(K key, Supplier<Mono<V>> compute, Consumer<Source> onSource) {
    Optional<V> hit = getIfPresent(key);
    if (hit.isPresent()) {
      onSource.accept(Source.HIT);
      return Mono.just(hit.get());
    }
    boolean[] created = {false};
    Mono<V> shared =
        inflight.computeIfAbsent(
            key,
            k -> {
              created[0] = true;
              long startedIn;
              synchronized (done) {
                startedIn = generation;
              }
              return Mono.defer(compute)
                  .doOnNext(v -> keep(k, v, startedIn))
                  .doFinally(signal -> inflight.remove(k))
                  .cache();
            });
    onSource.accept(created[0] ? Source.MISS : Source.INFLIGHT);
    return shared;
  }

  /**
   * Computes the result for {@code key} on the caller's thread and caches it as {@link #get} does;
   * meanwhile {@link #get} for the key joins this computation. Empty, computing nothing, when one
   * for the key is already in flight: the caller joins it through {@link #get}.
   */
  public Optional<V> computeNow(K key, Supplier<V> compute) {
    Sinks.One<V> result = Sinks.one();
    Mono<V> shared = result.asMono();
    if (inflight.putIfAbsent(key, shared) != null) {
      return Optional.empty();
    }
    long startedIn;
    synchronized (done) {
      startedIn = generation;
    }
    try {
      V v = compute.get();
      keep(key, v, startedIn);
      result.tryEmitValue(v);
      return Optional.of(v);
    } catch (RuntimeException e) {
      result.tryEmitError(e);
      throw e;
    } finally {
      inflight.remove(key, shared);
    }
  }

  /** Caches a computed result unless an invalidation happened since its computation started. */
  private void keep(K key, V value, long startedIn) {
    synchronized (done) {
      if (generation == startedIn) {
        done.put(key, value);
      }
    }
  }

  public void invalidate(K key) {
    synchronized (done) {
      done.remove(key);
    }
  }

  /**
   * Forgets every completed result for which {@code test} holds and returns them; results being
   * computed now are not cached when they complete.
   */
  public List<V> invalidateIf(Predicate<? super V> test) {
    List<V> removed = new ArrayList<>();
    synchronized (done) {
      generation++;
      done.values().removeIf(v -> test.test(v) && removed.add(v));
    }
    return removed;
  }

  public int size() {
    synchronized (done) {
      return done.size();
    }
  }
}
