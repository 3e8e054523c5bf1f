package dev.veriruntime.sinks.webhook;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of a {@link WebhookSink}.
 *
 * @param url where to POST (http or https)
 * @param payload body shape
 * @param headers extra request headers (e.g. an Authorization token)
 * @param connectTimeout bound on establishing a connection
 * @param responseTimeout bound on waiting for the response of one attempt
 * @param maxRetries retries after the first attempt for retryable failures (5xx, 429, I/O,
 *     timeouts)
 * @param firstBackoff delay before the first retry; doubles each retry (exponential backoff)
 * @param maxBackoff cap on one delay
 * @param jitter random spread of each delay, 0..1 (Reactor's {@code RetryBackoffSpec.jitter})
 * @param capacity bound on pending events
 */
public record WebhookOptions(
    URI url,
    WebhookPayload payload,
    Map<String, String> headers,
    Duration connectTimeout,
    Duration responseTimeout,
    int maxRetries,
    Duration firstBackoff,
    Duration maxBackoff,
    double jitter,
    int capacity) {

  public WebhookOptions {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(payload, "payload");
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(responseTimeout, "responseTimeout");
    Objects.requireNonNull(firstBackoff, "firstBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("webhook url must be http or https: " + url);
    }
    if (maxRetries < 0 || jitter < 0 || jitter > 1 || capacity < 1) {
      throw new IllegalArgumentException("maxRetries >= 0, 0 <= jitter <= 1, capacity >= 1");
    }
  }

  /**
   * Defaults: 2 s connect, 5 s response, 5 retries from 500 ms doubling up to 30 s with 50 %
   * jitter, 1024 pending events.
   */
  public static WebhookOptions defaults(URI url, WebhookPayload payload) {
    return new WebhookOptions(
        url,
        payload,
        Map.of(),
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        5,
        Duration.ofMillis(500),
        Duration.ofSeconds(30),
        0.5,
        1024);
  }

  public WebhookOptions withRetries(int retries, Duration first, Duration max, double newJitter) {
    return new WebhookOptions(
        url,
        payload,
        headers,
        connectTimeout,
        responseTimeout,
        retries,
        first,
        max,
        newJitter,
        capacity);
  }

  public WebhookOptions withTimeouts(Duration connect, Duration response) {
    return new WebhookOptions(
        url,
        payload,
        headers,
        connect,
        response,
        maxRetries,
        firstBackoff,
        maxBackoff,
        jitter,
        capacity);
  }

  public WebhookOptions withCapacity(int newCapacity) {
    return new WebhookOptions(
        url,
        payload,
        headers,
        connectTimeout,
        responseTimeout,
        maxRetries,
        firstBackoff,
        maxBackoff,
        jitter,
        newCapacity);
  }

  public WebhookOptions withHeaders(Map<String, String> newHeaders) {
    return new WebhookOptions(
        url,
        payload,
        newHeaders,
        connectTimeout,
        responseTimeout,
        maxRetries,
        firstBackoff,
        maxBackoff,
        jitter,
        capacity);
  }
}
