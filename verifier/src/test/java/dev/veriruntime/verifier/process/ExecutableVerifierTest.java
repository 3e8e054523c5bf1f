package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutableVerifierTest {
  @TempDir Path dir;

  @Test
  void cachingRemembersByIdentityUntilCleared() throws Exception {
    Path bin = Files.copy(Path.of("/usr/bin/true"), dir.resolve("tool"));
    ExecutableVerifier real =
        ExecutableVerifier.of(
            new BinaryVerifier(
                ReferenceStore.empty(), Clock.systemUTC(), BinaryVerifier.Options.defaults()));
    AtomicInteger calls = new AtomicInteger();
    ExecutableVerifier.Caching cache =
        ExecutableVerifier.caching(
            (ch, stat, display) -> {
              calls.incrementAndGet();
              return real.verify(ch, stat, display);
            },
            16);

    try (FileChannel ch = FileChannel.open(bin)) {
      cache.verify(ch, bin, bin.toString());
      cache.verify(ch, bin, bin.toString());
      assertThat(calls).hasValue(1);

      cache.clear();
      cache.verify(ch, bin, bin.toString());
      assertThat(calls).hasValue(2);
    }
  }
}
