package dev.veriruntime.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void workSpentBeyondTheBudgetIsPaidBackBeforeTheNextMayStart() {
    // 50 ms of work a second, as nanoseconds.
    TokenBucket budget = new TokenBucket(50_000_000, 50_000_000, now::get);
    assertThat(budget.positive()).isTrue();

    budget.spend(80_000_000); // one piece of work took 80 ms: 30 ms of debt
    assertThat(budget.positive()).isFalse();

    now.addAndGet(500_000_000); // half a second pays back 25 ms
    assertThat(budget.positive()).isFalse();
    now.addAndGet(200_000_000); // 10 ms more: 5 ms left
    assertThat(budget.positive()).isTrue();

    now.addAndGet(60_000_000_000L); // a minute refills no more than one second's worth
    budget.spend(50_000_000);
    assertThat(budget.positive()).isFalse();
  }
}
