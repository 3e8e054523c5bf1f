package dev.veriruntime.api;

import dev.veriruntime.api.grpc.v1.Event;
import dev.veriruntime.api.grpc.v1.LiveFromHere;
import dev.veriruntime.api.grpc.v1.ReplayGap;
import dev.veriruntime.api.grpc.v1.StreamEventsReply;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Moves one {@link EventFeed.Subscription} into one {@code StreamEvents} call at the pace of the
 * client: it writes only while the call {@link ServerCallStreamObserver#isReady() is ready} (HTTP/2
 * flow control and netty's write buffer say so) and resumes on {@code onReady} or when the feed
 * signals more. While the client does not read, events wait in the subscription's bounded queue;
 * when that overflows the feed cuts the subscription and the call ends with {@code
 * RESOURCE_EXHAUSTED} and the feed's reason (trailers are sent even while the data frames wait for
 * the client).
 *
 * <p>Threads: {@link #signal} may be called from any thread and never blocks; draining runs on
 * {@code executor}, one drain at a time per call (the work-in-progress counter), so the call's
 * observer is never used concurrently.
 */
final class StreamPump {
  private final ServerCallStreamObserver<StreamEventsReply> call;
  private final Executor executor;
  private final GrpcServer.Counters counters;
  private final AtomicInteger wip = new AtomicInteger();
  private volatile EventFeed.Subscription subscription;
  private final AtomicBoolean done = new AtomicBoolean();

  StreamPump(
      ServerCallStreamObserver<StreamEventsReply> call,
      Executor executor,
      GrpcServer.Counters counters) {
    this.call = call;
    this.executor = executor;
    this.counters = counters;
  }

  /** Must be called from the service method: gRPC takes the handlers only before it returns. */
  void start(EventFeed.Subscription s) {
    subscription = s;
    counters.streamsOpen.incrementAndGet();
    call.setOnCancelHandler(this::finish);
    call.setOnReadyHandler(this::signal);
    signal();
  }

  void signal() {
    if (wip.getAndIncrement() == 0) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    int missed = 1;
    while (true) {
      try {
        pump();
      } catch (RuntimeException e) {
        // A cancelled call throws from onNext: the client went away, nothing to tell it.
        finish();
      }
      missed = wip.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  private void pump() {
    EventFeed.Subscription s = subscription;
    if (done.get() || s == null) {
      return;
    }
    while (true) {
      EventFeed.CutOff cut = s.cutOff();
      if (cut != null) {
        cutOff(cut);
        return;
      }
      if (!call.isReady()) {
        return;
      }
      EventFeed.Item item = s.poll();
      if (item == null) {
        return;
      }
      if (item instanceof EventFeed.CutOff c) {
        cutOff(c);
        return;
      }
      call.onNext(reply(item));
    }
  }

  private static StreamEventsReply reply(EventFeed.Item item) {
    StreamEventsReply.Builder reply = StreamEventsReply.newBuilder();
    if (item instanceof EventFeed.Event e) {
      reply.setEvent(Event.newBuilder().setSeq(e.seq()).setType(e.type()).setJson(e.json()));
    } else if (item instanceof EventFeed.Gap g) {
      reply.setGap(
          ReplayGap.newBuilder()
              .setRequestedSince(g.requestedSince())
              .setFirstAvailable(g.firstAvailable())
              .setReason(g.reason()));
    } else if (item instanceof EventFeed.Live l) {
      reply.setLive(LiveFromHere.newBuilder().setReplayedThrough(l.replayedThrough()));
    }
    return reply.build();
  }

  private void cutOff(EventFeed.CutOff cut) {
    finish();
    counters.streamsCut.incrementAndGet();
    call.onError(
        Status.RESOURCE_EXHAUSTED
            .withDescription(cut.reason() + "; resume with since_seq=" + cut.lastSeq())
            .asRuntimeException());
  }

  private void finish() {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    counters.streamsOpen.decrementAndGet();
    EventFeed.Subscription s = subscription;
    if (s != null) {
      s.close();
    }
  }
}
