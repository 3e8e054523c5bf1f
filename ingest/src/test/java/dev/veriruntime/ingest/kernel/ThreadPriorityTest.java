package dev.veriruntime.ingest.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ThreadPriorityTest {

  /** Field 19 (nice) of /proc/thread-self/stat, read on the calling thread. */
  private static int niceOfThisThread() throws Exception {
    return niceOf(Path.of("/proc/thread-self/stat"));
  }

  /** Field 19 (nice) of a thread's stat file. */
  private static int niceOf(Path stat) throws Exception {
    return statField(stat, 19);
  }

  /** Field {@code n} (1-based, as proc(5) numbers them) of a stat file. */
  private static int statField(Path stat, int n) throws Exception {
    String text = Files.readString(stat);
    String[] rest = text.substring(text.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(rest[n - 3]); // rest[0] is field 3
  }

  /** Policy (field 41), real-time priority (40) and nice value (19) of the calling thread. */
  private static int[] scheduling() throws Exception {
    Path self = Path.of("/proc/thread-self/stat");
    return new int[] {statField(self, 41), statField(self, 40), statField(self, 19)};
  }

  private interface Body {
    void run() throws Exception;
  }

  /** Runs {@code body} on a new thread and waits for it; what it throws fails the test. */
  private static void onNewThread(Body body) throws Exception {
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Throwable e) {
                failed.set(e);
              }
            });
    t.start();
    t.join();
    if (failed.get() != null) {
      throw new AssertionError(failed.get());
    }
  }

  @Test
  void makesTheCallingThreadRealtimeAndTheThreadsItStartsOrdinary() throws Exception {
    boolean root = "root".equals(System.getProperty("user.name"));
    AtomicReference<Optional<String>> result = new AtomicReference<>();
    AtomicReference<int[]> after = new AtomicReference<>(); // policy, rt priority, nice
    AtomicReference<int[]> child = new AtomicReference<>();
    onNewThread(
        () -> {
          result.set(ThreadPriority.setRealtime(1));
          after.set(scheduling());
          onNewThread(() -> child.set(scheduling()));
        });
    if (root) {
      assertThat(result.get()).isEmpty();
      assertThat(after.get()).containsExactly(1, 1, 0); // SCHED_FIFO at priority 1
      assertThat(child.get()).containsExactly(0, 0, 0); // SCHED_OTHER: reset on fork
    } else {
      assertThat(result.get()).get().asString().startsWith("sched_setattr");
      assertThat(after.get()[0]).isZero();
    }
    assertThat(scheduling()[0]).isZero(); // this thread is untouched
  }

  @Test
  void setsTheCallingThreadAloneOrSaysWhyNot() throws Exception {
    boolean root = "root".equals(System.getProperty("user.name"));
    AtomicReference<Optional<String>> result = new AtomicReference<>();
    AtomicReference<Integer> niceAfter = new AtomicReference<>();
    onNewThread(
        () -> {
          result.set(ThreadPriority.setNice(-4));
          niceAfter.set(niceOfThisThread());
        });
    if (root) {
      assertThat(result.get()).isEmpty();
      assertThat(niceAfter.get()).isEqualTo(-4);
    } else {
      assertThat(result.get()).get().asString().startsWith("setpriority");
      assertThat(niceAfter.get()).isEqualTo(niceOfThisThread());
    }
    // Only that thread: this one keeps its own.
    assertThat(niceOfThisThread()).isNotEqualTo(-4);
  }

  @Test
  void setsAnotherThreadFoundByItsName() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    Thread t =
        new Thread(
            () -> {
              try {
                done.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "vr-nice-target");
    t.start();
    try {
      List<Integer> tids = List.of();
      // The JVM names the native thread once it runs.
      for (int i = 0; i < 200 && tids.isEmpty(); i++) {
        tids = ThreadPriority.threadsNamed("vr-nice-target");
        Thread.sleep(5);
      }
      assertThat(tids).hasSize(1);
      int tid = tids.get(0);
      // Raising a nice value needs no privilege.
      assertThat(ThreadPriority.setNice(tid, 5)).isEmpty();
      assertThat(niceOf(Path.of("/proc/self/task/" + tid + "/stat"))).isEqualTo(5);
      assertThat(niceOfThisThread()).isNotEqualTo(5);
      assertThat(ThreadPriority.threadsNamed("no such thread")).isEmpty();
    } finally {
      done.countDown();
      t.join();
    }
  }
}
