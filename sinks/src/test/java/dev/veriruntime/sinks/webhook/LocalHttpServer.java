package dev.veriruntime.sinks.webhook;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real HTTP server on 127.0.0.1 (ephemeral port) for webhook tests: records every request body,
 * answers with scripted status codes (then {@code defaultStatus}), and can hold every response
 * until released — a slow endpoint, without sleeping.
 */
final class LocalHttpServer implements AutoCloseable {
  record Request(
      String body,
      String contentType,
      String authorization,
      String contentLength,
      String transferEncoding,
      int answered) {}

  private final ConcurrentLinkedQueue<Integer> script = new ConcurrentLinkedQueue<>();
  private final List<Request> requests = new ArrayList<>();
  private final AtomicInteger arrived = new AtomicInteger();
  volatile int defaultStatus = 200;
  private volatile Sinks.Empty<Void> hold;
  private final DisposableServer server;

  LocalHttpServer() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) ->
                    req.receive()
                        .aggregate()
                        .asString(StandardCharsets.UTF_8)
                        .defaultIfEmpty("")
                        .flatMap(
                            body -> {
                              arrived.incrementAndGet();
                              Sinks.Empty<Void> gate = hold;
                              Mono<Void> wait = gate == null ? Mono.empty() : gate.asMono();
                              return wait.then(
                                  Mono.fromSupplier(
                                      () -> {
                                        Integer scripted = script.poll();
                                        int status = scripted == null ? defaultStatus : scripted;
                                        synchronized (requests) {
                                          requests.add(
                                              new Request(
                                                  body,
                                                  req.requestHeaders().get("Content-Type"),
                                                  req.requestHeaders().get("Authorization"),
                                                  req.requestHeaders().get("Content-Length"),
                                                  req.requestHeaders().get("Transfer-Encoding"),
                                                  status));
                                        }
                                        return status;
                                      }));
                            })
                        .flatMap(status -> res.status(status).sendString(Mono.just("ok")).then()))
            .bindNow();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.port() + "/hook");
  }

  void script(Integer... statuses) {
    script.addAll(List.of(statuses));
  }

  void holdResponses() {
    hold = Sinks.empty();
  }

  void releaseResponses() {
    Sinks.Empty<Void> gate = hold;
    hold = null;
    if (gate != null) {
      gate.tryEmitEmpty();
    }
  }

  /** Requests answered so far, in answer order. */
  List<Request> requests() {
    synchronized (requests) {
      return new ArrayList<>(requests);
    }
  }

  /** Requests whose body has arrived (answered or held). */
  int arrived() {
    return arrived.get();
  }

  @Override
  public void close() {
    releaseResponses();
    server.disposeNow();
  }
}
