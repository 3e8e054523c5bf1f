package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventIds;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.Incident;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Turns findings about running processes into incidents: one per process (pid and start time),
 * event type and source (found live, or by a check such as re-attestation). Findings about one
 * process that arrive within {@code groupWindow} of each other are one event ({@link Grouping}); a
 * group is reported once no finding joined it for a window, at the latest after {@value
 * #MAX_GROUP_WINDOWS} windows.
 *
 * <ul>
 *   <li>The first report of an incident goes out at once (after the group window): state {@code
 *       OPENED}, or {@code RESOLVED} with resolution "process exited" when the process already
 *       ended (one event for a short-lived process).
 *   <li>The same findings found again are counted, not reported: the incident goes out again only
 *       as a {@code REMINDER} when one is due ({@link Settings#reminders}: by default 1 min after
 *       it opened, then 10 min, 1 h and 1 day after the previous reminder, then daily), with the
 *       count since the last report. A finding the incident does not hold yet is reported at once
 *       ({@code UPDATED}).
 *   <li>A check's finding that an open incident of the same process and type found live already
 *       (the target of a memory write, verified at once, then re-attested) is counted in that
 *       incident, not opened as another.
 *   <li>A finding that another tool asked for ({@link #ASKED_BY}: an alert made the agent verify)
 *       is reported once per asker in the incident it joins, even when the incident holds it
 *       already (as {@code UPDATED}, naming who asked); the same asker again is counted.
 *   <li>It closes with a {@code RESOLVED} event when its process ends or, for a check's finding,
 *       when the same check of the process passes again ({@link #checkPassed}).
 * </ul>
 *
 * <p>Events that are not about one process (no pid; loss reports; self-integrity) pass through
 * unchanged. Events about the agent's own process ({@link Settings#selfPid}) are dropped and
 * counted ({@link #selfSuppressed}): the agent is covered by self-integrity; an injection aimed at
 * it is the exception and is kept. Memory is bounded by {@link Settings#maxIncidents}: past it,
 * findings pass through ungrouped and without incident, counted in {@link #overflow} (more output,
 * nothing hidden). Time is passed in by the caller (virtual time in tests). Thread-safe
 * (synchronized; called once per anomaly and once per tick, not per exec).
 */
public final class IncidentBook {
  /**
   * Detail naming who asked for the verification behind a finding (an alert's source and rule): the
   * first finding of each asker in an incident is reported, repeats are counted.
   */
  public static final String ASKED_BY = "askedBy";

  /** Source of findings made as they happen (exec, mapping, syscall), not by a later check. */
  public static final String LIVE = "live";

  /** Default reminder delays: 1 min, 10 min, 1 h, then daily. */
  public static final List<Duration> DEFAULT_REMINDERS =
      List.of(
          Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1), Duration.ofDays(1));

  /**
   * @param groupWindow findings about one process within this time of the first are one event
   * @param reminders delays from opening to the first reminder, then between reminders; the last
   *     repeats
   * @param livenessPeriod how often open incidents' processes are checked for their end
   * @param maxIncidents open incidents and pending groups kept at most
   * @param selfPid the agent's own pid (its process is never an incident's subject); 0 for none
   */
  public record Settings(
      Duration groupWindow,
      List<Duration> reminders,
      Duration livenessPeriod,
      int maxIncidents,
      long selfPid) {
    public Settings {
      if (groupWindow.isNegative() || reminders.isEmpty() || maxIncidents < 1) {
        throw new IllegalArgumentException("bad incident settings");
      }
      for (Duration d : reminders) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("reminder delays must be positive: " + reminders);
        }
      }
      reminders = List.copyOf(reminders);
    }

    /** 1 s groups, the default reminders, liveness checked every second. */
    public static Settings defaults(int maxIncidents, long selfPid) {
      return new Settings(
          Duration.ofSeconds(1), DEFAULT_REMINDERS, Duration.ofSeconds(1), maxIncidents, selfPid);
    }
  }

  /** An open incident as {@code state} lists it. */
  public record OpenIncident(
      String id,
      int pid,
      EventType type,
      String source,
      String exe,
      String sha256,
      String reason,
      Instant opened,
      Instant lastReported,
      long occurrences,
      long sinceLastReport,
      Instant nextReminder,
      List<String> findings) {}

  private record GroupKey(int pid, EventType type, String source) {}

  private record IncidentKey(int pid, long startTicks, EventType type, String source) {}

  private static final class Group {
    final Instant started;
    Instant lastAdded;
    final List<SecurityEvent> events = new ArrayList<>();

    Group(Instant started) {
      this.started = started;
      this.lastAdded = started;
    }
  }

  /** A group stays open at most this many group windows, however its findings trickle in. */
  static final int MAX_GROUP_WINDOWS = 5;

  private static final class Open {
    final IncidentKey key;
    final SecurityEvent first;
    final Set<String> known = new LinkedHashSet<>();
    // The same items without the check that found them: what a later check would find again.
    final Set<String> findings = new LinkedHashSet<>();
    // Who asked (alerts) and was answered in this incident already.
    final Set<String> askers = new LinkedHashSet<>();
    Instant lastReported;
    Instant lastSeen;
    long occurrences = 1;
    long sinceLastReport;
    int reminder;
    Instant nextReminder;
    String clearedBy;

    Open(IncidentKey key, SecurityEvent first, Instant now, Instant nextReminder) {
      this.key = key;
      this.first = first;
      this.lastReported = now;
      this.lastSeen = now;
      this.nextReminder = nextReminder;
    }
  }

  private static final int MAX_KNOWN_FINDINGS = 256;

  private final Settings settings;
  private final ProcessLiveness liveness;
  private final Map<GroupKey, Group> pending = new LinkedHashMap<>();
  private final Map<IncidentKey, Open> open = new LinkedHashMap<>();
  private Instant lastLivenessCheck = Instant.MIN;
  private long selfSuppressed;
  private long overflow;
  private long resolved;

  public IncidentBook(Settings settings, ProcessLiveness liveness) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.liveness = Objects.requireNonNull(liveness, "liveness");
  }

  /** Whether {@code e} is about one process, so it belongs to an incident. */
  static boolean aboutAProcess(SecurityEvent e) {
    return e.pid() != null
        && e.type() != EventType.SELF_INTEGRITY_FAILURE
        && !e.details().containsKey(SinkStage.DROP_REPORT);
  }

  /** What to emit now for {@code e}: itself if it is not about a process, else nothing yet. */
  public synchronized List<SecurityEvent> offer(SecurityEvent e, Instant now) {
    if (!aboutAProcess(e)) {
      return List.of(e);
    }
    if (settings.selfPid() != 0
        && e.pid() == settings.selfPid()
        && !"CODE_INJECTION_ATTEMPT".equals(e.details().get("finding"))) {
      selfSuppressed++;
      return List.of();
    }
    GroupKey key = new GroupKey(e.pid(), e.type(), sourceOf(e));
    Group g = pending.get(key);
    if (g == null) {
      if (pending.size() + open.size() >= settings.maxIncidents()) {
        overflow++;
        return List.of(e);
      }
      g = new Group(now);
      pending.put(key, g);
    }
    g.events.add(e);
    g.lastAdded = now;
    return List.of();
  }

  /**
   * Tells the book that {@code check} (e.g. "re-attestation") looked at {@code pid} again and found
   * only {@code stillFound} (event types): its incidents of other types from that check are
   * resolved on the next {@link #tick} ("condition cleared").
   */
  public synchronized void checkPassed(int pid, String check, Set<EventType> stillFound) {
    for (Open o : open.values()) {
      if (o.key.pid() == pid
          && o.key.source().equals(check)
          && !stillFound.contains(o.key.type())
          && o.clearedBy == null) {
        o.clearedBy = check + " found it no more";
      }
    }
  }

  /**
   * Reports groups whose window ended, resolves incidents whose process ended or whose condition
   * cleared, and sends the reminders that are due.
   */
  public synchronized List<SecurityEvent> tick(Instant now) {
    List<SecurityEvent> out = new ArrayList<>();
    for (Iterator<Group> it = pending.values().iterator(); it.hasNext(); ) {
      Group g = it.next();
      if (groupDue(g, now)) {
        it.remove();
        report(g, now).ifPresent(out::add);
      }
    }
    boolean checkLiveness =
        !lastLivenessCheck.plus(settings.livenessPeriod()).isAfter(now) || hasCleared();
    if (checkLiveness) {
      lastLivenessCheck = now;
    }
    for (Iterator<Open> it = open.values().iterator(); it.hasNext(); ) {
      Open o = it.next();
      String resolution = null;
      if (checkLiveness && !liveness.stillRuns(o.key.pid(), o.key.startTicks())) {
        resolution = "process exited";
      } else if (o.clearedBy != null) {
        resolution = "condition cleared: " + o.clearedBy;
      }
      if (resolution != null) {
        absorbPending(o);
        it.remove();
        resolved++;
        out.add(
            followUp(
                o, now, IncidentState.RESOLVED, "resolved (" + resolution + "): ", resolution));
      } else if (!o.nextReminder.isAfter(now)) {
        out.add(followUp(o, now, IncidentState.REMINDER, "still open: ", null));
      }
    }
    return out;
  }

  /** Reports every pending group (at shutdown); open incidents stay as they are. */
  public synchronized List<SecurityEvent> flushAll(Instant now) {
    List<SecurityEvent> out = new ArrayList<>();
    for (Group g : pending.values()) {
      report(g, now).ifPresent(out::add);
    }
    pending.clear();
    return out;
  }

  /** The open incidents, oldest first. */
  public synchronized List<OpenIncident> openIncidents() {
    return open.values().stream()
        .sorted(Comparator.comparing(o -> o.first.time()))
        .map(
            o ->
                new OpenIncident(
                    o.first.id(),
                    o.key.pid(),
                    o.key.type(),
                    o.key.source(),
                    o.first.exe() == null ? null : o.first.exe().path(),
                    o.first.exe() == null ? null : o.first.exe().sha256(),
                    o.first.reason(),
                    o.first.time(),
                    o.lastReported,
                    o.occurrences,
                    o.sinceLastReport,
                    o.nextReminder,
                    List.copyOf(o.known)))
        .toList();
  }

  /** Whether {@code pid} has an open incident. */
  public synchronized boolean hasOpenIncident(int pid) {
    return open.keySet().stream().anyMatch(k -> k.pid() == pid);
  }

  /** Findings about the agent's own process that were dropped. */
  public synchronized long selfSuppressed() {
    return selfSuppressed;
  }

  /** Findings that passed through without incident because the book was full. */
  public synchronized long overflow() {
    return overflow;
  }

  /** Incidents resolved since start. */
  public synchronized long resolvedCount() {
    return resolved;
  }

  /**
   * A group is reported once no finding joined it for a whole window (verification of the files of
   * one moment may trail one another on a busy host), or after {@link #MAX_GROUP_WINDOWS} windows.
   */
  private boolean groupDue(Group g, Instant now) {
    Duration w = settings.groupWindow();
    return !g.lastAdded.plus(w).isAfter(now)
        || !g.started.plus(w.multipliedBy(MAX_GROUP_WINDOWS)).isAfter(now);
  }

  private boolean hasCleared() {
    return open.values().stream().anyMatch(o -> o.clearedBy != null);
  }

  private java.util.Optional<SecurityEvent> report(Group g, Instant now) {
    SecurityEvent merged = Grouping.merge(g.events);
    Set<String> items = new LinkedHashSet<>();
    g.events.forEach(e -> items.add(Grouping.itemKey(e)));
    int pid = merged.pid();
    OptionalLong start = liveness.startTicks(pid);
    String source = sourceOf(merged);
    if (start.isEmpty()) {
      Open earlier = openFor(pid, merged.type(), source);
      if (earlier == null) {
        earlier = foundElsewhere(pid, OptionalLong.empty(), merged.type(), source, g.events);
      }
      if (earlier != null) {
        // Found again just before the process ended: counted; the liveness check resolves it.
        earlier.occurrences++;
        earlier.sinceLastReport++;
        return java.util.Optional.empty();
      }
      // Ended before its first report: one event, already resolved.
      resolved++;
      return java.util.Optional.of(
          merged.withIncident(
              new Incident(
                  merged.id(),
                  IncidentState.RESOLVED,
                  merged.time(),
                  1,
                  1,
                  null,
                  "process exited")));
    }
    IncidentKey key = new IncidentKey(pid, start.getAsLong(), merged.type(), source);
    String asker = askerOf(g.events);
    Open o = open.get(key);
    if (o != null) {
      o.occurrences++;
      o.sinceLastReport++;
      o.lastSeen = now;
      Set<String> fresh = new HashSet<>(items);
      fresh.removeAll(o.known);
      boolean asked = newAsker(o, asker);
      if (fresh.isEmpty() && !asked) {
        return java.util.Optional.empty();
      }
      remember(o, fresh);
      rememberFindings(o, g.events);
      o.lastReported = now;
      long since = o.sinceLastReport;
      o.sinceLastReport = 0;
      return java.util.Optional.of(
          merged.withIncident(
              new Incident(
                  o.first.id(),
                  IncidentState.UPDATED,
                  o.first.time(),
                  o.occurrences,
                  since,
                  o.nextReminder,
                  null)));
    }
    Open found = foundElsewhere(pid, start, merged.type(), source, g.events);
    if (found != null) {
      found.occurrences++;
      found.sinceLastReport++;
      found.lastSeen = now;
      if (!newAsker(found, asker)) {
        return java.util.Optional.empty();
      }
      // Another tool asked about what this incident holds: its answer joins the incident, once.
      found.lastReported = now;
      long since = found.sinceLastReport;
      found.sinceLastReport = 0;
      return java.util.Optional.of(
          merged.withIncident(
              new Incident(
                  found.first.id(),
                  IncidentState.UPDATED,
                  found.first.time(),
                  found.occurrences,
                  since,
                  found.nextReminder,
                  null)));
    }
    Instant next = now.plus(settings.reminders().get(0));
    o = new Open(key, merged, now, next);
    newAsker(o, asker);
    remember(o, items);
    rememberFindings(o, g.events);
    open.put(key, o);
    return java.util.Optional.of(
        merged.withIncident(
            new Incident(merged.id(), IncidentState.OPENED, merged.time(), 1, 1, next, null)));
  }

  /** Who asked for the findings of a group (the first that names one), or null. */
  private static String askerOf(List<SecurityEvent> events) {
    for (SecurityEvent e : events) {
      Object asker = e.details().get(ASKED_BY);
      if (asker != null) {
        return asker.toString();
      }
    }
    return null;
  }

  /** Records {@code asker} in {@code o}; true when it had not asked before (bounded). */
  private static boolean newAsker(Open o, String asker) {
    return asker != null && o.askers.size() < MAX_KNOWN_FINDINGS && o.askers.add(asker);
  }

  private Open openFor(int pid, EventType type, String source) {
    for (Open o : open.values()) {
      if (o.key.pid() == pid && o.key.type() == type && o.key.source().equals(source)) {
        return o;
      }
    }
    return null;
  }

  /**
   * Counts the findings still gathering for {@code o}'s process into it, before it resolves: its
   * own source's, and another check's that finds again only what {@code o} holds.
   */
  private void absorbPending(Open o) {
    var it = pending.entrySet().iterator();
    while (it.hasNext()) {
      var entry = it.next();
      GroupKey k = entry.getKey();
      if (k.pid() != o.key.pid() || k.type() != o.key.type()) {
        continue;
      }
      if (k.source().equals(o.key.source())
          || entry.getValue().events.stream().allMatch(e -> o.findings.contains(findingKey(e)))) {
        it.remove();
        o.occurrences++;
        o.sinceLastReport++;
      }
    }
  }

  private static void remember(Open o, Set<String> items) {
    for (String i : items) {
      if (o.known.size() >= MAX_KNOWN_FINDINGS) {
        return;
      }
      o.known.add(i);
    }
  }

  private static void rememberFindings(Open o, List<SecurityEvent> events) {
    for (SecurityEvent e : events) {
      if (o.findings.size() < MAX_KNOWN_FINDINGS) {
        o.findings.add(findingKey(e));
      }
    }
  }

  /**
   * The open incident of another source about the same process ({@code start}: its start time, if
   * it still runs) and type that already holds every finding of {@code events}, if any: a check
   * that finds again what was found live adds nothing.
   */
  private Open foundElsewhere(
      int pid, OptionalLong start, EventType type, String source, List<SecurityEvent> events) {
    for (Open o : open.values()) {
      if (o.key.pid() == pid
          && (start.isEmpty() || o.key.startTicks() == start.getAsLong())
          && o.key.type() == type
          && !o.key.source().equals(source)
          && events.stream().allMatch(e -> o.findings.contains(findingKey(e)))) {
        return o;
      }
    }
    return null;
  }

  /** What was found about what, whichever check found it. */
  private static String findingKey(SecurityEvent e) {
    return e.details().get("finding") + "/" + e.details().get("scope") + "@" + FoldKeys.subject(e);
  }

  /** A reminder or resolution: the opening event again, with a new id, time and incident state. */
  private SecurityEvent followUp(
      Open o, Instant now, IncidentState state, String prefix, String resolution) {
    long since = o.sinceLastReport;
    o.sinceLastReport = 0;
    o.lastReported = now;
    Instant next = null;
    if (state == IncidentState.REMINDER) {
      List<Duration> delays = settings.reminders();
      o.reminder = Math.min(o.reminder + 1, delays.size() - 1);
      o.nextReminder = o.nextReminder.plus(delays.get(o.reminder));
      if (!o.nextReminder.isAfter(now)) {
        o.nextReminder = now.plus(delays.get(o.reminder));
      }
      next = o.nextReminder;
    }
    SecurityEvent f = o.first;
    Map<String, Object> details = new LinkedHashMap<>(f.details());
    return new SecurityEvent(
        EventIds.next(now),
        f.type(),
        now,
        f.host(),
        f.pid(),
        f.exe(),
        prefix + f.reason(),
        f.coverage(),
        1,
        f.time(),
        o.lastSeen.isBefore(f.time()) ? f.time() : o.lastSeen,
        f.findings(),
        details,
        new Incident(f.id(), state, f.time(), o.occurrences, since, next, resolution));
  }

  private static String sourceOf(SecurityEvent e) {
    Object check = e.details().get("check");
    return check == null ? LIVE : check.toString();
  }
}
