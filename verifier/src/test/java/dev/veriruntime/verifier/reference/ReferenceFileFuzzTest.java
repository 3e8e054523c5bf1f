package dev.veriruntime.verifier.reference;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Jazzer target for reference files: DSSE envelopes, their in-toto statement payloads, JSON Lines
 * of either, and the VeriRuntime manifest predicate, read by {@link ReferenceLoader} under both
 * signature policies. A reference file comes from a CI system, a download or a build server, so any
 * bytes must give statements or the declared {@link ReferenceException}; a statement accepted under
 * {@link SignaturePolicy#REQUIRE_TRUSTED} must name the trusted key that signed it. Bounded per
 * input by {@link InputBudget}.
 *
 * <p>The trusted keys are the Ed25519 and ECDSA P-256 test keys in {@code fuzz-keys/}; the seeds in
 * {@code ReferenceFileFuzzTestInputs/} are envelopes and statements signed with them (so mutations
 * reach the signature check and the payload parser), and every crash found.
 */
class ReferenceFileFuzzTest {
  private static final TrustedKeys KEYS = keys();
  private static final Set<String> KEY_IDS =
      Set.copyOf(KEYS.all().stream().map(TrustedKey::keyId).toList());
  private static final ReferenceLoader REQUIRE =
      new ReferenceLoader(KEYS, SignaturePolicy.REQUIRE_TRUSTED);
  private static final ReferenceLoader ALLOW =
      new ReferenceLoader(KEYS, SignaturePolicy.ALLOW_UNSIGNED);
  private static final Path NAME = Path.of("fuzzed.intoto.jsonl");

  @FuzzTest(maxDuration = "5m")
  void loadReferenceFile(byte[] input) {
    InputBudget.of(input.length)
        .run(
            () -> {
              check(REQUIRE, input, true);
              check(ALLOW, input, false);
            });
  }

  private static void check(ReferenceLoader loader, byte[] input, boolean signedOnly) {
    List<LoadedStatement> loaded;
    try {
      loaded = loader.load(input, NAME);
    } catch (ReferenceException declared) {
      assertThat(declared.getMessage()).isNotBlank();
      return;
    }
    assertThat(loaded).isNotEmpty();
    for (LoadedStatement s : loaded) {
      if (signedOnly) {
        assertThat(s.source().signedBy()).isPresent();
        assertThat(KEY_IDS).contains(s.source().signedBy().orElseThrow());
      }
      for (Reference r : s.references()) {
        assertThat(r.sha256()).matches("[0-9a-f]{64}");
        r.toString();
      }
      s.source().statement().toJsonBytes();
    }
  }

  private static TrustedKeys keys() {
    try {
      Path dir = Path.of(ReferenceFileFuzzTest.class.getResource("fuzz-keys").toURI());
      return TrustedKeys.of(
          List.of(
              TrustedKey.load(dir.resolve("ed25519.pub")),
              TrustedKey.load(dir.resolve("ecdsa-p256.pub"))));
    } catch (ReferenceException | URISyntaxException e) {
      throw new IllegalStateException("the committed fuzz keys load", e);
    }
  }
}
