package dev.veriruntime.sinks;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One event the pipeline emits into the sinks: immutable, thread-safe, and serialised to JSON by
 * {@link EventJson} with exactly these keys:
 *
 * <pre>{@code
 * {"id":"0193…","type":"UNKNOWN_EXECUTION","time":"2026-11-23T07:40:00.123Z","host":"build-7",
 *  "pid":4242,"exe":{"path":"/tmp/x","dev":2049,"ino":131,"sha256":"9f86…"},
 *  "reason":"no trusted reference for sha256 9f86…",
 *  "coverage":{"DISK_HASH":{"status":"VERIFIED","reason":""},"SIGNATURE":{"status":"NOT_VERIFIED","reason":"no reference"}},
 *  "count":12,"firstSeen":"…","lastSeen":"…",
 *  "findings":[{"type":"NO_REFERENCE","scope":"DISK_HASH","reason":"…","detail":{}}],
 *  "details":{},
 *  "incident":{"id":"0193…","state":"OPENED","opened":"…","occurrences":1,"sinceLastReport":1,
 *              "nextReminder":"…"}}
 * }</pre>
 *
 * <p>{@code incident} is present only on events about a process (see {@link Incident}); events
 * without one serialise exactly as before it existed.
 *
 * <p>The sinks module does not depend on the verifier: scope names, statuses and finding types are
 * plain strings, which the pipeline fills from the verifier's enums ({@code Scope.name()} etc.).
 *
 * @param id unique id, time-ordered ({@link EventIds#next}); the evidence journal is indexed by it
 * @param type what kind of anomaly
 * @param time when the event was emitted (for an aggregate: when the aggregate was flushed)
 * @param host host name of the node that observed it
 * @param pid process id, or {@code null} for events about a window rather than a process
 * @param exe the executed file as the kernel identified it, or {@code null} when not about a file
 * @param reason one human-readable line saying why
 * @param coverage scope name → status and reason, for every scope policy intended
 * @param count how many occurrences this event aggregates, at least 1
 * @param firstSeen first occurrence (never hidden by aggregation); defaults to {@code time}
 * @param lastSeen last occurrence; defaults to {@code time}; never before {@code firstSeen}
 * @param findings what the checks noticed, in order
 * @param details extra machine-readable facts (e.g. dropped counts per stage and window for
 *     VERIFICATION_DEGRADED); values are strings, numbers, booleans, or lists/maps of them
 * @param incident the incident this event opens, updates, reminds of or resolves; {@code null} for
 *     events that are not about one process (loss reports, self-integrity)
 */
@JsonPropertyOrder({
  "id",
  "type",
  "time",
  "host",
  "pid",
  "exe",
  "reason",
  "coverage",
  "count",
  "firstSeen",
  "lastSeen",
  "findings",
  "details",
  "incident"
})
public record SecurityEvent(
    String id,
    EventType type,
    Instant time,
    String host,
    Integer pid,
    Executable exe,
    String reason,
    Map<String, ScopeCoverage> coverage,
    long count,
    Instant firstSeen,
    Instant lastSeen,
    List<EventFinding> findings,
    Map<String, Object> details,
    @JsonInclude(JsonInclude.Include.NON_NULL) Incident incident) {

  /**
   * @throws NullPointerException if id, type, time or reason is null
   * @throws IllegalArgumentException if count &lt; 1, id is blank, or lastSeen is before firstSeen
   */
  public SecurityEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(reason, "reason");
    if (id.isBlank()) {
      throw new IllegalArgumentException("blank id");
    }
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, was " + count);
    }
    host = host == null ? "" : host;
    firstSeen = firstSeen == null ? time : firstSeen;
    lastSeen = lastSeen == null ? time : lastSeen;
    if (lastSeen.isBefore(firstSeen)) {
      throw new IllegalArgumentException("lastSeen " + lastSeen + " before firstSeen " + firstSeen);
    }
    coverage = frozen(coverage);
    findings = findings == null ? List.of() : List.copyOf(findings);
    details = frozen(details);
  }

  /** An event without incident (the form every event had before incidents existed). */
  public SecurityEvent(
      String id,
      EventType type,
      Instant time,
      String host,
      Integer pid,
      Executable exe,
      String reason,
      Map<String, ScopeCoverage> coverage,
      long count,
      Instant firstSeen,
      Instant lastSeen,
      List<EventFinding> findings,
      Map<String, Object> details) {
    this(
        id, type, time, host, pid, exe, reason, coverage, count, firstSeen, lastSeen, findings,
        details, null);
  }

  /**
   * Where an event stands in the life of one incident: a condition about one running process
   * (drift, an unknown process still running...), reported when it opens, then only as reminders
   * with back-off, and closed by a resolution.
   *
   * @param id the incident's id: the id of the event that opened it (so {@code GetEvidence(id)}
   *     finds the first report)
   * @param state what this event says about the incident
   * @param opened when the incident opened
   * @param occurrences findings counted in the incident since it opened, this event's included
   * @param sinceLastReport findings counted since the incident's previous event (0 in a reminder
   *     about a condition that simply goes on)
   * @param nextReminder when the next reminder is due if the incident stays open; {@code null} once
   *     resolved
   * @param resolution why it closed ("process exited", "condition cleared: ..."); {@code null}
   *     while open
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Incident(
      String id,
      IncidentState state,
      Instant opened,
      long occurrences,
      long sinceLastReport,
      Instant nextReminder,
      String resolution) {
    public Incident {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(opened, "opened");
    }
  }

  /** What an event says about its incident. */
  public enum IncidentState {
    /** The first report: the condition was found now. */
    OPENED,
    /** The incident is open and something new was found about the same process. */
    UPDATED,
    /** The incident is still open; {@code sinceLastReport} says how often it was found again. */
    REMINDER,
    /**
     * The incident is closed ({@code resolution} says why); also on a first report whose process
     * already ended.
     */
    RESOLVED
  }

  /** The same event as part of {@code incident}. */
  public SecurityEvent withIncident(Incident incident) {
    return copy(count, lastSeen, details, incident);
  }

  /** This event with the fields its copies change; its maps are shared, not copied. */
  private SecurityEvent copy(
      long count, Instant lastSeen, Map<String, Object> details, Incident incident) {
    return new SecurityEvent(
        id, type, time, host, pid, exe, reason, coverage, count, firstSeen, lastSeen, findings,
        details, incident);
  }

  /**
   * The same event with {@code more} details after its own (a key it has already keeps its place
   * and takes the new value); its details are copied once.
   */
  public SecurityEvent withDetails(Map<String, Object> more) {
    if (more.isEmpty()) {
      return this;
    }
    Pairs<Object> all = new Pairs<>(details.size() + more.size());
    details.forEach(all::put);
    more.forEach(all::put);
    return copy(count, lastSeen, all.frozen(), incident);
  }

  /** The executed file: path as reported at exec time, kernel identity, and content digest. */
  public record Executable(String path, long dev, long ino, String sha256) {}

  /** Status of one verification scope ({@code VERIFIED}, {@code FAILED}, ...) and why. */
  public record ScopeCoverage(String status, String reason) {
    public ScopeCoverage {
      Objects.requireNonNull(status, "status");
      reason = reason == null ? "" : reason;
    }
  }

  /** One finding: its type and scope names, a reason, and machine-readable detail. */
  public record EventFinding(String type, String scope, String reason, Map<String, String> detail) {
    public EventFinding {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(scope, "scope");
      reason = reason == null ? "" : reason;
      detail = frozen(detail);
    }
  }

  /**
   * A copy that aggregates more occurrences: new count and last-seen time, same id and first-seen.
   */
  public SecurityEvent withAggregate(long newCount, Instant newLastSeen) {
    return copy(newCount, newLastSeen, details, incident);
  }

  /**
   * Starts a builder; the id defaults to a fresh {@link EventIds#next(Instant)} of {@code time}.
   */
  public static Builder builder(EventType type, Instant time) {
    return new Builder(type, time);
  }

  private static <V> Map<String, V> frozen(Map<String, V> map) {
    if (map == null || map.isEmpty()) {
      return Map.of();
    }
    if (map instanceof FrozenMap<V> done) {
      // An event's own maps, handed to a copy of it (withIncident, withAggregate, a merge).
      return done;
    }
    Pairs<V> copy = new Pairs<>(map.size());
    map.forEach(copy::put);
    return copy.frozen();
  }

  /**
   * Keys and values in insertion order, in one array that grows: how an event's maps are built. A
   * key put again keeps its place and takes the new value. An event's maps hold a few entries each,
   * so a scan finds a key; a hash table would cost an object per entry, kept as long as the event.
   */
  private static final class Pairs<V> {
    private Object[] keysAndValues;
    private int size;

    Pairs(int expected) {
      keysAndValues = new Object[2 * Math.max(expected, 2)];
    }

    void put(String key, V value) {
      Objects.requireNonNull(key, "map key");
      Objects.requireNonNull(value, key);
      int at = indexOf(keysAndValues, 2 * size, key);
      if (at >= 0) {
        keysAndValues[at + 1] = value;
        return;
      }
      if (2 * size == keysAndValues.length) {
        keysAndValues = Arrays.copyOf(keysAndValues, 2 * keysAndValues.length);
      }
      keysAndValues[2 * size] = key;
      keysAndValues[2 * size + 1] = value;
      size++;
    }

    /** An unmodifiable copy: the builder can go on without changing it. */
    Map<String, V> frozen() {
      return size == 0 ? Map.of() : new FrozenMap<>(Arrays.copyOf(keysAndValues, 2 * size));
    }
  }

  /** Where {@code key} is among the first {@code length} slots of keys and values, or -1. */
  private static int indexOf(Object[] keysAndValues, int length, Object key) {
    for (int i = 0; i < length; i += 2) {
      if (keysAndValues[i].equals(key)) {
        return i;
      }
    }
    return -1;
  }

  /** What {@link #frozen} gives: in insertion order, unmodifiable, so never copied again. */
  private static final class FrozenMap<V> extends AbstractMap<String, V> {
    private final Object[] keysAndValues;

    FrozenMap(Object[] keysAndValues) {
      this.keysAndValues = keysAndValues;
    }

    @Override
    public Set<Map.Entry<String, V>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<String, V>> iterator() {
          return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
              return next < keysAndValues.length;
            }

            @Override
            public Map.Entry<String, V> next() {
              if (next >= keysAndValues.length) {
                throw new NoSuchElementException();
              }
              next += 2;
              return new SimpleImmutableEntry<>(key(next - 2), value(next - 1));
            }
          };
        }

        @Override
        public int size() {
          return FrozenMap.this.size();
        }
      };
    }

    @Override
    public V get(Object key) {
      int at = indexOf(keysAndValues, keysAndValues.length, key);
      return at < 0 ? null : value(at + 1);
    }

    @Override
    public boolean containsKey(Object key) {
      return indexOf(keysAndValues, keysAndValues.length, key) >= 0;
    }

    @Override
    public int size() {
      return keysAndValues.length / 2;
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super V> action) {
      for (int i = 0; i < keysAndValues.length; i += 2) {
        action.accept(key(i), value(i + 1));
      }
    }

    private String key(int at) {
      return (String) keysAndValues[at];
    }

    @SuppressWarnings("unchecked")
    private V value(int at) {
      return (V) keysAndValues[at];
    }
  }

  /** Mutable builder for {@link SecurityEvent}; not thread-safe. */
  public static final class Builder {
    private final EventType type;
    private final Instant time;
    private String id;
    private String host = "";
    private Integer pid;
    private Executable exe;
    private String reason = "";
    private final Pairs<ScopeCoverage> coverage = new Pairs<>(8);
    private long count = 1;
    private Instant firstSeen;
    private Instant lastSeen;
    private final List<EventFinding> findings = new ArrayList<>();
    private final Pairs<Object> details = new Pairs<>(4);

    private Builder(EventType type, Instant time) {
      this.type = Objects.requireNonNull(type, "type");
      this.time = Objects.requireNonNull(time, "time");
    }

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder host(String host) {
      this.host = host;
      return this;
    }

    public Builder pid(Integer pid) {
      this.pid = pid;
      return this;
    }

    public Builder exe(String path, long dev, long ino, String sha256) {
      this.exe = new Executable(path, dev, ino, sha256);
      return this;
    }

    public Builder reason(String reason) {
      this.reason = reason;
      return this;
    }

    public Builder coverage(String scope, String status, String reason) {
      coverage.put(scope, new ScopeCoverage(status, reason));
      return this;
    }

    public Builder count(long count) {
      this.count = count;
      return this;
    }

    public Builder firstSeen(Instant firstSeen) {
      this.firstSeen = firstSeen;
      return this;
    }

    public Builder lastSeen(Instant lastSeen) {
      this.lastSeen = lastSeen;
      return this;
    }

    public Builder finding(String type, String scope, String reason, Map<String, String> detail) {
      findings.add(new EventFinding(type, scope, reason, detail));
      return this;
    }

    public Builder detail(String key, Object value) {
      details.put(key, value);
      return this;
    }

    public SecurityEvent build() {
      return new SecurityEvent(
          id == null ? EventIds.next(time) : id,
          type,
          time,
          host,
          pid,
          exe,
          reason,
          coverage.frozen(),
          count,
          firstSeen,
          lastSeen,
          findings,
          details.frozen());
    }
  }
}
