package dev.veriruntime.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntUnaryOperator;

/**
 * The benign JVM of the detection scenarios, run as its own {@code java} process: prints "ready
 * PID", then keeps the JIT compilers busy (many small lambdas and string work, compiled and
 * recompiled as their profiles change) until killed, or for at most a minute.
 */
final class JitWorkload {
  private JitWorkload() {}

  public static void main(String[] args) {
    System.out.println("ready " + ProcessHandle.current().pid());
    System.out.flush();
    long end = System.nanoTime() + 60_000_000_000L;
    List<IntUnaryOperator> steps = new ArrayList<>();
    long sink = 0;
    for (int round = 0; System.nanoTime() < end; round++) {
      int k = round % 64;
      steps.add(x -> x * 31 + k);
      if (steps.size() > 256) {
        steps.subList(0, 128).clear(); // new shapes keep the profiles, and so the compilers, moving
      }
      for (IntUnaryOperator s : steps) {
        sink += s.applyAsInt(Integer.toString(round).hashCode());
      }
    }
    System.out.println(sink);
  }
}
