package dev.veriruntime.sinks.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SinkStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.StringSerializer;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Sends every event to a Kafka topic for the fleet: key = the event's host (so one host's events
 * stay in one partition, in order), value = the event's JSON exactly as the console writes it
 * ({@link EventJson}), headers {@value #TYPE_HEADER} (the event type, for routing without parsing)
 * and {@value #SCHEMA_HEADER} = {@value #SCHEMA}. Every {@link KafkaOptions#heartbeatInterval()} a
 * {@link KafkaHeartbeat} goes to the heartbeat topic, so consumers can tell a quiet host from a
 * silent one.
 *
 * <h2>Delivery</h2>
 *
 * An idempotent producer with {@code acks=all}: an event counts as delivered only when every
 * in-sync replica has it, and the producer's retries after a lost connection never write it twice.
 * A broker outage shorter than {@link KafkaOptions#deliveryTimeout()} loses nothing that was
 * accepted; an event still unacknowledged after it counts as failed (it may in rare cases have been
 * written: the producer could not learn it; never the other way round).
 *
 * <h2>Backpressure</h2>
 *
 * The producer's {@code send} can block (metadata, buffer memory), so it is only ever called on the
 * sink's own drain thread ({@link BoundedSink}); {@code emit} never waits. Events accepted wait in
 * the bounded buffer (plus one batch handed to the producer) while the broker is away; when the
 * buffer is full {@code emit} refuses and counts, and the pipeline reports the count as
 * VERIFICATION_DEGRADED. Until the producer has the topic's metadata (the broker is unreachable at
 * start, or the topic does not exist) deliveries wait instead of blocking: {@link
 * SinkStats#lastFailure()} says why.
 *
 * <p>Owns its producer and a heartbeat thread, both released on {@link #close()} (which sends a
 * last heartbeat marked {@code stopping}).
 */
public final class KafkaSink extends BoundedSink {
  /** Record header with the event type ({@code UNKNOWN_EXECUTION}...). */
  public static final String TYPE_HEADER = "veriruntime-type";

  /** Record header naming the value's schema. */
  public static final String SCHEMA_HEADER = "veriruntime-schema";

  /** The value's schema: the event JSON documented in docs/operations.md. */
  public static final String SCHEMA = "veriruntime.event.v1";

  /** The producer's linger: a short wait that lets a burst travel as one request. */
  static final Duration LINGER = Duration.ofMillis(5);

  private static final int BATCH = 256;

  private final KafkaOptions options;
  private final String host;
  private final Clock clock;
  private final Producer<String, String> producer;
  private final Scheduler background;
  private final Sinks.One<Void> ready = Sinks.one();
  private final AtomicBoolean connected = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Disposable readiness;
  private final Disposable heartbeats;

  /**
   * Starts the producer (it connects in the background: nothing here waits for the broker).
   *
   * @param host this host's name, the key of its heartbeats (events carry their own)
   * @param clock for heartbeat times
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   * @throws IOException if a TLS or password file cannot be read
   * @throws IllegalArgumentException if Kafka refuses the configuration
   */
  public static KafkaSink open(KafkaOptions options, String host, Clock clock, Scheduler scheduler)
      throws IOException {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(clock, "clock");
    Producer<String, String> producer;
    try {
      producer =
          new KafkaProducer<>(
              producerConfig(options, host), new StringSerializer(), new StringSerializer());
    } catch (KafkaException e) {
      throw new IllegalArgumentException("kafka producer settings refused: " + e.getMessage(), e);
    }
    return new KafkaSink(options, host, clock, scheduler, producer);
  }

  private KafkaSink(
      KafkaOptions options,
      String host,
      Clock clock,
      Scheduler scheduler,
      Producer<String, String> producer) {
    super("kafka", options.capacity(), BATCH, scheduler, DEFAULT_CLOSE_TIMEOUT, true);
    this.options = options;
    this.host = host;
    this.clock = clock;
    this.producer = producer;
    this.background = Schedulers.newSingle("veriruntime-kafka", true);
    // partitionsFor blocks (up to max.block.ms) until the topic's metadata is known: done here, on
    // the background thread, so that deliveries wait for it without holding a thread.
    this.readiness =
        Mono.fromCallable(this::topicPartitions)
            .doOnError(this::noteFailure)
            .retryWhen(
                Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                    .maxBackoff(Duration.ofSeconds(5))
                    .scheduler(background))
            .subscribeOn(background)
            .subscribe(
                partitions -> {
                  connected.set(true);
                  ready.tryEmitEmpty();
                  if (!options.heartbeatTopic().isBlank()) {
                    heartbeat(false); // at once: the host is known from its first minute
                  }
                },
                error -> {});
    this.heartbeats =
        options.heartbeatTopic().isBlank()
            ? Disposables.disposed()
            : background.schedulePeriodically(
                () -> heartbeat(false),
                options.heartbeatInterval().toMillis(),
                options.heartbeatInterval().toMillis(),
                TimeUnit.MILLISECONDS);
  }

  /**
   * The topic's partitions, once the broker answers; nothing when the sink was closed meanwhile
   * (the producer's wait then ends with "metadata update after close", which is no failure to
   * report).
   */
  private List<PartitionInfo> topicPartitions() {
    try {
      return producer.partitionsFor(options.topic());
    } catch (KafkaException e) {
      if (closing.get()) {
        return null;
      }
      throw e;
    }
  }

  static Map<String, Object> producerConfig(KafkaOptions options, String host) throws IOException {
    Map<String, Object> c = new HashMap<>(options.security().clientProperties());
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrap());
    c.put(ProducerConfig.CLIENT_ID_CONFIG, "veriruntime-" + host);
    c.put(ProducerConfig.ACKS_CONFIG, "all");
    c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    // Idempotence keeps order with up to 5 requests in flight per connection.
    c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    c.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
    c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) options.deliveryTimeout().toMillis());
    c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) options.requestTimeout().toMillis());
    c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, options.maxBlock().toMillis());
    c.put(ProducerConfig.LINGER_MS_CONFIG, (int) LINGER.toMillis());
    // lz4 is the one codec shipped: zstd and snappy bring 10 MB of native libraries.
    c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    // Events are rare: keep the topic's metadata although nothing was sent for a long time, so a
    // send after a quiet night does not wait for metadata (and fail if the broker is away then).
    c.put(ProducerConfig.METADATA_MAX_IDLE_CONFIG, 86_400_000);
    // While every broker is away, keep the metadata instead of re-bootstrapping: rebootstrapping
    // forgets the topic, and each send would then block for max.block.ms and fail instead of
    // waiting in the buffer for the brokers to return.
    c.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
    // Reconnect attempts back off to one per 10 s while the brokers are away: the client logs a
    // warning per attempt, and a returning broker is found again within 10 s.
    c.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 10_000);
    return c;
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    String key = event.host().isEmpty() ? host : event.host();
    ProducerRecord<String, String> record =
        new ProducerRecord<>(options.topic(), key, EventJson.toJson(event));
    record.headers().add(TYPE_HEADER, event.type().name().getBytes(StandardCharsets.UTF_8));
    record.headers().add(SCHEMA_HEADER, SCHEMA.getBytes(StandardCharsets.UTF_8));
    return send(record);
  }

  /**
   * Until the producer has the topic's metadata (broker unreachable at start, topic missing) the
   * batch waits here, holding no thread; then all its sends run on the thread that completes the
   * wait, in order.
   */
  @Override
  protected Mono<Void> beforeBatch() {
    return ready.asMono();
  }

  private Mono<Void> send(ProducerRecord<String, String> record) {
    return Mono.create(
        sink -> {
          try {
            producer.send(
                record,
                (metadata, error) -> {
                  if (error == null) {
                    sink.success();
                  } else {
                    sink.error(error);
                  }
                });
          } catch (RuntimeException e) {
            sink.error(e); // closed producer, or a block past max.block.ms
          }
        });
  }

  /** Sends one heartbeat if the producer is connected; a lost heartbeat is not an event loss. */
  private void heartbeat(boolean stopping) {
    if (!connected.get()) {
      return;
    }
    SinkStats s = stats();
    KafkaHeartbeat beat =
        new KafkaHeartbeat(
            host,
            clock.instant(),
            options.heartbeatInterval().toSeconds(),
            stopping,
            s.accepted(),
            s.delivered(),
            s.dropped(),
            s.failed());
    try {
      producer.send(
          new ProducerRecord<>(
              options.heartbeatTopic(), host, EventJson.mapper().writeValueAsString(beat)));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      noteFailure(e);
    }
  }

  @Override
  protected void closeResources() {
    closing.set(true);
    heartbeats.dispose();
    readiness.dispose();
    // Deliveries still waiting for the broker's metadata fail now (counted), not never.
    ready.tryEmitError(new IllegalStateException("closed before the broker answered"));
    if (!options.heartbeatTopic().isBlank()) {
      heartbeat(true);
    }
    producer.close(Duration.ofSeconds(2));
    background.dispose();
  }
}
