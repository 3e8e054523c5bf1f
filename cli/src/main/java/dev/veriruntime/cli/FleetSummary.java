package dev.veriruntime.cli;

import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import dev.veriruntime.sinks.kafka.KafkaHeartbeat;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The answers of {@code veriruntime fleet summary}, computed from the events and heartbeats the
 * Kafka sinks of a fleet wrote (pure: no Kafka here, so it is tested on lists):
 *
 * <ul>
 *   <li>which hosts ran an unknown digest, and how often ({@code UNKNOWN_EXECUTION} events by host
 *       and SHA-256; follow-up reports of an incident are not counted as new runs);
 *   <li>which hosts have open incidents (the last event of the incident in the window is not {@code
 *       RESOLVED});
 *   <li>which hosts stopped sending: nothing (heartbeat or event) for longer than {@code
 *       silentAfter}, or by default three of the host's own heartbeat intervals; a host whose last
 *       heartbeat said it was stopping is listed too (someone stopped the agent).
 * </ul>
 *
 * Times are strings (ISO-8601) so the records print as JSON as they are.
 */
record FleetSummary(
    String topic,
    String since,
    String until,
    List<Host> hosts,
    List<UnknownDigest> unknownDigests,
    List<OpenIncident> openIncidents,
    List<SilentHost> silentHosts,
    long unreadableRecords) {

  /** Every host seen in the window. */
  record Host(
      String host, long events, String lastEvent, String lastHeartbeat, Long kafkaDropped) {}

  /** One unknown executable on one host. */
  record UnknownDigest(
      String host,
      String sha256,
      List<String> paths,
      long runs,
      long events,
      String firstSeen,
      String lastSeen) {}

  /** An incident whose last report in the window is not a resolution. */
  record OpenIncident(
      String host,
      String id,
      String type,
      Integer pid,
      String path,
      String opened,
      String lastState,
      String lastReport,
      long occurrences) {}

  /** A host that stopped sending. */
  record SilentHost(
      String host, String lastSeen, long silentSeconds, long thresholdSeconds, boolean stopping) {}

  /** Whether anything needs a look (the command's exit code says so). */
  boolean hasFindings() {
    return !unknownDigests.isEmpty() || !openIncidents.isEmpty() || !silentHosts.isEmpty();
  }

  /**
   * @param events the events in the window, each host's in the order it sent them
   * @param heartbeats the heartbeats in the window, likewise
   * @param silentAfter a fixed silence threshold, or {@code null} for three heartbeat intervals of
   *     each host (hosts without heartbeats are then never called silent)
   */
  static FleetSummary of(
      String topic,
      Instant since,
      Instant now,
      List<SecurityEvent> events,
      List<KafkaHeartbeat> heartbeats,
      Duration silentAfter,
      long unreadableRecords) {
    Map<String, HostState> hosts = new TreeMap<>();
    Map<String, Map<String, DigestState>> digests = new TreeMap<>();
    Map<String, SecurityEvent> incidents = new LinkedHashMap<>();
    for (SecurityEvent e : events) {
      HostState h = hosts.computeIfAbsent(e.host(), k -> new HostState());
      h.events++;
      h.lastEvent = max(h.lastEvent, e.time());
      if (e.type() == EventType.UNKNOWN_EXECUTION && e.exe() != null && e.exe().sha256() != null) {
        DigestState d =
            digests
                .computeIfAbsent(e.host(), k -> new TreeMap<>())
                .computeIfAbsent(e.exe().sha256(), k -> new DigestState(e.firstSeen()));
        d.events++;
        d.paths.add(e.exe().path());
        d.firstSeen = min(d.firstSeen, e.firstSeen());
        d.lastSeen = max(d.lastSeen, e.lastSeen());
        if (!isFollowUp(e)) {
          d.runs += e.count();
        }
      }
      if (e.incident() != null) {
        incidents.put(e.host() + "/" + e.incident().id(), e);
      }
    }
    for (KafkaHeartbeat b : heartbeats) {
      HostState h = hosts.computeIfAbsent(b.host(), k -> new HostState());
      if (h.lastHeartbeat == null || !b.time().isBefore(h.lastHeartbeat.time())) {
        h.lastHeartbeat = b;
      }
    }

    List<Host> hostLines = new ArrayList<>();
    List<SilentHost> silent = new ArrayList<>();
    hosts.forEach(
        (name, h) -> {
          KafkaHeartbeat beat = h.lastHeartbeat;
          hostLines.add(
              new Host(
                  name,
                  h.events,
                  text(h.lastEvent),
                  beat == null ? null : beat.time().toString(),
                  beat == null ? null : beat.dropped() + beat.failed()));
          Instant lastSeen = max(h.lastEvent, beat == null ? null : beat.time());
          Duration threshold =
              silentAfter != null
                  ? silentAfter
                  : beat == null ? null : Duration.ofSeconds(3 * beat.intervalSeconds());
          boolean stopping = beat != null && beat.stopping() && !h.eventAfter(beat);
          if (threshold == null && !stopping) {
            return;
          }
          Duration quiet = Duration.between(lastSeen, now);
          if (stopping || quiet.compareTo(threshold) > 0) {
            silent.add(
                new SilentHost(
                    name,
                    lastSeen.toString(),
                    Math.max(0, quiet.toSeconds()),
                    threshold == null ? 0 : threshold.toSeconds(),
                    stopping));
          }
        });

    List<UnknownDigest> unknown = new ArrayList<>();
    digests.forEach(
        (host, byDigest) ->
            byDigest.forEach(
                (sha, d) ->
                    unknown.add(
                        new UnknownDigest(
                            host,
                            sha,
                            List.copyOf(d.paths),
                            d.runs,
                            d.events,
                            text(d.firstSeen),
                            text(d.lastSeen)))));
    unknown.sort(
        Comparator.comparingLong(UnknownDigest::runs)
            .reversed()
            .thenComparing(UnknownDigest::host)
            .thenComparing(UnknownDigest::sha256));

    List<OpenIncident> open = new ArrayList<>();
    for (SecurityEvent e : incidents.values()) {
      SecurityEvent.Incident i = e.incident();
      if (i.state() == IncidentState.RESOLVED) {
        continue;
      }
      open.add(
          new OpenIncident(
              e.host(),
              i.id(),
              e.type().name(),
              e.pid(),
              e.exe() == null ? null : e.exe().path(),
              i.opened().toString(),
              i.state().name(),
              e.time().toString(),
              i.occurrences()));
    }
    open.sort(Comparator.comparing(OpenIncident::host).thenComparing(OpenIncident::opened));
    return new FleetSummary(
        topic,
        since.toString(),
        now.toString(),
        hostLines,
        unknown,
        open,
        silent,
        unreadableRecords);
  }

  /**
   * A reminder or a later resolution repeats an earlier report (its incident was opened by another
   * event): not another run. A first report is the incident's own opening event, whatever its state
   * (RESOLVED at once when the process had already ended).
   */
  private static boolean isFollowUp(SecurityEvent e) {
    return e.incident() != null && !e.incident().id().equals(e.id());
  }

  private static final class HostState {
    long events;
    Instant lastEvent;
    KafkaHeartbeat lastHeartbeat;

    boolean eventAfter(KafkaHeartbeat beat) {
      return lastEvent != null && lastEvent.isAfter(beat.time());
    }
  }

  private static final class DigestState {
    final TreeSet<String> paths = new TreeSet<>();
    long runs;
    long events;
    Instant firstSeen;
    Instant lastSeen;

    DigestState(Instant first) {
      this.firstSeen = first;
      this.lastSeen = first;
    }
  }

  private static Instant max(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  private static Instant min(Instant a, Instant b) {
    return a == null ? b : b == null || a.isBefore(b) ? a : b;
  }

  private static String text(Instant t) {
    return t == null ? null : t.toString();
  }
}
