package dev.veriruntime.api;

import dev.veriruntime.api.intake.AlertIntake;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves the Core API and the event stream as gRPC ({@code veriruntime.v1.VeriRuntime}, proto in
 * {@code api/src/main/proto/veriruntime/v1/veriruntime.proto}) on grpc-java's netty transport.
 *
 * <pre>{@code
 * try (GrpcServer server =
 *     GrpcServer.builder(api).feed(feed).socket(GrpcServer.socketBeside(apiSocket)).bind()) {
 *   ... // until the daemon stops
 * }
 * }</pre>
 *
 * <h2>Where it listens</h2>
 *
 * <ul>
 *   <li>A Unix domain socket, by default {@link #socketBeside} the JSON API's socket ({@code
 *       /run/veriruntime/api.sock.grpc}), made like the JSON API's (mode 0600 or 0660 with a group,
 *       never reachable with a wider mode, a stale one replaced atomically, a live one never), and
 *       with the same {@link PeerPolicy} check of each connection's SO_PEERCRED: every call of a
 *       refused peer is answered {@code PERMISSION_DENIED} with the reason, and counted ({@link
 *       #refusedConnections()}).
 *   <li>TCP, only when asked ({@link Builder#tcp}), and then only with mutual TLS: the server
 *       presents its certificate and requires a client certificate signed by the given CA. There is
 *       no plain TCP: {@link Tls} is required by the type.
 * </ul>
 *
 * <h2>Bounds</h2>
 *
 * At most {@link Builder#maxCalls} unary calls run at once (beyond: {@code UNAVAILABLE} at once);
 * messages up to 1 MiB; streams are bounded by the {@link EventFeed} (a reader too slow for its
 * queue is cut off with {@code RESOURCE_EXHAUSTED}, counted in {@link #streamsCut()}). Event loops:
 * one epoll thread each for accepting and for I/O; streams are pumped on two threads. Thread safe;
 * {@link #close()} is idempotent.
 */
public final class GrpcServer implements AutoCloseable {
  /** Largest request or reply message. */
  static final int MAX_MESSAGE = 1 << 20;

  /** Counters shared with the service and the pumps. */
  static final class Counters {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong streamsCut = new AtomicLong();
    final AtomicInteger streamsOpen = new AtomicInteger();
  }

  /**
   * The files of a TLS listener: PEM certificate chain and PKCS#8 private key of the server, and
   * the PEM certificate(s) of the CA that signs accepted client certificates.
   */
  public record Tls(Path certificate, Path privateKey, Path clientCa) {
    public Tls {
      Objects.requireNonNull(certificate, "certificate");
      Objects.requireNonNull(privateKey, "privateKey");
      Objects.requireNonNull(clientCa, "clientCa");
    }
  }

  private final Counters counters = new Counters();
  private final List<Server> servers = new ArrayList<>();
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final ExecutorService pumps;
  private final SocketFile socketFile;
  private final InetSocketAddress tcpAddress;
  private final AtomicBoolean closed = new AtomicBoolean();

  private GrpcServer(Builder b) throws IOException {
    NettyBootstrapLog.quiet();
    if (!Epoll.isAvailable()) {
      throw new IOException(
          "gRPC on Unix domain sockets needs netty's epoll transport", Epoll.unavailabilityCause());
    }
    boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("veriruntime-grpc-accept", true));
    workers = new EpollEventLoopGroup(1, new DefaultThreadFactory("veriruntime-grpc-io", true));
    pumps =
        Executors.newFixedThreadPool(2, new DefaultThreadFactory("veriruntime-grpc-stream", true));
    VeriRuntimeService service =
        new VeriRuntimeService(b.api, b.feed, b.intake, b.maxCalls, pumps, counters);
    ServerServiceDefinition definition = ServerInterceptors.intercept(service, new PeerGate());
    SocketFile file = null;
    InetSocketAddress bound = null;
    try {
      if (b.socket != null) {
        file = SocketFile.claim(b.socket);
        Server unix =
            common(
                    NettyServerBuilder.forAddress(
                        new DomainSocketAddress(file.stagingPath().toString()),
                        InternalNettyServerCredentials.create(
                            new PeerCredentialsNegotiator(b.policy, counters.refused))),
                    definition)
                .channelType(EpollServerDomainSocketChannel.class)
                .build()
                .start();
        servers.add(unix);
        file.publish(b.group);
      }
      if (b.tcp != null) {
        Server tcp =
            common(NettyServerBuilder.forAddress(b.tcp), definition)
                .channelType(EpollServerSocketChannel.class)
                .sslContext(sslContext(b.tls))
                .build()
                .start();
        servers.add(tcp);
        bound =
            tcp.getListenSockets().stream()
                .filter(InetSocketAddress.class::isInstance)
                .map(InetSocketAddress.class::cast)
                .findFirst()
                .orElse(b.tcp);
      }
    } catch (IOException | RuntimeException e) {
      shutdown(file);
      throw e;
    }
    socketFile = file;
    tcpAddress = bound;
    if (b.meters != null) {
      FunctionCounter.builder("veriruntime.grpc.peers.refused", counters.refused, AtomicLong::get)
          .description("gRPC connections refused by peer credentials")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.grpc.calls", counters.calls, AtomicLong::get)
          .description("gRPC calls received, streams included")
          .register(b.meters);
      FunctionCounter.builder("veriruntime.grpc.streams.cut", counters.streamsCut, AtomicLong::get)
          .description("event streams cut off because the client did not keep up")
          .register(b.meters);
      Gauge.builder("veriruntime.grpc.streams.open", counters.streamsOpen, AtomicInteger::get)
          .description("event streams open")
          .register(b.meters);
    }
  }

  public static Builder builder(CoreApi api) {
    return new Builder(api);
  }

  /** The gRPC socket that goes with a JSON API socket: the same path with {@code .grpc} added. */
  public static Path socketBeside(Path apiSocket) {
    return apiSocket.resolveSibling(apiSocket.getFileName() + ".grpc");
  }

  /** The Unix socket served, if any. */
  public Optional<Path> socket() {
    return Optional.ofNullable(socketFile).map(SocketFile::path);
  }

  /** The TCP address served with mutual TLS (the actual port when 0 was asked), if any. */
  public Optional<InetSocketAddress> tcpAddress() {
    return Optional.ofNullable(tcpAddress);
  }

  /** Unix connections refused by the {@link PeerPolicy}. */
  public long refusedConnections() {
    return counters.refused.get();
  }

  /** Event streams cut off because their client did not keep up. */
  public long streamsCut() {
    return counters.streamsCut.get();
  }

  /** Event streams open now. */
  public int openStreams() {
    return counters.streamsOpen.get();
  }

  /** Stops listening, ends open calls and streams, removes the socket file (if still ours). */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      shutdown(socketFile);
    }
  }

  private void shutdown(SocketFile file) {
    for (Server s : servers) {
      s.shutdownNow();
    }
    for (Server s : servers) {
      try {
        s.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (file != null) {
      file.close();
    }
    pumps.shutdownNow();
    workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private NettyServerBuilder common(NettyServerBuilder builder, ServerServiceDefinition service) {
    return builder
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        .maxInboundMessageSize(MAX_MESSAGE)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .addService(service);
  }

  private static SslContext sslContext(Tls tls) throws IOException {
    for (Path p : List.of(tls.certificate(), tls.privateKey(), tls.clientCa())) {
      if (!Files.isReadable(p)) {
        throw new IOException("cannot read " + p);
      }
    }
    try {
      return GrpcSslContexts.forServer(tls.certificate().toFile(), tls.privateKey().toFile())
          .trustManager(tls.clientCa().toFile())
          .clientAuth(ClientAuth.REQUIRE)
          .build();
    } catch (IllegalArgumentException | UncheckedIOException e) {
      throw new IOException("TLS files not usable: " + e.getMessage(), e);
    }
  }

  /** Refuses every call on a connection whose peer the {@link PeerPolicy} did not allow. */
  private static final class PeerGate implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      String refusal = call.getAttributes().get(PeerCredentialsNegotiator.REFUSAL);
      if (refusal != null) {
        call.close(Status.PERMISSION_DENIED.withDescription(refusal), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, headers)) {};
    }
  }

  /** Settings of a {@link GrpcServer}; {@link #bind()} starts it. Not thread safe. */
  public static final class Builder {
    private final CoreApi api;
    private EventFeed feed;
    private AlertIntake intake;
    private Path socket;
    private PeerPolicy policy = PeerPolicy.rootOnly();
    private String group;
    private InetSocketAddress tcp;
    private Tls tls;
    private int maxCalls = 16;
    private MeterRegistry meters;

    private Builder(CoreApi api) {
      this.api = Objects.requireNonNull(api, "api");
    }

    /** The events {@code StreamEvents} follows; default none (the call is then UNAVAILABLE). */
    public Builder feed(EventFeed feed) {
      this.feed = feed;
      return this;
    }

    /**
     * Answer {@code SubmitAlert} through {@code intake}; default none (the call is UNAVAILABLE).
     */
    public Builder alertIntake(AlertIntake intake) {
      this.intake = intake;
      return this;
    }

    /** Listen on this Unix socket (its directory is created if missing); default none. */
    public Builder socket(Path socket) {
      this.socket = socket;
      return this;
    }

    /** Who may call on the Unix socket; default {@link PeerPolicy#rootOnly()}. */
    public Builder peerPolicy(PeerPolicy policy) {
      this.policy = Objects.requireNonNull(policy);
      return this;
    }

    /** Make the Unix socket file mode 0660 owned by this group; default none, mode 0600. */
    public Builder socketGroup(String group) {
      this.group = Optional.ofNullable(group).filter(g -> !g.isBlank()).orElse(null);
      return this;
    }

    /** Also listen on TCP, with mutual TLS (there is no plain TCP); default none. */
    public Builder tcp(InetSocketAddress address, Tls tls) {
      this.tcp = Objects.requireNonNull(address, "address");
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** Unary calls that may run at once; default 16. */
    public Builder maxCalls(int maxCalls) {
      if (maxCalls < 1) {
        throw new IllegalArgumentException("maxCalls must be at least 1");
      }
      this.maxCalls = maxCalls;
      return this;
    }

    /** Register {@code veriruntime.grpc.*} meters here; default none. */
    public Builder meterRegistry(MeterRegistry meters) {
      this.meters = meters;
      return this;
    }

    /**
     * Bind and start serving.
     *
     * @throws IOException when a socket cannot be bound, another daemon listens on it, the path is
     *     taken by something that is not a socket, or the TLS files cannot be read or used
     * @throws IllegalStateException when neither a socket nor TCP was asked for
     */
    public GrpcServer bind() throws IOException {
      if (socket == null && tcp == null) {
        throw new IllegalStateException("give a Unix socket, a TCP address, or both");
      }
      return new GrpcServer(this);
    }
  }
}
