package dev.veriruntime.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.grpc.v1.GetEvidenceRequest;
import dev.veriruntime.api.grpc.v1.HealthRequest;
import dev.veriruntime.api.grpc.v1.ListRuntimeStateRequest;
import dev.veriruntime.api.grpc.v1.StreamEventsReply;
import dev.veriruntime.api.grpc.v1.StreamEventsRequest;
import dev.veriruntime.api.grpc.v1.SubmitAlertReply;
import dev.veriruntime.api.grpc.v1.SubmitAlertRequest;
import dev.veriruntime.api.grpc.v1.VeriRuntimeGrpc;
import dev.veriruntime.api.grpc.v1.VerifyBinaryRequest;
import dev.veriruntime.api.grpc.v1.VerifyProcessRequest;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client of {@link GrpcServer}: the Core API ({@link CoreApi}, same JSON, same {@link
 * ApiException} codes as {@link ApiClient}) and the event stream. Thread safe; {@link #close()}
 * releases the connection and its thread.
 *
 * <pre>{@code
 * try (GrpcClient client = GrpcClient.connect(GrpcServer.socketBeside(ApiServer.DEFAULT_SOCKET));
 *     GrpcClient.Events events = client.streamEvents(OptionalLong.of(lastSeq), Set.of())) {
 *   while (events.hasNext()) {
 *     EventFeed.Item item = events.next(); // Event, Gap, Live
 *   }
 * } catch (ApiException e) { ... } // a cut-off stream throws UNAVAILABLE from hasNext
 * }</pre>
 */
public final class GrpcClient implements CoreApi, AutoCloseable {
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

  private final ManagedChannel channel;
  private final EventLoopGroup loop;
  private final VeriRuntimeGrpc.VeriRuntimeBlockingStub stub;

  private GrpcClient(NettyChannelBuilder builder, EventLoopGroup loop) {
    NettyBootstrapLog.quiet();
    this.loop = loop;
    this.channel =
        builder
            .eventLoopGroup(loop)
            .maxInboundMessageSize(GrpcServer.MAX_MESSAGE)
            .disableRetry()
            .build();
    this.stub = VeriRuntimeGrpc.newBlockingStub(channel);
  }

  /** A client of the daemon's gRPC Unix socket; connects on the first call. */
  public static GrpcClient connect(Path socket) {
    EventLoopGroup loop = newLoop();
    return new GrpcClient(
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollDomainSocketChannel.class)
            .usePlaintext(),
        loop);
  }

  /**
   * A client of a TCP listener with mutual TLS.
   *
   * @param certificate this client's PEM certificate (chain)
   * @param privateKey its PKCS#8 PEM key
   * @param serverCa the CA that signed the server's certificate
   * @throws IOException when a file cannot be read or used
   */
  public static GrpcClient connectTls(
      InetSocketAddress address, Path certificate, Path privateKey, Path serverCa)
      throws IOException {
    EventLoopGroup loop = newLoop();
    try {
      return new GrpcClient(
          NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
              .channelType(EpollSocketChannel.class)
              .sslContext(
                  GrpcSslContexts.forClient()
                      .trustManager(serverCa.toFile())
                      .keyManager(certificate.toFile(), privateKey.toFile())
                      .build()),
          loop);
    } catch (IOException | RuntimeException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }
  }

  private static EventLoopGroup newLoop() {
    return new EpollEventLoopGroup(1, new DefaultThreadFactory("veriruntime-grpc-client", true));
  }

  @Override
  public JsonNode verifyProcess(int pid) throws ApiException {
    return json(
        () ->
            timed()
                .verifyProcess(VerifyProcessRequest.newBuilder().setPid(pid).build())
                .getVerdictJson());
  }

  @Override
  public JsonNode verifyBinary(String target) throws ApiException {
    VerifyBinaryRequest.Builder req = VerifyBinaryRequest.newBuilder();
    if (target.startsWith("/")) {
      req.setPath(target);
    } else {
      req.setIdentity(target);
    }
    return json(() -> timed().verifyBinary(req.build()).getVerdictJson());
  }

  @Override
  public JsonNode getEvidence(String ref) throws ApiException {
    return json(
        () ->
            timed()
                .getEvidence(GetEvidenceRequest.newBuilder().setRef(ref).build())
                .getEvidenceJson());
  }

  @Override
  public JsonNode listRuntimeState() throws ApiException {
    return json(
        () ->
            timed().listRuntimeState(ListRuntimeStateRequest.getDefaultInstance()).getStateJson());
  }

  @Override
  public JsonNode health() throws ApiException {
    return json(() -> timed().health(HealthRequest.getDefaultInstance()).getHealthJson());
  }

  /** Sends another tool's alert (see the proto); the reply as the server gave it. */
  public SubmitAlertReply submitAlert(String format, byte[] body) throws ApiException {
    try {
      return timed()
          .submitAlert(
              SubmitAlertRequest.newBuilder()
                  .setFormat(format)
                  .setBody(com.google.protobuf.ByteString.copyFrom(body))
                  .build());
    } catch (StatusRuntimeException e) {
      throw GrpcStatuses.toApiException(e);
    }
  }

  /**
   * Follows the daemon's events: replay after {@code since} (if given), then live.
   *
   * @param types event type names; empty: all
   */
  public Events streamEvents(OptionalLong since, Set<String> types) {
    StreamEventsRequest.Builder req = StreamEventsRequest.newBuilder().addAllTypes(types);
    since.ifPresent(req::setSinceSeq);
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      return new Events(stub.streamEvents(req.build()), context);
    } finally {
      context.detach(previous);
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private VeriRuntimeGrpc.VeriRuntimeBlockingStub timed() {
    return stub.withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs a call that answers JSON text and parses it into the tree {@link CoreApi} promises. */
  private static JsonNode json(Supplier<String> call) throws ApiException {
    String text;
    try {
      text = call.get();
    } catch (StatusRuntimeException e) {
      throw GrpcStatuses.toApiException(e);
    }
    try {
      return ApiJson.mapper().readTree(text);
    } catch (JsonProcessingException e) {
      throw new ApiException(ApiException.Code.INTERNAL, "the daemon sent malformed JSON", e);
    }
  }

  /**
   * The items of one {@code StreamEvents} call, in order: an optional {@link EventFeed.Gap}, the
   * replayed {@link EventFeed.Event}s, one {@link EventFeed.Live}, then live events. Reading is
   * flow-controlled: the server sends no faster than this iterator is read. Not thread safe; close
   * it to end the call.
   */
  public static final class Events implements AutoCloseable {
    private final Iterator<StreamEventsReply> replies;
    private final Context.CancellableContext context;

    private Events(Iterator<StreamEventsReply> replies, Context.CancellableContext context) {
      this.replies = replies;
      this.context = context;
    }

    /**
     * Waits for the next item.
     *
     * @return false when the server ended the stream normally (the daemon stopped)
     * @throws ApiException when the stream failed: {@code UNAVAILABLE} for a cut-off (the message
     *     says why and which since_seq resumes), the daemon gone, or a refused peer ({@code
     *     FORBIDDEN})
     */
    public boolean hasNext() throws ApiException {
      try {
        return replies.hasNext();
      } catch (StatusRuntimeException e) {
        throw GrpcStatuses.toApiException(e);
      }
    }

    /** The next item; call {@link #hasNext()} first. */
    public EventFeed.Item next() throws ApiException {
      if (!hasNext()) {
        throw new NoSuchElementException("the stream ended");
      }
      StreamEventsReply r;
      try {
        r = replies.next();
      } catch (StatusRuntimeException e) {
        throw GrpcStatuses.toApiException(e);
      }
      return switch (r.getItemCase()) {
        case EVENT ->
            new EventFeed.Event(
                r.getEvent().getSeq(), r.getEvent().getType(), r.getEvent().getJson());
        case GAP ->
            new EventFeed.Gap(
                r.getGap().getRequestedSince(),
                r.getGap().getFirstAvailable(),
                r.getGap().getReason());
        case LIVE -> new EventFeed.Live(r.getLive().getReplayedThrough());
        case ITEM_NOT_SET ->
            throw new ApiException(ApiException.Code.INTERNAL, "the daemon sent an empty item");
      };
    }

    @Override
    public void close() {
      context.cancel(null);
    }
  }
}
