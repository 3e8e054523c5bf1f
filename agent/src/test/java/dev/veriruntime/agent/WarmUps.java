package dev.veriruntime.agent;

/** Test helpers shared by the warm-up tests. */
final class WarmUps {
  private WarmUps() {}

  /** Waits until {@code w} (started) finished a step, closes it and waits for its thread to end. */
  static void closeAfterFirstStep(WarmUp w) throws InterruptedException {
    while (w.done() == 0) {
      Thread.onSpinWait();
    }
    w.close();
    w.join();
  }
}
