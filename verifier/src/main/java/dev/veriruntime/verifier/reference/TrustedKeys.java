package dev.veriruntime.verifier.reference;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The set of public keys whose signatures make a reference "signed", looked up by key id. Immutable
 * and thread-safe.
 */
public final class TrustedKeys {
  private static final TrustedKeys EMPTY = new TrustedKeys(Map.of());

  private final Map<String, TrustedKey> byId;

  private TrustedKeys(Map<String, TrustedKey> byId) {
    this.byId = Collections.unmodifiableMap(byId);
  }

  public static TrustedKeys empty() {
    return EMPTY;
  }

  public static TrustedKeys of(Collection<TrustedKey> keys) {
    Map<String, TrustedKey> map = new LinkedHashMap<>();
    for (TrustedKey k : keys) {
      map.put(k.keyId(), k);
    }
    return new TrustedKeys(map);
  }

  /**
   * Load SPKI PEM public key files (the {@code --trusted-key} option).
   *
   * @throws ReferenceException KEY_INVALID naming the first file that is not a usable key
   */
  public static TrustedKeys load(List<Path> files) throws ReferenceException {
    Map<String, TrustedKey> map = new LinkedHashMap<>();
    for (Path f : files) {
      TrustedKey k = TrustedKey.load(f);
      map.put(k.keyId(), k);
    }
    return new TrustedKeys(map);
  }

  public Optional<TrustedKey> get(String keyId) {
    return Optional.ofNullable(byId.get(keyId));
  }

  public Collection<TrustedKey> all() {
    return byId.values();
  }

  public boolean isEmpty() {
    return byId.isEmpty();
  }

  public int size() {
    return byId.size();
  }
}
