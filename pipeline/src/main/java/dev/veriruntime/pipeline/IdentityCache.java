package dev.veriruntime.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Results by kernel identity, with in-flight de-duplication: while the result for a key is being
 * computed, every further request for that key joins the same computation, so 500 concurrent
 * execs of a new binary cause one hash. Completed results are kept in an LRU of {@code capacity}
 * entries. Errors are not cached: the next request computes again. Thread-safe.
 *
 * @param <K> key, normally {@code FileIdentity} (dev, inode, ctime, size)
 * @param <V> result
 */
public final class IdentityCache<K, V> {
  private final Map<K, V> done;
  private final ConcurrentHashMap<K, Mono<V>> inflight = new ConcurrentHashMap<>();

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
              return Mono.defer(compute)
                  .doOnNext(
                      v -> {
                        synchronized (done) {
                          done.put(k, v);
                        }
                      })
                  .doFinally(signal -> inflight.remove(k))
                  .cache();
            });
    onSource.accept(created[0] ? Source.MISS : Source.INFLIGHT);
    return shared;
  }

  public void invalidate(K key) {
    synchronized (done) {
      done.remove(key);
    }
  }

  public int size() {
    synchronized (done) {
      return done.size();
    }
  }
}
