package dev.veriruntime.cli;

import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stream an in-process agent's JSON console writes to, read back as events: each complete line
 * is parsed into a {@link SecurityEvent}, stamped with its arrival time ({@link System#nanoTime()})
 * and queued. Lines that are not events are counted and dropped. The queue is unbounded; the demo
 * drains it while it runs. Writes are serialised; {@link #next} may be called from another thread.
 */
final class AlertFeed extends OutputStream {

  /** An event and the {@link System#nanoTime()} at which its line was complete. */
  record Arrival(SecurityEvent event, long nanos) {}

  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private final BlockingQueue<Arrival> arrivals = new LinkedBlockingQueue<>();
  private final AtomicLong unreadable = new AtomicLong();

  @Override
  public synchronized void write(int b) {
    if (b != '\n') {
      line.write(b);
      return;
    }
    String text = line.toString(StandardCharsets.UTF_8);
    line.reset();
    if (text.isBlank()) {
      return;
    }
    try {
      arrivals.add(new Arrival(EventJson.fromJson(text), System.nanoTime()));
    } catch (RuntimeException notAnEvent) {
      unreadable.incrementAndGet();
    }
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    for (int i = off; i < off + len; i++) {
      write(b[i]);
    }
  }

  /** The next event, waiting at most {@code wait}; null if none arrived in time. */
  Arrival next(Duration wait) throws InterruptedException {
    return arrivals.poll(Math.max(0, wait.toNanos()), TimeUnit.NANOSECONDS);
  }

  /** Lines that were not events (none expected from a JSON console). */
  long unreadable() {
    return unreadable.get();
  }
}
