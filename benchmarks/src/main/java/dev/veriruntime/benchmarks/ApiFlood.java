package dev.veriruntime.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.veriruntime.api.ApiJson;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Many API clients at once (issue 20, "Floods"): the agent's control API under hundreds of
 * connections that never send a request (half-open) or stop half-way through one, slow readers that
 * pipeline requests and never read the answers, and a flood of malformed requests, while a probe
 * calls health every 100 ms on a fresh connection and a binary never seen before is executed.
 *
 * <p>Phases: the usual health latency (sequential calls, fresh connection each), then the flood for
 * {@code --seconds}, then the usual latency again once every flood connection is closed. Reports
 * the health latency during the flood ÷ the usual, the outcome of each probe call (answered 200,
 * refused 503, failed), whether the exec during the flood got its verdict, what the server counted
 * (its {@code veriruntime_api_*} metrics) and the agent's RSS and file descriptors before, at most
 * during, and after.
 *
 * <p>A transport is a {@link Target}: what a well-formed health call is and what the malformed
 * requests are. {@link JsonApi} is the JSON-over-HTTP API on the Unix socket; a gRPC server gets
 * its own implementation (its health call and its malformed frames) and the same phases.
 */
@Command(
    name = "api-flood",
    mixinStandardHelpOptions = true,
    description = "Flood the agent's control API with connections and malformed requests.")
public final class ApiFlood implements Callable<Integer> {

  /** One API transport under test. */
  interface Target {
    String name();

    /** One health call on a fresh connection; throws on anything but an answer. */
    void health(Duration timeout) throws Exception;

    /** The outcome of a failed health call, for counting: "refused", "timeout" or "error". */
    String classify(Exception e);

    /** Bytes that open a request and stop before its end (a client that hangs half-way). */
    byte[] partialRequest();

    /** One well-formed request whose answer is not small, for the slow readers to pipeline. */
    byte[] pipelinedRequest();

    /** The malformed requests, each sent on its own connection. */
    List<byte[]> malformed(Random random);
  }

  /** The JSON API of {@code ApiServer}: HTTP/1.1 on the Unix socket. */
  static final class JsonApi implements Target {
    private final Path socket;

    JsonApi(Path socket) {
      this.socket = socket;
    }

    @Override
    public String name() {
      return "json-api";
    }

