package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class IdentityCacheTest {

  @Test
  void fiveHundredConcurrentRequestsForANewKeyComputeOnce() {
    IdentityCache<String, String> cache = new IdentityCache<>(100);
    AtomicInteger computations = new AtomicInteger();
    Sinks.One<String> gate = Sinks.one();
    List<IdentityCache.Source> sources = new ArrayList<>();

    List<Mono<String>> requests = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      requests.add(
          cache.get(
              "dev:ino",
              () -> {
                computations.incrementAndGet();
                return gate.asMono();
              },
              sources::add));
    }
    StepVerifier.create(Flux.merge(requests))
        .then(() -> gate.tryEmitValue("sha"))
        .expectNextCount(500)
        .verifyComplete();

    assertThat(computations).hasValue(1);
    assertThat(sources).containsOnlyOnce(IdentityCache.Source.MISS);
    assertThat(sources.stream().filter(s -> s == IdentityCache.Source.INFLIGHT)).hasSize(499);
    assertThat(cache.getIfPresent("dev:ino")).contains("sha");
  }

  @Test
  void errorsAreNotCachedAndLruIsBounded() {
    IdentityCache<String, String> cache = new IdentityCache<>(2);
    StepVerifier.create(
            cache.get("a", () -> Mono.error(new IllegalStateException("gone")), s -> {}))
        .verifyError(IllegalStateException.class);
    assertThat(cache.getIfPresent("a")).isEmpty();

    for (String k : List.of("a", "b", "c")) {
      StepVerifier.create(cache.get(k, () -> Mono.just(k.toUpperCase()), s -> {}))
          .expectNext(k.toUpperCase())
          .verifyComplete();
    }
    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.getIfPresent("a")).isEmpty();
    assertThat(cache.getIfPresent("c")).contains("C");
  }

  @Test
  void invalidateIfDropsMatchingResultsAndDoesNotCacheWhatWasInFlight() {
    IdentityCache<String, String> cache = new IdentityCache<>(10);
    for (String k : List.of("a", "b")) {
      cache.get(k, () -> Mono.just("/usr/bin/" + k), s -> {}).block();
    }
    Sinks.One<String> slow = Sinks.one();
    Mono<String> inflight = cache.get("c", slow::asMono, s -> {});

    StepVerifier.create(inflight)
        .then(
            () ->
                assertThat(cache.invalidateIf(v -> v.endsWith("/a"))).containsExactly("/usr/bin/a"))
        .then(() -> slow.tryEmitValue("/usr/bin/c"))
        .expectNext("/usr/bin/c")
        .verifyComplete();

    assertThat(cache.getIfPresent("a")).isEmpty();
    assertThat(cache.getIfPresent("b")).contains("/usr/bin/b");
    assertThat(cache.getIfPresent("c"))
        .as("computed before the invalidation finished after it")
        .isEmpty();
    cache.get("c", () -> Mono.just("/usr/bin/c"), s -> {}).block();
    assertThat(cache.getIfPresent("c")).contains("/usr/bin/c");
  }

  @Test
  void aComputationOnTheCallersThreadIsJoinedWhileItRunsAndCachedAfter() {
    IdentityCache<String, String> cache = new IdentityCache<>(10);
    List<IdentityCache.Source> sources = new ArrayList<>();
    List<Mono<String>> joined = new ArrayList<>();

    assertThat(
            cache.computeNow(
                "k",
                () -> {
                  joined.add(cache.get("k", () -> Mono.just("second hash"), sources::add));
                  assertThat(cache.computeNow("k", () -> "third hash")).isEmpty();
                  return "hash";
                }))
        .contains("hash");

    assertThat(sources).containsExactly(IdentityCache.Source.INFLIGHT);
    StepVerifier.create(joined.get(0)).expectNext("hash").verifyComplete();
    assertThat(cache.getIfPresent("k")).contains("hash");
  }

  @Test
  void aComputationOnTheCallersThreadIsNotCachedAfterAnInvalidationDuringIt() {
    IdentityCache<String, String> cache = new IdentityCache<>(10);

    assertThat(
            cache.computeNow(
                "k",
                () -> {
                  cache.invalidateIf(v -> true);
                  return "read before the package database changed";
                }))
        .isPresent();

    assertThat(cache.getIfPresent("k")).isEmpty();
    assertThat(cache.computeNow("k", () -> "again")).contains("again");
    assertThat(cache.getIfPresent("k")).contains("again");
  }

  @Test
  void aFailedComputationOnTheCallersThreadFailsItsJoinersAndIsNotCached() {
    IdentityCache<String, String> cache = new IdentityCache<>(10);
    List<Mono<String>> joined = new ArrayList<>();

    assertThatThrownBy(
            () ->
                cache.computeNow(
                    "k",
                    () -> {
                      joined.add(cache.get("k", () -> Mono.just("unused"), s -> {}));
                      throw new IllegalStateException("unreadable");
                    }))
        .hasMessage("unreadable");

    StepVerifier.create(joined.get(0)).verifyError(IllegalStateException.class);
    assertThat(cache.getIfPresent("k")).isEmpty();
  }
}
