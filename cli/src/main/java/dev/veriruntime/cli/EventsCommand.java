package dev.veriruntime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.ApiServer;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.ingest.EventSource;
import dev.veriruntime.ingest.KernelSupport;
import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.ProbeException;
import dev.veriruntime.ingest.ProbeSettings;
import dev.veriruntime.ingest.ProbeSpec;
import dev.veriruntime.ingest.ProcScanner;
import dev.veriruntime.ingest.event.LostEvent;
import dev.veriruntime.ingest.event.RuntimeEvent;
import dev.veriruntime.sinks.EventJson;
import dev.veriruntime.sinks.console.ConsoleSink;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;

/**
 * {@code veriruntime events}, two things:
 *
 * <ul>
 *   <li>{@code --follow}: prints the running agent's events (its alerts: UNKNOWN_EXECUTION,
 *       RUNTIME_DRIFT, ...) through its gRPC socket, each with its journal sequence number; {@code
 *       --since SEQ} replays what the journal kept after SEQ first, {@code --type} filters. A
 *       stream the agent cut off because this reader fell behind is resumed after the last seq.
 *   <li>otherwise: loads the probe and prints every raw runtime event (exec, mmap, ...; one per
 *       line, JSON with {@code --json}) until the duration ends or Ctrl-C. The attach report and a
 *       final count go to stderr, so stdout stays parseable. Already-running processes come first,
 *       from a /proc scan, unless {@code --no-scan}.
 * </ul>
 */
@Command(
    name = "events",
    description = {
      "Print events, of one of two kinds.",
      "%nWith --follow: the running agent's events (its alerts, as `watch` reports them), through"
          + " its gRPC socket, each with its journal sequence number; --since SEQ first replays"
          + " what the journal kept after SEQ, so a reader that reconnects misses nothing.",
      "%nWithout --follow: load the probe itself and print the raw runtime events it sees (every"
          + " exec and executable mapping, before any verification) until --duration or Ctrl-C;"
          + " needs root, no agent needed.",
      "%nExit codes: 0 done; 40 no agent answers (--follow); 41 this user may not use the"
          + " agent's socket; 20 the probe cannot run here; 21 it failed to load."
    },
    mixinStandardHelpOptions = true)
public final class EventsCommand implements Callable<Integer> {

  @Option(
      names = "--follow",
      description =
          "Print the running agent's events (alerts) through its gRPC socket until Ctrl-C, instead"
              + " of loading the probe.")
  boolean follow;

  @Option(
      names = "--since",
      paramLabel = "SEQ",
      description =
          "With --follow: first replay the events the journal kept after sequence number SEQ (0:"
              + " all it kept); you are told when it no longer holds some of them.")
  Long since;

