package dev.veriruntime.cli;

import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.kafka.KafkaHeartbeat;
import dev.veriruntime.sinks.kafka.KafkaOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code veriruntime fleet summary}: reads the fleet's event and heartbeat topics since a point in
 * time and says which hosts ran unknown executables, which have open incidents, and which stopped
 * sending ({@link FleetSummary}).
 */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    description = {
      "Summarise the fleet: unknown executables per host, open incidents, hosts that stopped sending.",
      "%nReads the event topic and its heartbeat topic from --since until now, without a consumer group: nothing is committed or created on the cluster.",
      "%nA host stopped sending when nothing came from it (event or heartbeat) for three of its heartbeat intervals, or for --silent-after; a host whose agent said it was stopping is listed too.",
      "%nExit codes: 0 nothing to look at, 5 findings listed, 2 usage, 10 unreadable --consumer-config, 42 topic does not exist, 60 the broker cannot be reached, 61 the broker refused the client's credentials, certificate or access to the topic (one line on stderr)."
    })
public final class FleetSummaryCommand implements Callable<Integer> {
  @Option(
      names = "--kafka",
      required = true,
      paramLabel = "BOOTSTRAP",
      description = "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].")
  String bootstrap;

  @Option(
      names = "--topic",
      paramLabel = "TOPIC",
      description = "The event topic the agents write to (default: ${DEFAULT-VALUE}).")
  String topic = "veriruntime-events";

  @Option(
      names = "--heartbeat-topic",
      paramLabel = "TOPIC",
      description = "The heartbeat topic (default: TOPIC-heartbeat).")
  String heartbeatTopic;

  @Option(
      names = "--since",
      paramLabel = "D",
      converter = DurationConverter.class,
      description =
          "How far back to read, e.g. 1h or 48h (default: 25h, so that every open incident's"
              + " daily reminder is in the window).")
  Duration since = Duration.ofHours(25);

  @Option(
      names = "--silent-after",
      paramLabel = "D",
      converter = DurationConverter.class,
      description =
          "Call a host silent after D without a record from it (default: three of its heartbeat"
              + " intervals).")
  Duration silentAfter;

  @Option(
      names = "--consumer-config",
      paramLabel = "FILE",
      description =
          "Kafka client properties for TLS and SASL (security.protocol, ssl.*, sasl.*), as for"
              + " Kafka's own tools.")
  Path consumerConfig;

  @Option(
      names = "--timeout",
      paramLabel = "D",
      converter = DurationConverter.class,
      description = "How long to wait for the broker (default: 15s).")
  Duration timeout = Duration.ofSeconds(15);

  @Option(names = "--json", description = "Print one JSON document instead of text.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  Clock clock = Clock.systemUTC();

  @Override
  public Integer call() {
    ConsoleLogging.onlyKafkaErrors();
    Map<String, Object> client = clientProperties();
    Instant now = clock.instant();
    Instant from = now.minus(since);
    String beatsTopic =
        heartbeatTopic == null ? KafkaOptions.heartbeatTopicOf(topic) : heartbeatTopic;
    List<SecurityEvent> events = new ArrayList<>();
    List<KafkaHeartbeat> beats = new ArrayList<>();
    long unreadable = 0;
    try (FleetTopicReader reader = new FleetTopicReader(bootstrap, client, timeout)) {
      for (ConsumerRecord<String, String> r : reader.read(topic, from)) {
        try {
          events.add(EventJson.fromJson(r.value()));
        } catch (UncheckedIOException | IllegalArgumentException | NullPointerException e) {
          unreadable++;
        }
      }
      List<ConsumerRecord<String, String>> beatRecords;
      try {
        beatRecords = reader.read(beatsTopic, from);
      } catch (FleetTopicReader.NoSuchTopic e) {
        beatRecords = List.of(); // agents with heartbeats off: silence cannot be judged
      }
      for (ConsumerRecord<String, String> r : beatRecords) {
        try {
          beats.add(EventJson.mapper().readValue(r.value(), KafkaHeartbeat.class));
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
          unreadable++;
        }
      }
    } catch (FleetTopicReader.Unreachable e) {
      throw new CliException(
          ExitCodes.KAFKA_UNAVAILABLE,
          "cannot read from Kafka at " + bootstrap + ": " + e.getMessage());
    } catch (FleetTopicReader.Refused e) {
      throw new CliException(
          ExitCodes.KAFKA_REFUSED,
          "Kafka at " + bootstrap + " refused this client: " + e.getMessage());
    } catch (FleetTopicReader.NoSuchTopic e) {
      throw new CliException(ExitCodes.NOT_FOUND, "Kafka at " + bootstrap + ": " + e.getMessage());
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new CliException(
          ExitCodes.USAGE, "cannot configure the Kafka consumer: " + e.getMessage());
    }
    FleetSummary summary =
        FleetSummary.of(topic, from, now, events, beats, silentAfter, unreadable);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonOutput.print(out, summary);
    } else {
      printText(out, summary);
    }
    return summary.hasFindings() ? ExitCodes.FINDINGS : ExitCodes.OK;
  }

  private Map<String, Object> clientProperties() {
    Map<String, Object> client = new HashMap<>();
    if (consumerConfig == null) {
      return client;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(consumerConfig)) {
      p.load(in);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "cannot read --consumer-config " + consumerConfig + ": " + IoErrors.describe(e));
    }
    p.stringPropertyNames().forEach(k -> client.put(k, p.getProperty(k)));
    return client;
  }

  private static void printText(PrintWriter out, FleetSummary s) {
    out.printf(
        "Fleet on %s since %s: %d hosts, %d unknown executables, %d open incidents, %d silent"
            + " hosts%n",
        s.topic(),
        s.since(),
        s.hosts().size(),
        s.unknownDigests().size(),
        s.openIncidents().size(),
        s.silentHosts().size());
    if (!s.unknownDigests().isEmpty()) {
      out.println();
      out.println("Unknown executables (host, runs, sha256, paths):");
      for (FleetSummary.UnknownDigest d : s.unknownDigests()) {
        out.printf(
            "  %-20s %6d  %s  %s%n", d.host(), d.runs(), d.sha256(), String.join(", ", d.paths()));
      }
    }
    if (!s.openIncidents().isEmpty()) {
      out.println();
      out.println("Open incidents (host, type, pid, path, opened, last report):");
      for (FleetSummary.OpenIncident i : s.openIncidents()) {
        out.printf(
            "  %-20s %-22s %7s  %s  opened %s, last report %s (%s), incident %s%n",
            i.host(),
            i.type(),
            i.pid() == null ? "-" : i.pid().toString(),
            i.path() == null ? "-" : i.path(),
            i.opened(),
            i.lastReport(),
            i.lastState().toLowerCase(java.util.Locale.ROOT),
            i.id());
      }
    }
    if (!s.silentHosts().isEmpty()) {
      out.println();
      out.println("Hosts that stopped sending:");
      for (FleetSummary.SilentHost h : s.silentHosts()) {
        out.printf(
            "  %-20s last seen %s (%d s ago)%s%n",
            h.host(),
            h.lastSeen(),
            h.silentSeconds(),
            h.stopping()
                ? ", its agent said it was stopping"
                : ", more than " + h.thresholdSeconds() + " s without a record");
      }
    }
    if (s.unreadableRecords() > 0) {
      out.println();
      out.printf(
          "%d records were not VeriRuntime events or heartbeats and were skipped.%n",
          s.unreadableRecords());
    }
    out.flush();
  }
}
