package dev.veriruntime.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
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
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import reactor.core.publisher.Flux;

/**
 * {@code veriruntime events}: loads the probe and prints every raw runtime event (one per line,
 * JSON with {@code --json}) until the duration ends or Ctrl-C. The attach report (what attached,
 * what the kernel refused and why) and a final count go to stderr, so stdout stays parseable.
 * Already-running processes come first, from a /proc scan, unless {@code --no-scan}.
 */
@Command(
    name = "events",
    description = "Load the probe and print raw runtime events until --duration or Ctrl-C.",
    mixinStandardHelpOptions = true)
public final class EventsCommand implements Callable<Integer> {

  @Option(
      names = "--duration",
      paramLabel = "D",
      converter = DurationConverter.class,
      description = "Stop after this long (e.g. 10s, 500ms, 2m, PT1H). Default: until Ctrl-C.")
  Duration duration;

  @Option(names = "--json", description = "One JSON object per line, with a \"type\" field.")
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