  @Option(
      names = "--type",
      paramLabel = "TYPE",
      description =
          "With --follow: only events of this type (UNKNOWN_EXECUTION, VERIFY_FAILED,"
              + " RUNTIME_DRIFT, SELF_INTEGRITY_FAILURE, VERIFICATION_DEGRADED); repeatable.")
  List<String> types = new ArrayList<>();

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description =
          "With --follow: the agent's API socket; its gRPC socket is PATH.grpc (default:"
              + " ${DEFAULT-VALUE}).")
  Path socket = ApiServer.DEFAULT_SOCKET;

  @Option(
      names = "--duration",
      paramLabel = "D",
      converter = DurationConverter.class,
      description = "Stop after this long (e.g. 10s, 500ms, 2m, PT1H). Default: until Ctrl-C.")
  Duration duration;

  @Option(
      names = "--json",
      description =
          "One JSON object per line: raw events with a \"type\" field; with --follow"
              + " {\"seq\":N,\"event\":{...}} where the event is exactly what `watch --json` prints.")
  boolean json;

  @Option(names = "--no-scan", description = "Skip the start-up scan of already-running processes.")
  boolean noScan;

  @Option(
      names = "--ring-size",
      paramLabel = "BYTES",
      description = "Kernel ring buffer size, a power of two (default: ${DEFAULT-VALUE}).")
  int ringBytes = ProbeSettings.DEFAULT_RING_BUFFER_BYTES;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Supplier<Optional<String>> kernelUnavailable;

  public EventsCommand() {
    this(KernelSupport::unavailableReason);
  }

  /** For tests: a different answer to "can the probe run here?". */
  EventsCommand(Supplier<Optional<String>> kernelUnavailable) {
    this.kernelUnavailable = kernelUnavailable;
  }

  @Override
  public Integer call() {
    if (follow) {
      return follow();
    }
    if (since != null || !types.isEmpty()) {
      throw new CliException(ExitCodes.USAGE, "--since and --type need --follow");
    }
    Optional<String> unavailable = kernelUnavailable.get();
    if (unavailable.isPresent()) {
      throw new CliException(
          ExitCodes.KERNEL_UNSUPPORTED, "cannot load the probe here: " + unavailable.get());
    }
    ProbeSettings settings;
    try {
      settings = ProbeSettings.forCurrentProcess().withRingBufferBytes(ringBytes);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "--ring-size: " + e.getMessage());
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Probe probe = load(settings);
    // Ctrl-C: closing the probe completes the event stream, so the loop below ends cleanly.
    Thread closer = new Thread(probe::close, "veriruntime-events-shutdown");
    Runtime.getRuntime().addShutdownHook(closer);
    AtomicLong printed = new AtomicLong();
    AtomicLong lost = new AtomicLong();
    try {
      err.println(probe.attachReport().describe());
      err.flush();
      Flux<RuntimeEvent> live = EventSource.live(probe);
      Flux<RuntimeEvent> events =
          noScan ? live : Flux.concat(EventSource.startupScan(new ProcScanner()), live);
      if (duration != null) {
        events = events.take(duration);
      }
      ObjectMapper mapper = mapper();
      events
          .doOnNext(
              event -> {
                if (event instanceof LostEvent l) {
                  lost.addAndGet(l.total());
                }
                out.println(json ? toJson(mapper, event) : event.toString());
                out.flush();
                printed.incrementAndGet();
              })
          .blockLast();
    } finally {
      probe.close();
      try {
        Runtime.getRuntime().removeShutdownHook(closer);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run: nothing to remove
      }
    }
    err.printf(Locale.ROOT, "%d events, %d lost%n", printed.get(), lost.get());
    err.flush();
    return ExitCodes.OK;
  }

  /** {@code --follow}: the agent's events until Ctrl-C or the agent stops. */
  private int follow() {
    if (since != null && since < 0) {
      throw new CliException(ExitCodes.USAGE, "--since must be 0 or more, got " + since);
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean colour = !json && ConsoleSink.colourWanted(System.out);
    AtomicLong printed = new AtomicLong();
    try (AgentEvents events = AgentEvents.connect(socket)) {
      // Ctrl-C: closing ends the stream and the loop below.
      Runtime.getRuntime()
          .addShutdownHook(new Thread(events::close, "veriruntime-events-shutdown"));
      events.follow(
          since == null ? OptionalLong.empty() : OptionalLong.of(since),
          new LinkedHashSet<>(types),
          item -> {
            if (item instanceof EventFeed.Event e) {
              out.println(json ? followJson(e) : "#" + e.seq() + " " + human(e, colour));
              out.flush();
              printed.incrementAndGet();
            } else if (item instanceof EventFeed.Gap g) {
              err.println("veriruntime: " + g.reason());
              err.flush();
            } else if (item instanceof EventFeed.Live l) {
              err.println(
                  "veriruntime: following "
                      + events.socket()
                      + (since == null
                          ? ""
                          : " (replayed through seq " + l.replayedThrough() + ")"));
              err.flush();
            }
          },
          notice -> {
            err.println("veriruntime: " + notice);
            err.flush();
          });
    } catch (ApiException e) {
      throw ExitCodes.failure(e);
    }
    err.printf(Locale.ROOT, "%d events; the agent ended the stream%n", printed.get());
    err.flush();
    return ExitCodes.OK;
  }

  /** {@code {"seq":N,"event":{...}}} on one line, the event as the agent sent it. */
  private static String followJson(EventFeed.Event e) {
    ObjectMapper mapper = EventJson.mapper();
    ObjectNode line = mapper.createObjectNode();
    line.put("seq", e.seq());
    try {
      line.set("event", mapper.readTree(e.json()));
      return mapper.writeValueAsString(line);
    } catch (JsonProcessingException malformed) {
      throw new CliException(
          ExitCodes.INTERNAL,
          "the agent sent an event that is not JSON: " + malformed.getMessage());
    }
  }

  private static String human(EventFeed.Event e, boolean colour) {
    try {
      return ConsoleSink.render(EventJson.fromJson(e.json()), colour);
    } catch (java.io.UncheckedIOException notAnEvent) {
      return e.type() + " " + e.json();
    }
  }

  private static Probe load(ProbeSettings settings) {
    ProbeSpec probeSpec;
    try {
      probeSpec = ProbeSpec.veriRuntime();
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      throw new CliException(ExitCodes.PROBE_FAILED, e.getMessage(), e);
    }
    try {
      return Probe.load(probeSpec, settings);
    } catch (ProbeException e) {
      throw new CliException(ExitCodes.PROBE_FAILED, e.getMessage(), e);
    }
  }

  static ObjectMapper mapper() {
    ObjectMapper mapper = EventJson.newMapper();
    // Optional<ExecutableFile> as the value or null; paths as plain strings, not file:// URIs.
    mapper.registerModule(new Jdk8Module());
    mapper.registerModule(
        new SimpleModule().addSerializer(Path.class, ToStringSerializer.instance));
    return mapper;
  }

  /** {@code {"type":"ExecEvent", ...record components}} on one line. */
  static String toJson(ObjectMapper mapper, RuntimeEvent event) {
    ObjectNode node = mapper.createObjectNode();
    node.put("type", event.getClass().getSimpleName());
    node.setAll((ObjectNode) mapper.valueToTree(event));
    try {
      return mapper.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise " + event.getClass().getSimpleName(), e);
    }
  }
}
