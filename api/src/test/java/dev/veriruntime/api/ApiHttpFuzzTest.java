package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.testing.TempDirs;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Pattern;

/**
 * Jazzer target for the API's HTTP framing: the fuzzer's bytes go as they are over a real
 * connection to a real {@link ApiServer} (its reactor-netty decoder, size limits, decode-failure
 * answer, routing and {@link LocalCoreApi}), and whatever comes back must be well-formed HTTP: each
 * response a documented status (200, 400, 404, 405, 413, 414, 431, 503; never 500) with a JSON
 * body, an error body being {@code {"error", "message"}}. The backing operations must only ever see
 * validated arguments, and after each input the server must still answer {@code /v1/health}: a
 * malformed request never stops the server.
 *
 * <p>Time per input is bounded by the server's own limits (idle and request timeouts of 100 ms
 * here) and by a 10 s read deadline (the first exchange warms a loaded machine's JVM); memory by
 * the fork's heap (see docs/reliability.md). The request parser is netty's, not ours: this target
 * holds our use of it (limits, the answer to a decode failure, keep-alive and body refusal) to its
 * contract. Seeds in {@code ApiHttpFuzzTestInputs/}: requests of each route, pipelined, with a
 * body, oversized, and every crash found.
 */
class ApiHttpFuzzTest {
  private static final Set<Integer> DOCUMENTED = Set.of(200, 400, 404, 405, 413, 414, 431, 503);
  private static final Pattern IDENTITY = Pattern.compile("[0-9]{1,20}:[0-9]{1,20}");
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
  private static final long DEADLINE_NANOS = Duration.ofSeconds(10).toNanos();
  private static final byte[] HEALTH =
      "GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  /** What a backing operation received that it should never have: checked on the fuzz thread. */
  private static final Queue<String> VIOLATIONS = new ConcurrentLinkedQueue<>();

  private static final Path SOCKET = socket();
  private static final ApiServer SERVER = server();

  @FuzzTest(maxDuration = "5m")
  void exchange(byte[] input) throws IOException {
    for (FullHttpResponse response : responses(send(input))) {
      try {
        int status = response.status().code();
        assertThat(DOCUMENTED).contains(status);
        assertThat(response.headers().get("content-type")).isEqualTo("application/json");
        JsonNode body =
            ApiJson.mapper().readTree(response.content().toString(StandardCharsets.UTF_8));
        assertThat(body.isObject()).isTrue();
        if (status != 200) {
          assertThat(body.path("error").isTextual()).isTrue();
          assertThat(body.path("message").isTextual()).isTrue();
        }
      } finally {
        response.release();
      }
    }
    assertThat(VIOLATIONS).isEmpty();
    List<FullHttpResponse> health = responses(send(HEALTH));
    try {
      assertThat(health).hasSize(1);
      assertThat(health.get(0).status().code()).isEqualTo(200);
    } finally {
      health.forEach(FullHttpResponse::release);
    }
  }

  private static void warmUp() throws IOException {
    for (FullHttpResponse response : responses(send(HEALTH))) {
      response.release();
    }
  }

  /** Writes {@code request}, then reads until the server closes (or the deadline passes). */
  private static byte[] send(byte[] request) throws IOException {
    ByteArrayOutputStream in = new ByteArrayOutputStream();
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = Selector.open()) {
      ch.connect(UnixDomainSocketAddress.of(SOCKET));
      ch.configureBlocking(false);
      ByteBuffer out = ByteBuffer.wrap(request);
      ByteBuffer buf = ByteBuffer.allocate(16384);
      long deadline = System.nanoTime() + DEADLINE_NANOS;
      ch.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      boolean open = true;
      while (open) {
        long left = deadline - System.nanoTime();
        assertThat(left).as("the server closes the connection in time").isPositive();
        selector.select(Math.max(1, left / 1_000_000));
        for (SelectionKey key : selector.selectedKeys()) {
          if (key.isValid() && key.isWritable()) {
            try {
              ch.write(out);
            } catch (IOException closedBeforeReadingAll) {
              out.position(out.limit());
            }
            if (!out.hasRemaining()) {
              key.interestOps(SelectionKey.OP_READ);
            }
          }
          if (key.isValid() && key.isReadable()) {
            int n;
            try {
              n = ch.read(buf.clear());
            } catch (IOException reset) {
              n = -1;
            }
            if (n < 0) {
              open = false;
            } else {
              in.write(buf.array(), 0, n);
            }
          }
        }
        selector.selectedKeys().clear();
      }
    }
    return in.toByteArray();
  }

  /** The responses in {@code bytes}, parsed by netty's client decoder; all must be well-formed. */
  private static List<FullHttpResponse> responses(byte[] bytes) {
    EmbeddedChannel decoder =
        new EmbeddedChannel(new HttpResponseDecoder(), new HttpObjectAggregator(1 << 20));
    decoder.writeInbound(Unpooled.wrappedBuffer(bytes));
    decoder.finish();
    List<FullHttpResponse> out = new ArrayList<>();
    for (Object o; (o = decoder.readInbound()) != null; ) {
      FullHttpResponse response = (FullHttpResponse) o;
      out.add(response);
      assertThat(response.decoderResult().isSuccess())
          .as("a well-formed response, got %s", new String(bytes, StandardCharsets.ISO_8859_1))
          .isTrue();
    }
    return out;
  }

  private static ApiServer server() {
    CoreApi api =
        LocalCoreApi.builder()
            .verifyProcess(
                pid -> {
                  if (pid <= 0) {
                    VIOLATIONS.add("pid " + pid);
                  }
                  return Map.of("pid", pid);
                })
            .verifyBinary(
                target -> {
                  boolean valid =
                      target.startsWith("/")
                          ? target.length() <= 4096 && target.indexOf('\0') < 0
                          : IDENTITY.matcher(target).matches();
                  if (!valid) {
                    VIOLATIONS.add("binary target " + target);
                  }
                  return Map.of("target", target);
                })
            .evidence(
                ref -> {
                  if (!REF.matcher(ref).matches()) {
                    VIOLATIONS.add("evidence " + ref);
                  }
                  return Map.of("ref", ref);
                })
            .runtimeState(() -> Map.of("processes", 0))
            .health(() -> Map.of("status", "ok"))
            .build();
    try {
      ApiServer server =
          ApiServer.builder(api)
              .socket(SOCKET)
              .peerPolicy(new PeerPolicy(Set.copyOf(List.of(0, currentUid())), Set.of()))
              .idleTimeout(Duration.ofMillis(100))
              .callTimeout(Duration.ofSeconds(5))
              .bind();
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
      // One exchange before the first input: on a cold JVM under the fuzzer's instrumentation and
      // a loaded machine, the first call once took longer than the call timeout (a 503 for the
      // health check after the first input, not a finding about that input).
      warmUp();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int currentUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path socket() {
    try {
      return TempDirs.create("api-fuzz-").resolve("api.sock");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
