package dev.veriruntime.verifier.reference;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReferenceStoreTest {
  private static final String A = "a".repeat(64);
  private static final String B = "b".repeat(64);

  private static ReferenceSource source(String file, String signer) {
    InTotoStatement st =
        InTotoStatement.of(
            List.of(new InTotoStatement.Subject("x", Map.of("sha256", A))), "t", null);
    return new ReferenceSource(Path.of(file), st, A, signer, signer != null);
  }

  @Test
  void looksUpByDigestAndNormalisedPathWithSignedReferencesFirst() {
    ReferenceSource plain = source("plain.json", null);
    Reference unsigned = new Reference("/usr/bin/tool", A, Map.of(), Map.of(), plain);
    Reference signed =
        new Reference(
            "/usr/bin/tool", A, Map.of(), Map.of(), source("signed.json", "k".repeat(64)));
    Reference other = new Reference("/usr/lib/lib.so", B, Map.of(), Map.of(), plain);
    Reference nameless = new Reference("", B, Map.of(), Map.of(), source("slsa.json", null));

    ReferenceStore store =
        ReferenceStore.builder().add(unsigned).add(signed).add(other).add(nameless).build();

    assertThat(store.size()).isEqualTo(4);
    assertThat(store.bySha256(A)).contains(signed);
    assertThat(store.bySha256(A.toUpperCase())).contains(signed);
    assertThat(store.allBySha256(A)).containsExactly(signed, unsigned);
    assertThat(store.allBySha256(B)).containsExactly(other, nameless);
    assertThat(store.byPath("/usr/bin/../bin/./tool")).containsExactly(signed, unsigned);
    assertThat(store.byPath("/usr/bin/missing")).isEmpty();
    assertThat(store.bySha256("c".repeat(64))).isEmpty();
    assertThat(store.sources())
        .extracting(s -> s.file().toString())
        .containsExactly("plain.json", "signed.json", "slsa.json");
    assertThat(store.references()).containsExactly(unsigned, signed, other, nameless);
    assertThat(ReferenceStore.builder().addAll(store).build().references())
        .containsExactly(unsigned, signed, other, nameless);
    assertThat(ReferenceStore.empty().isEmpty()).isTrue();
  }
}
