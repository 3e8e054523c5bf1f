package dev.veriruntime.verifier.reference;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * All trusted references, indexed for O(1) lookup by whole-file SHA-256 and by path (subject name).
 *
 * <p>An <b>immutable snapshot</b>: safe to share between any number of threads without locking. To
 * change the set of references, build a new store and swap it in (for example through an {@code
 * AtomicReference}); lookups in flight keep the snapshot they started with.
 *
 * <p>When several references share a digest or path, lookups list the signed ones first, then the
 * others in the order they were added, so {@link #bySha256} returns the strongest evidence.
 *
 * <pre>{@code
 * ReferenceStore store = new ReferenceLoader(trustedKeys, SignaturePolicy.ALLOW_UNSIGNED)
 *     .loadAll(List.of(Path.of("/etc/veriruntime/refs/base.dsse.json")));
 * Optional<Reference> ref = store.bySha256(hexDigest);
 * }</pre>
 */
public final class ReferenceStore {
  private static final Comparator<Reference> SIGNED_FIRST = Comparator.comparing(r -> !r.signed());
  private static final ReferenceStore EMPTY =
      new ReferenceStore(List.of(), Map.of(), Map.of(), List.of());

  private final List<Reference> references;
  private final Map<String, List<Reference>> bySha256;
  private final Map<String, List<Reference>> byPath;
  private final List<ReferenceSource> sources;

  private ReferenceStore(
      List<Reference> references,
      Map<String, List<Reference>> bySha256,
      Map<String, List<Reference>> byPath,
      List<ReferenceSource> sources) {
    this.references = references;
    this.bySha256 = bySha256;
    this.byPath = byPath;
    this.sources = sources;
  }

  public static ReferenceStore empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The preferred reference for this whole-file digest (signed first), if any. */
  public Optional<Reference> bySha256(String sha256Hex) {
    List<Reference> refs = bySha256.get(sha256Hex.toLowerCase(Locale.ROOT));
    return refs == null ? Optional.empty() : Optional.of(refs.get(0));
  }

  /** Every reference for this digest, signed ones first; empty if none. */
  public List<Reference> allBySha256(String sha256Hex) {
    return bySha256.getOrDefault(sha256Hex.toLowerCase(Locale.ROOT), List.of());
  }

  /**
   * References whose subject name is this path, signed ones first; empty if none. Absolute paths
   * are compared after {@link Path#normalize()} (so {@code /usr/bin/../bin/ls} finds {@code
   * /usr/bin/ls}); symbolic links are not resolved here: callers pass the path the kernel executed.
   */
  public List<Reference> byPath(String path) {
    return byPath.getOrDefault(pathKey(path), List.of());
  }

  /** Every reference, in the order added. */
  public List<Reference> references() {
    return references;
  }

  /** Number of references (subjects with a SHA-256 digest) held. */
  public int size() {
    return references.size();
  }

  public boolean isEmpty() {
    return references.isEmpty();
  }

  /** The statements the references came from, in the order they were added. */
  public List<ReferenceSource> sources() {
    return sources;
  }

  static String pathKey(String name) {
    if (name.startsWith("/")) {
      try {
        return Path.of(name).normalize().toString();
      } catch (InvalidPathException e) {
        return name;
      }
    }
    return name;
  }

  /** Collects references, then freezes them into a store. Not thread-safe; use from one thread. */
  public static final class Builder {
    private final List<Reference> references = new ArrayList<>();
    private final Map<String, List<Reference>> bySha256 = new HashMap<>();
    private final Map<String, List<Reference>> byPath = new HashMap<>();
    private final Set<ReferenceSource> sources = new LinkedHashSet<>();

    private Builder() {}

    public Builder add(Reference reference) {
      references.add(reference);
      bySha256.computeIfAbsent(reference.sha256(), k -> new ArrayList<>(1)).add(reference);
      if (!reference.name().isEmpty()) {
        byPath.computeIfAbsent(pathKey(reference.name()), k -> new ArrayList<>(1)).add(reference);
      }
      sources.add(reference.source());
      return this;
    }

    public Builder addAll(Collection<Reference> references) {
      references.forEach(this::add);
      return this;
    }

    /** Adds every reference of {@code store}, in its order. */
    public Builder addAll(ReferenceStore store) {
      return addAll(store.references);
    }

    public ReferenceStore build() {
      return new ReferenceStore(
          List.copyOf(references), freeze(bySha256), freeze(byPath), List.copyOf(sources));
    }

    private static Map<String, List<Reference>> freeze(Map<String, List<Reference>> map) {
      Map<String, List<Reference>> out = new HashMap<>(Math.max(16, map.size() * 4 / 3 + 1));
      map.forEach(
          (k, v) -> {
            List<Reference> sorted = new ArrayList<>(v);
            sorted.sort(SIGNED_FIRST); // stable: keeps insertion order among equals
            out.put(k, List.copyOf(sorted));
          });
      // A read-only view rather than Map.copyOf: no second copy of a large index.
      return Collections.unmodifiableMap(out);
    }
  }
}
