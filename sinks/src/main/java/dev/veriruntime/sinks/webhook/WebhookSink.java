package dev.veriruntime.sinks.webhook;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * POSTs each event as JSON to an HTTP endpoint with reactor-netty's client: the event itself, a
 * Slack incoming-webhook message, or a Falco-shaped alert for falcosidekick ({@link
 * WebhookPayload}). Events are sent one at a time, in order.
 *
 * <p>Retries: 5xx, 429, connection errors and timeouts are retried with exponential backoff and
 * jitter (Reactor's {@link Retry#backoff}) up to {@link WebhookOptions#maxRetries()}; other 4xx are
 * not (retrying a rejected body cannot help). An event whose retries are exhausted counts as
 * failed. While retries wait, new events queue, and once the bounded buffer is full they are
 * dropped and counted: a dead or slow endpoint never blocks the pipeline or grows memory.
 *
 * <p>Owns its connection pool, released on {@link #close()}.
 */
public final class WebhookSink extends BoundedSink {
  private final WebhookOptions options;
  private final HttpClient client;
  private final ConnectionProvider pool;
  private final Scheduler retryScheduler;
  private final AtomicLong retries = new AtomicLong();

  /**
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   * @param retryScheduler where backoff delays run ({@code null}: {@link Schedulers#parallel()});
   *     tests pass a virtual-time scheduler
   */
  public WebhookSink(WebhookOptions options, Scheduler scheduler, Scheduler retryScheduler) {
    super("webhook", options.capacity(), 32, scheduler, options.responseTimeout().multipliedBy(2));
    this.options = Objects.requireNonNull(options, "options");
    this.retryScheduler = retryScheduler == null ? Schedulers.parallel() : retryScheduler;
    this.pool = ConnectionProvider.builder("veriruntime-webhook").maxConnections(2).build();
    this.client =
        HttpClient.create(pool)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeout().toMillis())
            .responseTimeout(options.responseTimeout())
            .headers(
                h -> {
                  h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
                  h.set(HttpHeaderNames.USER_AGENT, "veriruntime");
                  options.headers().forEach(h::set);
                });
  }

  public WebhookSink(WebhookOptions options) {
    this(options, null, null);
  }

  /** Retries made so far (attempts after the first), for metrics. */
  public long retries() {
    return retries.get();
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    String body = options.payload().render(event);
    return withRetries(Mono.defer(() -> post(body)));
  }

  private Mono<Void> post(String body) {
    // A known length, not chunked: some simple receivers read an empty chunked body.
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return client
        .headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, bytes.length))
        .post()
        .uri(options.url())
        .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(bytes)))
        .responseSingle(
            (response, content) -> {
              int code = response.status().code();
              // Drain the body so the connection can go back to the pool.
              return content
                  .then()
                  .then(
                      code >= 200 && code < 300
                          ? Mono.<Void>empty()
                          : Mono.error(new WebhookStatusException(code)));
            });
  }

  /** The retry policy applied to one delivery; package-private for virtual-time tests. */
  Mono<Void> withRetries(Mono<Void> attempt) {
    return attempt.retryWhen(retrySpec());
  }

  RetryBackoffSpec retrySpec() {
    return Retry.backoff(options.maxRetries(), options.firstBackoff())
        .maxBackoff(options.maxBackoff())
        .jitter(options.jitter())
        .scheduler(retryScheduler)
        .filter(WebhookSink::retryable)
        .doBeforeRetry(
            signal -> {
              retries.incrementAndGet();
              // Known while the retries go on, not only once they are given up on.
              noteFailure(signal.failure());
            })
        .onRetryExhaustedThrow(
            (spec, signal) ->
                new IOException(
                    "gave up after "
                        + (signal.totalRetries() + 1)
                        + " attempts: "
                        + signal.failure(),
                    signal.failure()));
  }

  static boolean retryable(Throwable error) {
    if (error instanceof WebhookStatusException s) {
      return s.status() >= 500 || s.status() == 429;
    }
    return error instanceof IOException
        || error instanceof TimeoutException
        || error instanceof io.netty.channel.ConnectTimeoutException
        || error instanceof io.netty.handler.timeout.TimeoutException
        || error instanceof reactor.netty.http.client.PrematureCloseException;
  }

  @Override
  protected void closeResources() {
    try {
      // Not block(): close may run on a Reactor thread, where blocking is refused.
      pool.disposeLater().toFuture().get(2, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      noteFailure(e);
    }
  }

  /** A non-2xx response. */
  public static final class WebhookStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public WebhookStatusException(int status) {
      super("HTTP " + status);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }
}
