package dev.veriruntime.verifier;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What was checked for one binary or process: one {@link ScopeResult} per intended scope, in scope
 * order. Immutable and thread-safe.
 */
public final class Coverage {
  private final Map<Scope, ScopeResult> results;

  private Coverage(Map<Scope, ScopeResult> results) {
    this.results = Collections.unmodifiableMap(results);
  }

  public static Coverage of(List<ScopeResult> results) {
    EnumMap<Scope, ScopeResult> map = new EnumMap<>(Scope.class);
    for (ScopeResult r : results) {
      if (map.put(r.scope(), r) != null) {
        throw new IllegalArgumentException("scope " + r.scope() + " given twice");
      }
    }
    return new Coverage(map);
  }

  public static Coverage of(ScopeResult... results) {
    return of(List.of(results));
  }

  /** Results keyed by scope, iterated in {@link Scope} declaration order. */
  public Map<Scope, ScopeResult> results() {
    return results;
  }

  public Optional<ScopeResult> get(Scope scope) {
    return Optional.ofNullable(results.get(scope));
  }

  public boolean anyFailed() {
    return results.values().stream().anyMatch(r -> r.status() == ScopeStatus.FAILED);
  }

  public boolean anyNotVerified() {
    return results.values().stream().anyMatch(r -> r.status() == ScopeStatus.NOT_VERIFIED);
  }

  /** A copy with {@code result} added or replacing the entry for its scope. */
  public Coverage with(ScopeResult result) {
    EnumMap<Scope, ScopeResult> map = new EnumMap<>(Scope.class);
    map.putAll(results);
    map.put(result.scope(), result);
    return new Coverage(map);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Coverage c && c.results.equals(results);
  }

  @Override
  public int hashCode() {
    return results.hashCode();
  }

  @Override
  public String toString() {
    return results.values().toString();
  }
}
