package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.verifier.FileIdentity;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class SelfWatchTest {
  @Test
  void anOwnFileKeepsItsSelfReasonWhenItIsAlsoWatchedAsMappedWhateverItsCtimeAndSize() {
    SelfWatch watch = new SelfWatch(null, List.of(new FileIdentity(7, 8, 0, 0)));
    EnumSet<WatchReason> mapped = EnumSet.of(WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE);

    assertThat(watch.with(new FileIdentity(7, 8, 123, 456), mapped))
        .containsExactlyInAnyOrder(
            WatchReason.VERIFIED, WatchReason.MAPPED_EXECUTABLE, WatchReason.SELF);
    assertThat(watch.with(new FileIdentity(7, 9, 123, 456), mapped)).isEqualTo(mapped);
    assertThat(watch.rewatch()).as("no probe: nothing watched").isFalse();
  }
}
