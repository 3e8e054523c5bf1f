package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.FollowReason;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which processes the agent asks the kernel to follow for their incidents, without a kernel. */
class FollowedProcessesTest {
  private final List<String> calls = new ArrayList<>();
  private final Set<Integer> open = new HashSet<>();
  private final AtomicInteger treeReads = new AtomicInteger();
  // 10 → 11 → 12 → 14 → 15, 10 → 13; 20 alone; 30 is its own parent in a broken read (a cycle)
  private final Map<Integer, List<Integer>> tree =
      Map.of(
          10, List.of(11, 13), 11, List.of(12), 12, List.of(14), 14, List.of(15), 30, List.of(30));
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private FollowedProcesses followed(boolean fail) {
    FollowedProcesses.Follower follower =
        new FollowedProcesses.Follower() {
          @Override
          public boolean follow(int pid, Set<FollowReason> reasons, int generation) {
            if (fail) {
              throw new IllegalStateException("map full");
            }
            calls.add("follow " + pid + " " + reasons + " " + generation);
            return true;
          }

          @Override
          public boolean unfollow(int pid, Set<FollowReason> reasons) {
            calls.add("unfollow " + pid + " " + reasons);
            return true;
          }
        };
    return new FollowedProcesses(
        follower,
        () -> Set.copyOf(open),
        () -> {
          treeReads.incrementAndGet();
          return tree;
        },
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void anIncidentsProcessIsFollowedWithThreeGenerationsOfDescendantsOnceAndForgottenWhenItCloses() {
    FollowedProcesses f = followed(false);
    f.refresh();
    assertThat(calls).isEmpty();
    assertThat(treeReads).as("no /proc walk without a new incident").hasValue(0);

    open.add(10);
    f.refresh();
    f.refresh();
    EnumSet<FollowReason> inherited = EnumSet.of(FollowReason.INCIDENT, FollowReason.INHERITED);
    assertThat(calls)
        .containsExactly(
            "follow 10 [INCIDENT] 0",
            "follow 11 " + inherited + " 1",
            "follow 13 " + inherited + " 1",
            "follow 12 " + inherited + " 2",
            "follow 14 " + inherited + " 3");
    assertThat(f.following()).containsExactly(10);
    assertThat(treeReads).hasValue(1);

    calls.clear();
    open.remove(10);
    open.add(30);
    f.refresh();
    assertThat(calls).containsExactly("follow 30 [INCIDENT] 0", "unfollow 10 [INCIDENT]");
    assertThat(f.following()).containsExactly(30);
  }

  @Test
  void aProbeThatRefusesIsSaidOnceAndTheAgentGoesOn() {
    FollowedProcesses f = followed(true);
    open.add(20);
    f.refresh();
    f.refresh();
    assertThat(err.toString(StandardCharsets.UTF_8).lines())
        .singleElement()
        .satisfies(l -> assertThat(l).contains("cannot follow").contains("map full"));
    assertThat(f.following()).isEmpty();
  }
}
