package dev.veriruntime.pipeline;

import dev.veriruntime.sinks.EventIds;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.sinks.SecurityEvent.Incident;
import dev.veriruntime.sinks.SecurityEvent.IncidentState;
import dev.veriruntime.verifier.FileIdentity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

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
 * (synchronized; called once per anomaly and once per tick; per exec only as {@link #offerRepeat},
 * which costs a counter).
 *
 * <p>{@link #nextDue} says when a {@link #tick} next has work, so the caller ticks then rather than
 * on a fixed short period (each tick is a timer wake-up, paid all day on an idle host); what an
 * offer adds earlier than that is told to the {@link #onSooner} listeners.
 */
public final class IncidentBook {
  /**
   * Detail naming who asked for the verification behind a finding (an alert's source and rule): the
   * first finding of each asker in an incident is reported, repeats are counted.
   */
  public static final String ASKED_BY = "askedBy";

  /** Source of findings made as they happen (exec, mapping, syscall), not by a later check. */
  public static final String LIVE = "live";

  /**
   * Default window of a group that holds an act: the target of a memory write is verified at once
   * (measured 6–27 ms after the write on a loaded 2-core host), so its changed code still joins the
   * write's first event.
   */
  public static final Duration DEFAULT_ACT_WINDOW = Duration.ofMillis(200);

  /** Default reminder delays: 1 min, 10 min, 1 h, then daily. */
  public static final List<Duration> DEFAULT_REMINDERS =
      List.of(
          Duration.ofMinutes(1), Duration.ofMinutes(10), Duration.ofHours(1), Duration.ofDays(1));

  /**
   * Findings ({@code details.finding}) that are an act seen as it happens rather than a state found
   * by a check: their group is reported after {@link Settings#actWindow}, so the first report of a
   * write into running code comes within a fraction of a second.
   */
  public static final Set<String> ACTS = Set.of("CODE_INJECTION_ATTEMPT", "MAPPED_FILE_WRITTEN");

  /**
   * Detail of a finding made by the verification an act triggered at once (its value: the act's
   * technique). It is the act's consequence, so its group is timed like the act's: the changed code
   * found after the act's first report follows as an {@code UPDATED} report within an act window,
   * not a group window.
   */
  public static final String VERIFIED_AFTER = "verifiedAfter";

  /**
   * @param groupWindow findings about one process within this time of the first are one event
   * @param actWindow the same for a group that holds an act ({@link #ACTS}); at most {@code
   *     groupWindow}
   * @param reminders delays from opening to the first reminder, then between reminders; the last
   *     repeats
   * @param livenessPeriod how often open incidents' processes are checked for their end
   * @param maxIncidents open incidents and pending groups kept at most
   * @param selfPid the agent's own pid (its process is never an incident's subject); 0 for none
   */
  public record Settings(
      Duration groupWindow,
      Duration actWindow,
      List<Duration> reminders,
      Duration livenessPeriod,
      int maxIncidents,
      long selfPid) {
    public Settings {
      if (groupWindow.isNegative()
          || actWindow.isNegative()
          || actWindow.compareTo(groupWindow) > 0
          || maxIncidents < 1) {
        throw new IllegalArgumentException("bad incident settings");
      }
      reminders = new Reminders(reminders).delays();
    }

    /** 1 s groups, 200 ms for acts, the default reminders, liveness checked every second. */
    public static Settings defaults(int maxIncidents, long selfPid) {
      return new Settings(
          Duration.ofSeconds(1),
          DEFAULT_ACT_WINDOW,
          DEFAULT_REMINDERS,
          Duration.ofSeconds(1),
          maxIncidents,
          selfPid);
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
    final GroupKey key;
    final long order;
    final Instant started;
    Instant lastAdded;
    boolean act;
    // When the tick looks at this group next: its due time when it was last queued.
    Instant checkAt;
    final List<SecurityEvent> events = new ArrayList<>();

    Group(GroupKey key, long order, Instant started) {
      this.key = key;
      this.order = order;
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
  private final Reminders reminders;
  private final ProcessLiveness liveness;
  private final Map<GroupKey, Group> pending = new LinkedHashMap<>();
  // The pending groups by the time they may be due, so that a tick visits only those (an exec storm
  // keeps thousands pending); entries of groups reported or absorbed meanwhile are skipped.
  private final PriorityQueue<Group> byCheck =
      new PriorityQueue<>(Comparator.comparing((Group g) -> g.checkAt));
  private long groupsStarted;
  private final Duration groupLimit;
  private final Duration actLimit;
  private final Map<IncidentKey, Open> open = new LinkedHashMap<>();
  // Execs of an executable whose last exec was reported resolved at once (an exec storm): counted
  // as they come and settled a group window later, without building an event (see offerRepeat).
  private final Map<ExecKey, Repeated> repeated = new HashMap<>();
  // Keys with counted processes not reported yet, in the order they were first counted.
  private final Set<Repeated> unreported = new LinkedHashSet<>();
  private final ArrayDeque<Repeat> repeats = new ArrayDeque<>();
  private final Map<Integer, Repeat> repeatByPid = new HashMap<>();
  // Where the execs of a repeated key are counted once they are (see countExecsIn), and the keys
  // whose file the kernel counts (one key per file: two paths of one file are counted once).
  private MappingFilter kernel = MappingFilter.NONE;
  private final Map<FileIdentity, Repeated> inKernel = new HashMap<>();
  private Instant lastLivenessCheck = Instant.MIN;
  private final List<Consumer<Instant>> sooner = new CopyOnWriteArrayList<>();
  private long selfSuppressed;
  private long overflow;
  private long resolved;

  public IncidentBook(Settings settings, ProcessLiveness liveness) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.reminders = new Reminders(settings.reminders());
    this.liveness = Objects.requireNonNull(liveness, "liveness");
    this.groupLimit = settings.groupWindow().multipliedBy(MAX_GROUP_WINDOWS);
    this.actLimit = settings.actWindow().multipliedBy(MAX_GROUP_WINDOWS);
  }

  /**
   * What makes two execs "the same" before an event is built: the event type their executable's
   * check gives, its digest and the path it ran from (what the aggregation folds by).
   */
  public record ExecKey(EventType type, String sha256, String path) {
    public ExecKey {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(sha256, "sha256");
      Objects.requireNonNull(path, "path");
    }

    /**
     * The key of {@code e} when it is the plain finding about an exec (its executable and nothing
     * else: no grouped items, no named finding, no check or asker), else null.
     */
    static ExecKey of(SecurityEvent e) {
      if (e.exe() == null
          || e.exe().sha256() == null
          || e.exe().path() == null
          || !"exec".equals(e.details().get(Grouping.OBSERVED))
          || e.details().containsKey(Grouping.ITEMS)
          || !FoldKeys.plain(e)) {
        return null;
      }
      return new ExecKey(e.type(), e.exe().sha256(), e.exe().path());
    }
  }

  /**
   * An exec of a repeated key, counted; {@code event} builds its event if it is needed after all.
   */
  private record Repeat(
      Repeated key, int pid, Instant time, BooleanSupplier ended, Supplier<SecurityEvent> event) {}

  /** A key whose execs are counted, and the processes counted since the last report. */
  private static final class Repeated {
    final SecurityEvent template;
    Instant lastOffered;

    /** The file whose execs the kernel counts for this key, or null. */
    FileIdentity inKernel;

    /** The kernel's count at its last read, and when that read was. */
    long kernelExecs;

    Instant kernelReadAt;

    /** When its counted processes were last reported; null before the first report. */
    Instant reportedAt;

    long count;
    Instant first;
    Instant last;
    final List<Integer> pids = new ArrayList<>();

    Repeated(SecurityEvent template, Instant now) {
      this.template = template;
      this.lastOffered = now;
    }

    /**
     * {@code n} execs between {@code first} and {@code last}, the latest by {@code pid}: one
     * counted here, or those the kernel counted since its last read.
     */
    void add(long n, Instant first, Instant last, int pid) {
      if (count == 0) {
        this.first = first;
        this.last = last;
      }
      count += n;
      this.first = first.isBefore(this.first) ? first : this.first;
      this.last = last.isAfter(this.last) ? last : this.last;
      if (pids.size() < MAX_SAMPLED_PIDS && !pids.contains(pid)) {
        pids.add(pid);
      }
    }

    /**
     * The processes counted since the last report, as one event that the aggregation folds like
     * their own resolved events: their count, first and last exec, and a sample of their pids.
     */
    SecurityEvent report(Instant now) {
      reportedAt = now;
      String id = EventIds.next(now);
      Map<String, Object> details = new LinkedHashMap<>(template.details());
      // The first process's own context: not theirs.
      details.remove("parents");
      details.remove("cgroupId");
      details.put(PIDS, List.copyOf(pids));
      SecurityEvent batch =
          new SecurityEvent(
              id,
              template.type(),
              now,
              template.host(),
              pids.get(0),
              template.exe(),
              template.reason(),
              template.coverage(),
              count,
              first,
              last,
              template.findings(),
              details,
              new Incident(
                  id, IncidentState.RESOLVED, first, count, count, null, "process exited"));
      count = 0;
      pids.clear();
      return batch;
    }
  }

  /** Pids an event about counted execs names at most ({@link #PIDS}). */
  static final int MAX_SAMPLED_PIDS = 16;

  /** Detail key of the pids sampled from counted execs. */
  public static final String PIDS = "pids";

  /**
   * Counts an exec instead of building its event, when an exec of {@code key} was offered within
   * the last group window or reported resolved (an exec storm of an unknown binary, from its second
   * exec on): true when counted. A group window later the exec is settled: if its process has ended
   * (as it had for the reported one), it is counted into one event per key and group window (count,
   * first and last exec, sampled pids) that the aggregation folds as it would fold each process's
   * resolved event; if it still runs, or another finding about it arrives first, its event is built
   * by {@code event} then and grouped as any other. False (build the event and offer it) for a key
   * not counted now, the agent's own process, a process counted already, or when {@link
   * Settings#maxIncidents} execs wait already.
   *
   * <p>With a kernel that counts execs ({@link #countExecsIn}), the key's next execs of {@code
   * file} are counted there from the first one counted here: they send no record, and each tick
   * adds the kernel's count to the key's; a process that lives on is adopted from {@code /proc} and
   * reported as a running process of its own. The kernel stops counting when the key is no longer
   * counted (a group window without an exec).
   *
   * @param file the kernel identity of the executable, or null
   * @param ended true when the process is known to have ended (its exit was seen), so that {@code
   *     /proc} is read only for the others
   */
  public synchronized boolean offerRepeat(
      ExecKey key,
      FileIdentity file,
      int pid,
      Instant time,
      BooleanSupplier ended,
      Supplier<SecurityEvent> event) {
    Repeated r = repeated.get(key);
    if (r == null
        || repeats.size() >= settings.maxIncidents()
        || pid == settings.selfPid()
        || repeatByPid.containsKey(pid)
        || pending.containsKey(new GroupKey(pid, key.type(), LIVE))) {
      return false;
    }
    Repeat counted = new Repeat(r, pid, time, ended, event);
    repeats.add(counted);
    repeatByPid.put(pid, counted);
    r.lastOffered = time;
    dueBy(onGrid(time.plus(settings.groupWindow())));
    if (r.inKernel == null
        && file != null
        && !inKernel.containsKey(file)
        && kernel.countExecs(file)) {
      inKernel.put(file, r);
      r.inKernel = file;
      r.kernelExecs = 0;
      r.kernelReadAt = time;
    }
    return true;
  }

  /** Whether the kernel counts the execs of {@code file} for a repeated key now. */
  public synchronized boolean countsInKernel(FileIdentity file) {
    return inKernel.containsKey(file);
  }

  /**
   * Lets the book have the execs of a repeated key counted in the kernel (see {@link
   * #offerRepeat}); {@code kernel} must not throw.
   */
  public synchronized void countExecsIn(MappingFilter kernel) {
    this.kernel = Objects.requireNonNull(kernel, "kernel");
  }

  /**
   * Adds what the kernel counted for {@code r} since the last read. The first exec of a read's
   * count is known exactly only in the first read; later, the previous read bounds it.
   */
  private void readKernelCount(Repeated r, Instant now) {
    Optional<MappingFilter.ExecCount> read = kernel.execCount(r.inKernel);
    if (read.isEmpty()) {
      inKernel.remove(r.inKernel);
      r.inKernel = null; // evicted or reset: its execs are reported again
      return;
    }
    MappingFilter.ExecCount c = read.get();
    long n = c.execs() - r.kernelExecs;
    Instant since = r.kernelReadAt;
    r.kernelReadAt = now;
    if (n <= 0) {
      return;
    }
    Instant first = r.kernelExecs == 0 ? c.first() : n == 1 ? c.last() : since;
    r.kernelExecs = c.execs();
    r.add(n, first, c.last(), c.lastPid());
    r.lastOffered = c.last().isAfter(r.lastOffered) ? c.last() : r.lastOffered;
    unreported.add(r);
    resolved += n;
  }

  /**
   * After {@code merged} was offered, or reported resolved at once: its key's next execs are
   * counted.
   */
  private void countRepeatsOf(SecurityEvent merged, Instant now) {
    ExecKey key = ExecKey.of(merged);
    if (key != null && repeated.size() < settings.maxIncidents()) {
      repeated.computeIfAbsent(key, k -> new Repeated(merged, now)).lastOffered = now;
    }
  }

  /**
   * Settles the counted execs a group window old ({@code all}: every one, at shutdown), reports the
   * counts of each key at most once per group window (and before it stops counting the key), and
   * stops counting keys without an exec for a group window. A report per key and tick cost a storm
   * 20 events a second per binary, each folded by the aggregation, on the timer's thread.
   */
  private void settleRepeats(Instant now, boolean all, List<SecurityEvent> out) {
    Instant dueBefore = now.minus(settings.groupWindow());
    while (!repeats.isEmpty() && (all || !repeats.peek().time().isAfter(dueBefore))) {
      Repeat r = repeats.poll();
      if (repeatByPid.get(r.pid()) != r) {
        continue; // grouped with another finding about its process meanwhile
      }
      repeatByPid.remove(r.pid());
      if (r.ended().getAsBoolean() || liveness.startTicks(r.pid()).isEmpty()) {
        r.key().add(1, r.time(), r.time(), r.pid());
        unreported.add(r.key());
        resolved++;
      } else {
        out.addAll(group(r.event().get(), r.time())); // still runs: an incident of its own
      }
    }
    for (Repeated r : List.copyOf(inKernel.values())) {
      readKernelCount(r, now);
    }
    for (Iterator<Repeated> it = unreported.iterator(); it.hasNext(); ) {
      Repeated r = it.next();
      boolean expiring = r.lastOffered.isBefore(dueBefore); // no longer counted after this tick
      // The kernel's counts come at once: held for a group window, like the execs counted here,
      // so that a storm's first exec is reported first.
      boolean settled = !r.first.isAfter(dueBefore);
      if (all
          || expiring
          || (settled && (r.reportedAt == null || !r.reportedAt.isAfter(dueBefore)))) {
        out.add(r.report(now));
        it.remove();
      }
    }
    for (Iterator<Repeated> it = repeated.values().iterator(); it.hasNext(); ) {
      Repeated r = it.next();
      if (r.lastOffered.isBefore(dueBefore)) {
        it.remove();
        if (r.inKernel != null) {
          // Read just before: an exec between that read and this call is counted only in the
          // probe's totals (a group window passed without one).
          kernel.stopCounting(r.inKernel);
          inKernel.remove(r.inKernel);
        }
      }
    }
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
    Repeat counted = repeatByPid.remove(e.pid());
    if (counted == null) {
      // The first exec of a storm: the next execs of its binary are counted from now on, not only
      // after its own report (a group window of full events at each storm's start otherwise).
      countRepeatsOf(e, now);
      return group(e, now);
    }
    // Something else about a process whose exec was only counted: its exec joins the group.
    List<SecurityEvent> out = new ArrayList<>(group(counted.event().get(), counted.time()));
    out.addAll(group(e, now));
    return out;
  }

  private List<SecurityEvent> group(SecurityEvent e, Instant now) {
    GroupKey key = new GroupKey(e.pid(), e.type(), sourceOf(e));
    Group g = pending.get(key);
    if (g == null) {
      if (pending.size() + open.size() + repeats.size() >= settings.maxIncidents()) {
        overflow++;
        return List.of(e);
      }
      g = new Group(key, groupsStarted++, now);
      pending.put(key, g);
      g.checkAt = dueAt(g);
      byCheck.add(g);
      dueBy(g.checkAt);
    }
    g.events.add(e);
    g.lastAdded = now;
    boolean act =
        ACTS.contains(Objects.toString(e.details().get("finding"), ""))
            || e.details().containsKey(VERIFIED_AFTER);
    if (act && !g.act) {
      // Its window shrinks: queued again at its earlier time (rare: acts are few).
      g.act = true;
      byCheck.remove(g);
      g.checkAt = dueAt(g);
      byCheck.add(g);
      dueBy(g.checkAt);
    }
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
        dueBy(Instant.MIN);
      }
    }
  }

  /**
   * When {@link #tick} next has something to do, as far as the book knows: the earliest pending
   * group's time, a counted exec's or key's settling or expiry, the next liveness check or reminder
   * while incidents are open (now, when a condition cleared); null when nothing waits. The kernel's
   * counts are read by the ticks that come for these (at least once a group window while a key is
   * counted: its expiry), so they need no tick of their own. All but the groups, reminders and
   * cleared conditions are rounded up to the grid of {@link #onGrid}.
   */
  public synchronized Instant nextDue() {
    Duration window = settings.groupWindow();
    Instant due = byCheck.isEmpty() ? null : byCheck.peek().checkAt;
    // Counted execs, the keys' reports and expiry, and the liveness check are not alerts: they
    // wait for the grid (see onGrid), so that a storm of several binaries ticks the book a few
    // times a second, not once per binary.
    Instant bookkeeping = repeats.isEmpty() ? null : repeats.peek().time().plus(window);
    // The earliest of each kind first, then the window added once: a storm's counted keys are
    // many, and this runs after every tick.
    Instant settles = null;
    for (Repeated r : unreported) {
      Instant from = r.reportedAt != null && r.reportedAt.isAfter(r.first) ? r.reportedAt : r.first;
      settles = earlier(settles, from);
    }
    if (settles != null) {
      bookkeeping = earlier(bookkeeping, settles.plus(window));
    }
    Instant lastOffered = null;
    for (Repeated r : repeated.values()) {
      lastOffered = earlier(lastOffered, r.lastOffered);
    }
    if (lastOffered != null) {
      // A key expires strictly after a window without an exec.
      bookkeeping = earlier(bookkeeping, lastOffered.plus(window).plusNanos(1));
    }
    for (Open o : open.values()) {
      due = earlier(due, o.clearedBy != null ? Instant.MIN : o.nextReminder);
    }
    if (!open.isEmpty()) {
      bookkeeping = earlier(bookkeeping, lastLivenessCheck.plus(settings.livenessPeriod()));
    }
    return bookkeeping == null ? due : earlier(due, onGrid(bookkeeping));
  }

  /**
   * {@code t} rounded up to the next multiple of half a group window since the epoch: the ticks for
   * counted execs and liveness, whenever each came due, fall on a few shared instants per window.
   * Each such tick reads the kernel's counts of every counted key and the liveness of every open
   * incident, so eight binaries in a storm made eight ticks a second doing eight reads each; on the
   * grid they make two, and a count or a resolution is reported at most half a window later.
   */
  private Instant onGrid(Instant t) {
    long grid = settings.groupWindow().toMillis() / 2;
    if (grid <= 0 || t.isBefore(Instant.EPOCH)) {
      return t;
    }
    long ms = t.toEpochMilli() + (t.getNano() % 1_000_000 == 0 ? 0 : 1);
    long up = Math.floorMod(-ms, grid);
    return Instant.ofEpochMilli(ms + up);
  }

  /**
   * Adds {@code listener}, told (with the time, {@link Instant#MIN} for "now") whenever an offer or
   * {@link #checkPassed} gives the book something due, so that it can tick sooner than {@link
   * #nextDue} said before. Called while the book is locked: it must not call back into the book.
   */
  public void onSooner(Consumer<Instant> listener) {
    sooner.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes a listener added by {@link #onSooner}. */
  public void removeSooner(Consumer<Instant> listener) {
    sooner.remove(listener);
  }

  private void dueBy(Instant at) {
    for (Consumer<Instant> l : sooner) {
      l.accept(at);
    }
  }

  private static Instant earlier(Instant a, Instant b) {
    return a == null || b.isBefore(a) ? b : a;
  }

  /**
   * Reports groups whose window ended, resolves incidents whose process ended or whose condition
   * cleared, and sends the reminders that are due.
   */
  public List<SecurityEvent> tick(Instant now) {
    List<Group> due;
    synchronized (this) {
      due = dueGroups(now);
      due.forEach(g -> pending.remove(g.key));
    }
    // Merging a group and reading whether its process still runs take time but no state of the
    // book (a due group is offered nothing more), so they happen outside it: the ring reader offers
    // every exec to the book, and waited 15-25 ms while a group of 12 was merged (its code cold).
    return reportAndSettle(now, due.stream().map(this::prepare).toList());
  }

  /** A due group, merged, with its process's start time read then (empty: it ended). */
  private record DueGroup(Group group, SecurityEvent merged, OptionalLong start) {}

  private DueGroup prepare(Group g) {
    SecurityEvent merged = Grouping.merge(g.events);
    return new DueGroup(g, merged, liveness.startTicks(merged.pid()));
  }

  private synchronized List<SecurityEvent> reportAndSettle(Instant now, List<DueGroup> due) {
    List<SecurityEvent> out = new ArrayList<>();
    for (DueGroup d : due) {
      report(d, now).ifPresent(out::add);
    }
    settleRepeats(now, false, out); // after the due groups: a storm's first exec is reported first
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
    settleRepeats(now, true, out);
    for (Group g : pending.values()) {
      report(prepare(g), now).ifPresent(out::add);
    }
    pending.clear();
    byCheck.clear();
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
   * one moment may trail one another on a busy host), or after {@link #MAX_GROUP_WINDOWS} windows;
   * the window of a group that holds an act is the act window.
   */
  private Instant dueAt(Group g) {
    Instant quiet = g.lastAdded.plus(g.act ? settings.actWindow() : settings.groupWindow());
    Instant limit = g.started.plus(g.act ? actLimit : groupLimit);
    return quiet.isBefore(limit) ? quiet : limit;
  }

  /**
   * The pending groups due by {@code now}, in the order they started (as a scan of all of them
   * would find them); a group that was added to since it was queued is queued again at its new
   * time.
   */
  private List<Group> dueGroups(Instant now) {
    List<Group> due = new ArrayList<>();
    while (!byCheck.isEmpty() && !byCheck.peek().checkAt.isAfter(now)) {
      Group g = byCheck.poll();
      if (pending.get(g.key) != g) {
        continue; // reported or absorbed already
      }
      Instant at = dueAt(g);
      if (at.isAfter(now)) {
        g.checkAt = at;
        byCheck.add(g);
      } else {
        due.add(g);
      }
    }
    due.sort(Comparator.comparingLong(g -> g.order));
    return due;
  }

  private boolean hasCleared() {
    return open.values().stream().anyMatch(o -> o.clearedBy != null);
  }

  private java.util.Optional<SecurityEvent> report(DueGroup d, Instant now) {
    Group g = d.group();
    SecurityEvent merged = d.merged();
    int pid = merged.pid();
    OptionalLong start = d.start();
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
      countRepeatsOf(merged, now);
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
    Set<String> items = new LinkedHashSet<>(); // not needed for a process that ended
    g.events.forEach(e -> items.add(Grouping.itemKey(e)));
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
    Instant next = now.plus(reminders.after(0));
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
      Duration delay = reminders.after(++o.reminder);
      o.nextReminder = o.nextReminder.plus(delay);
      if (!o.nextReminder.isAfter(now)) {
        o.nextReminder = now.plus(delay);
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