    /**
     * GET /v1/health on a fresh connection ({@code Connection: close}), read to the end; the answer
     * must be 200 with a JSON object. A raw exchange rather than {@code ApiClient}, whose
     * per-client set-up would dominate the figure: what is measured is the server.
     */
    @Override
    public void health(Duration timeout) throws IOException {
      long deadline = System.nanoTime() + timeout.toNanos();
      try (SocketChannel c = open(socket)) {
        c.write(
            ByteBuffer.wrap(
                "GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII)));
        c.configureBlocking(false);
        java.io.ByteArrayOutputStream in = new java.io.ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (true) {
          int n = c.read(buf.clear());
          if (n < 0) {
            break;
          }
          if (n == 0) {
            if (System.nanoTime() > deadline) {
              throw new IOException("timeout");
            }
            Thread.sleep(1);
          }
          in.write(buf.array(), 0, buf.position());
        }
        String text = in.toString(StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || end < 0) {
          throw new IOException(text.isEmpty() ? "closed without an answer" : "not HTTP");
        }
        int status = Integer.parseInt(text.substring(9, 12));
        if (status != 200) {
          throw new IOException("status " + status);
        }
        if (!ApiJson.mapper().readTree(text.substring(end + 4)).isObject()) {
          throw new IOException("not a JSON object");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }

    @Override
    public String classify(Exception e) {
      return String.valueOf(e.getMessage());
    }

    @Override
    public byte[] partialRequest() {
      return "GET /v1/heal".getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public byte[] pipelinedRequest() {
      return "GET /v1/state HTTP/1.1\r\nHost: localhost\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public List<byte[]> malformed(Random random) {
      byte[] garbage = new byte[512];
      random.nextBytes(garbage);
      byte[] longLine = new byte[16_384];
      Arrays.fill(longLine, (byte) 'a');
      String hugeHeader = "X-Big: " + "b".repeat(16_384);
      return List.of(
          garbage,
          ("GET /" + new String(longLine, StandardCharsets.US_ASCII) + " HTTP/1.1\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII),
          ("GET /v1/health HTTP/1.1\r\nHost: x\r\n" + hugeHeader + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII),
          "POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
              .getBytes(StandardCharsets.US_ASCII),
          "GET /v1/process/notapid HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          "GET /v1/no/such/route HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          "GET /v1/binary?path=relative HTTP/1.1\r\nHost: x\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII),
          "GET /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
              .getBytes(StandardCharsets.US_ASCII),
          "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          // a TLS ClientHello's first bytes
          new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03},
          "GET /v1/health\0 HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
          "\r\n\r\n\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Option(names = "--seconds", description = "Length of the flood (default 20).")
  int seconds = 20;

  @Option(names = "--idle", description = "Connections that never send anything (default 300).")
  int idle = 300;

  @Option(names = "--partial", description = "Connections that stop half-way (default 100).")
  int partial = 100;

  @Option(
      names = "--slow-readers",
      description = "Connections that pipeline requests and never read (default 20).")
  int slowReaders = 20;

  @Option(names = "--malformed-threads", description = "Malformed-request senders (default 4).")
  int malformedThreads = 4;

  @Option(names = "--usual-calls", description = "Health calls before and after (default 100).")
  int usualCalls = 100;

  @Option(names = "--root", description = "The source tree (default: .).")
  Path root = Path.of(".");

  @Option(
      names = "--agent",
      split = " ",
      description = "The command that runs the CLI (default: ROOT/bin/veriruntime).")
  List<String> agent;

  @Option(names = "--out", description = "Directory for api-flood.json and api-flood.md.")
  Path out;

  /** Latency figures of a set of health calls, in ms. */
  record Latency(int calls, int answered, double p50Ms, double p99Ms, double maxMs) {
    static Latency of(List<Double> ms, int calls) {
      if (ms.isEmpty()) {
        return new Latency(calls, 0, Double.NaN, Double.NaN, Double.NaN);
      }
      List<Double> sorted = new ArrayList<>(ms);
      Collections.sort(sorted);
      return new Latency(
          calls,
          sorted.size(),
          quantile(sorted, 0.5),
          quantile(sorted, 0.99),
          sorted.get(sorted.size() - 1));
    }

    private static double quantile(List<Double> sorted, double q) {
      int i = (int) Math.ceil(q * sorted.size()) - 1;
      return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
  }

  /** What one flood measured. */
  record Result(
      String target,
      String loadStart,
      String loadEnd,
      int seconds,
      int idleConnections,
      int partialConnections,
      int slowReaders,
      long idleOpened,
      long partialOpened,
      long floodConnectsFailed,
      long slowReaderRequestsWritten,
      long malformedSent,
      Map<String, Long> malformedAnswers,
      Latency usualBefore,
      Latency duringFlood,
      Map<String, Long> probeOutcomes,
      Latency usualAfter,
      boolean execVerdictDuringFlood,
      double execVerdictSeconds,
      Map<String, Double> serverCounters,
      long rssBeforeKiB,
      long rssMaxKiB,
      long rssAfterKiB,
      long fdsBefore,
      long fdsMax,
      long fdsAfter,
      long threadsBefore,
      long threadsAfter) {
    double p50Ratio() {
      return duringFlood.p50Ms() / usualBefore.p50Ms();
    }

    double p99Ratio() {
      return duringFlood.p99Ms() / usualBefore.p99Ms();
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public static void main(String[] args) {
    System.exit(ChildProcesses.execute("api-flood", new ApiFlood(), args));
  }

  @Override
  public Integer call() throws Exception {
    Result r = run();
    System.err.println("api-flood: " + summary(r));
    if (out != null) {
      Files.createDirectories(out);
      json.writeValue(out.resolve("api-flood.json").toFile(), r);
      Files.writeString(out.resolve("api-flood.md"), markdown(r, Instant.now()));
      System.err.println("api-flood: wrote " + out.resolve("api-flood.md"));
    }
    return r.execVerdictDuringFlood() ? 0 : 1;
  }

  Result run() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("/var/tmp"), "vr-api-flood.");
    try {
      return run(dir);
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private Result run(Path dir) throws Exception {
    Path exec = root.resolve("ingest/src/test/resources/dev/veriruntime/ingest/testing/exec");
    Path child = dir.resolve("child");
    run(List.of("gcc", "-O2", "-o", child.toString(), exec.resolve("exec_child.c").toString()));
    // The binary executed during the flood: never seen before (its own trailer).
    Path fresh = dir.resolve("fresh-during-flood");
    byte[] bytes = Files.readAllBytes(child);
    byte[] trailer = ("flood-" + System.nanoTime()).getBytes(StandardCharsets.US_ASCII);
    byte[] all = Arrays.copyOf(bytes, bytes.length + trailer.length);
    System.arraycopy(trailer, 0, all, bytes.length, trailer.length);
    Files.write(fresh, all);
    fresh.toFile().setExecutable(true);

    List<String> launcher =
        agent == null || agent.isEmpty()
            ? List.of(root.resolve("bin/veriruntime").toString())
            : agent;
    try (AgentProcess p = AgentProcess.start(launcher, dir)) {
      Target target = new JsonApi(p.socket);
      p.awaitIdle();
      String loadStart = ExecStorm.loadAverage();
      long rssBefore = p.statusKiB("VmRSS:");
      long fdsBefore = p.fds();
      long threadsBefore = threads(p.pid());
      Latency before = usual(target);

      AtomicBoolean stop = new AtomicBoolean();
      List<SocketChannel> held = Collections.synchronizedList(new ArrayList<>());
      AtomicLong idleOpened = new AtomicLong();
      AtomicLong partialOpened = new AtomicLong();
      AtomicLong pipelined = new AtomicLong();
      AtomicLong malformedSent = new AtomicLong();
      AtomicLong connectFailed = new AtomicLong();
      AtomicLong probeCalls = new AtomicLong();
      Map<String, LongAdder> answers = new ConcurrentHashMap<>();
      Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
      List<Double> during = Collections.synchronizedList(new ArrayList<>());
      AtomicLong rssMax = new AtomicLong(rssBefore);
      AtomicLong fdsMax = new AtomicLong(fdsBefore);
      ExecutorService pool = Executors.newCachedThreadPool();
      long floodStart = System.nanoTime();
      long floodEnd = floodStart + TimeUnit.SECONDS.toNanos(seconds);
      // Half-open: connect and send nothing; partial: stop in the middle of the request line.
      pool.submit(
          () -> {
            for (int i = 0; i < idle + partial && !stop.get(); i++) {
              try {
                SocketChannel c = open(p.socket);
                if (i >= idle) {
                  c.write(ByteBuffer.wrap(target.partialRequest()));
                  partialOpened.incrementAndGet();
                } else {
                  idleOpened.incrementAndGet();
                }
                held.add(c);
              } catch (IOException e) {
                connectFailed.incrementAndGet();
              }
            }
            return null;
          });
      // Slow readers: pipeline requests until the socket buffer is full, never read.
      for (int i = 0; i < slowReaders; i++) {
        pool.submit(
            () -> {
              try (SocketChannel c = open(p.socket)) {
                c.configureBlocking(false);
                held.add(c);
                ByteBuffer request = ByteBuffer.wrap(target.pipelinedRequest());
                while (!stop.get()) {
                  request.rewind();
                  int n = c.write(request);
                  if (n > 0 && !request.hasRemaining()) {
                    pipelined.incrementAndGet();
                  } else {
                    Thread.sleep(50);
                  }
                }
              }
              return null;
            });
      }
      // Malformed requests, each on its own connection; the answer's status line is counted.
      for (int t = 0; t < malformedThreads; t++) {
        int seed = t;
        pool.submit(
            () -> {
              Random random = new Random(seed);
              while (!stop.get()) {
                for (byte[] request : target.malformed(random)) {
                  if (stop.get()) {
                    break;
                  }
                  String answer = sendAndReadStatus(p.socket, request);
                  malformedSent.incrementAndGet();
                  answers.computeIfAbsent(answer, k -> new LongAdder()).increment();
                }
              }
              return null;
            });
      }
      // The probe: a health call on a fresh connection every 100 ms, and the resources sampler.
      pool.submit(
          () -> {
            while (System.nanoTime() < floodEnd) {
              long t0 = System.nanoTime();
              probeCalls.incrementAndGet();
              String outcome;
              try {
                target.health(Duration.ofSeconds(5));
                during.add((System.nanoTime() - t0) / 1e6);
                outcome = "answered";
              } catch (Exception e) {
                outcome = target.classify(e);
              }
              outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
              rssMax.accumulateAndGet(p.statusKiB("VmRSS:"), Math::max);
              fdsMax.accumulateAndGet(p.fds(), Math::max);
              long rest = 100 - (System.nanoTime() - t0) / 1_000_000;
              if (rest > 0) {
                Thread.sleep(rest);
              }
            }
            return null;
          });
      // The exec during the flood, a few seconds in: its verdict must come.
      Thread.sleep(Math.min(3, seconds / 3) * 1000L);
      PrometheusScrape beforeExec = PrometheusScrape.fetch(http, p.metricsPort);
      long execAt = System.nanoTime();
      run(List.of(fresh.toString()));
      double execVerdictSeconds = awaitVerdict(p, fresh, beforeExec, execAt);
      long remaining = floodEnd - System.nanoTime();
      if (remaining > 0) {
        TimeUnit.NANOSECONDS.sleep(remaining);
      }
      stop.set(true);
      pool.shutdown();
      pool.awaitTermination(30, TimeUnit.SECONDS);
      pool.shutdownNow();
      synchronized (held) {
        for (SocketChannel c : held) {
          try {
            c.close();
          } catch (IOException ignored) {
            // closing a client socket
          }
        }
      }
      rssMax.accumulateAndGet(p.statusKiB("VmRSS:"), Math::max);
      Thread.sleep(2000); // the server sees the closes
      Latency after = usual(target);
      PrometheusScrape metrics = PrometheusScrape.fetch(http, p.metricsPort);
      Map<String, Double> server = new LinkedHashMap<>();
      metrics.samples().stream()
          .filter(s -> s.name().startsWith("veriruntime_api_"))
          .forEach(
              s ->
                  server.merge(
                      s.name() + (s.labels().isEmpty() ? "" : s.labels().toString()),
                      s.value(),
                      Double::sum));
      Result r =
          new Result(
              target.name(),
              loadStart,
              ExecStorm.loadAverage(),
              seconds,
              idle,
              partial,
              slowReaders,
              idleOpened.get(),
              partialOpened.get(),
              connectFailed.get(),
              pipelined.get(),
              malformedSent.get(),
              sorted(answers),
              before,
              Latency.of(during, (int) probeCalls.get()),
              sorted(outcomes),
              after,
              !Double.isNaN(execVerdictSeconds),
              execVerdictSeconds,
              server,
              rssBefore,
              rssMax.get(),
              p.statusKiB("VmRSS:"),
              fdsBefore,
              fdsMax.get(),
              p.fds(),
              threadsBefore,
              threads(p.pid()));
      return r;
    }
  }

  /**
   * Seconds from the exec until the agent answered it: its exec verdict count moved past the scrape
   * taken before and its stdout names the binary (an UNKNOWN_EXECUTION); NaN after 30 s.
   */
  private double awaitVerdict(AgentProcess p, Path fresh, PrometheusScrape before, long execAt)
      throws IOException, InterruptedException {
    String latency = UniqueStorm.LATENCY + "_count";
    long deadline = execAt + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      PrometheusScrape now = PrometheusScrape.fetch(http, p.metricsPort);
      if (now.sum(latency) > before.sum(latency)
          && Files.readString(p.stdout).contains(fresh.toString())) {
        return (System.nanoTime() - execAt) / 1e9;
      }
      Thread.sleep(100);
    }
    return Double.NaN;
  }

  private Latency usual(Target target) {
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < usualCalls; i++) {
      long t0 = System.nanoTime();
      try {
        target.health(Duration.ofSeconds(5));
        ms.add((System.nanoTime() - t0) / 1e6);
      } catch (Exception e) {
        // counted as not answered
      }
    }
    return Latency.of(ms, usualCalls);
  }

  private static SocketChannel open(Path socket) throws IOException {
    SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
    c.connect(UnixDomainSocketAddress.of(socket));
    return c;
  }

  /**
   * Sends {@code request}, half-closes, and returns the answer's status line (or what happened).
   */
  private static String sendAndReadStatus(Path socket, byte[] request) {
    try (SocketChannel c = open(socket)) {
      c.write(ByteBuffer.wrap(request));
      c.shutdownOutput();
      ByteBuffer in = ByteBuffer.allocate(64);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      c.configureBlocking(false);
      while (in.hasRemaining() && System.nanoTime() < deadline) {
        int n = c.read(in);
        if (n < 0) {
          break;
        }
        if (n == 0) {
          Thread.sleep(5);
        }
      }
      String head = new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII);
      if (head.isEmpty()) {
        return "closed without an answer";
      }
      int eol = head.indexOf("\r\n");
      String line = eol < 0 ? head : head.substring(0, eol);
      return line.startsWith("HTTP/1.1 ") ? line.substring(9) : "not HTTP: " + line;
    } catch (IOException e) {
      return "connect or write failed: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static long threads(long pid) throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
      return s.count();
    }
  }

  private static Map<String, Long> sorted(Map<String, LongAdder> m) {
    Map<String, Long> out = new LinkedHashMap<>();
    m.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.put(e.getKey(), e.getValue().sum()));
    return out;
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
    return output;
  }

  static String summary(Result r) {
    return String.format(
        Locale.ROOT,
        "%s: %d idle + %d partial connections, %d slow readers (%d requests pipelined), %d malformed"
            + " requests; health p50/p99 usual %.1f/%.1f ms, during %.1f/%.1f ms (ratio %.1f/%.1f),"
            + " after %.1f/%.1f ms; probe outcomes %s; exec verdict during the flood %s; RSS %d →"
            + " max %d → %d MiB, fds %d → max %d → %d; load %s → %s",
        r.target(),
        r.idleOpened(),
        r.partialOpened(),
        r.slowReaders(),
        r.slowReaderRequestsWritten(),
        r.malformedSent(),
        r.usualBefore().p50Ms(),
        r.usualBefore().p99Ms(),
        r.duringFlood().p50Ms(),
        r.duringFlood().p99Ms(),
        r.p50Ratio(),
        r.p99Ratio(),
        r.usualAfter().p50Ms(),
        r.usualAfter().p99Ms(),
        r.probeOutcomes(),
        r.execVerdictDuringFlood()
            ? String.format(Locale.ROOT, "after %.2f s", r.execVerdictSeconds())
            : "MISSING",
        r.rssBeforeKiB() / 1024,
        r.rssMaxKiB() / 1024,
        r.rssAfterKiB() / 1024,
        r.fdsBefore(),
        r.fdsMax(),
        r.fdsAfter(),
        r.loadStart(),
        r.loadEnd());
  }

  static String markdown(Result r, Instant when) {
    StringBuilder md = new StringBuilder();
    md.append("# API flood\n\n");
    md.append("`benchmarks/api-flood.sh` (benchmarks/README.md, \"API flood\"), target `")
        .append(r.target())
        .append("`, ")
        .append(when)
        .append(", ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores, load average ")
        .append(r.loadStart())
        .append(" at the start and ")
        .append(r.loadEnd())
        .append(" at the end (a shared machine: other sessions' builds run beside it).\n\n");
    md.append("| figure | value |\n|---|---|\n");
    row(md, "flood length", r.seconds() + " s");
    row(md, "idle (half-open) connections held", r.idleOpened());
    row(md, "connections stopped half-way through a request", r.partialOpened());
    row(md, "flood connections the agent did not accept", r.floodConnectsFailed());
    row(
        md,
        "slow readers / requests they pipelined unread",
        r.slowReaders() + " / " + r.slowReaderRequestsWritten());
    row(md, "malformed requests sent (each on its own connection)", r.malformedSent());
    row(md, "answers to the malformed requests", r.malformedAnswers());
    row(md, "health, usual (before): p50 / p99 / max", lat(r.usualBefore()));
    row(md, "health during the flood: p50 / p99 / max", lat(r.duringFlood()));
    row(
        md,
        "during ÷ usual: p50 / p99",
        String.format(Locale.ROOT, "%.2f / %.2f", r.p50Ratio(), r.p99Ratio()));
    row(md, "health probe outcomes during the flood", r.probeOutcomes());
    row(md, "health after the flood: p50 / p99 / max", lat(r.usualAfter()));
    row(
        md,
        "exec of a new binary during the flood got its verdict",
        r.execVerdictDuringFlood()
            ? String.format(Locale.ROOT, "yes, %.2f s after the exec", r.execVerdictSeconds())
            : "**no**");
    row(md, "server counters (veriruntime_api_*)", r.serverCounters());
    row(
        md,
        "agent RSS before / max / after",
        r.rssBeforeKiB() / 1024
            + " / "
            + r.rssMaxKiB() / 1024
            + " / "
            + r.rssAfterKiB() / 1024
            + " MiB");
    row(
        md,
        "agent file descriptors before / max / after",
        r.fdsBefore() + " / " + r.fdsMax() + " / " + r.fdsAfter());
    row(md, "agent threads before / after", r.threadsBefore() + " / " + r.threadsAfter());
    return md.toString();
  }

  private static String lat(Latency l) {
    return String.format(
        Locale.ROOT,
        "%.1f / %.1f / %.1f ms (%d of %d answered)",
        l.p50Ms(),
        l.p99Ms(),
        l.maxMs(),
        l.answered(),
        l.calls());
  }

  private static void row(StringBuilder md, String k, Object v) {
    md.append("| ").append(k).append(" | ").append(v).append(" |\n");
  }
}
