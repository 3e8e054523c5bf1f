package dev.veriruntime.api;

import io.grpc.Attributes;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AsciiString;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * gRPC's plaintext negotiation on a Unix domain socket, preceded by the {@link PeerPolicy} check of
 * the connection's SO_PEERCRED. The verdict travels with the connection as the transport attribute
 * {@link #REFUSAL} (absent: allowed), so that every call of a refused peer is answered {@code
 * PERMISSION_DENIED} with the reason, as the JSON API answers 403, rather than the connection just
 * dropping. grpc-java offers no public hook to a connection's channel: this uses its {@code
 * Internal*} negotiator API, the one gRPC's own ALTS and TLS negotiators are built on.
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  /** Why a connection's calls are refused; absent when its peer is allowed. */
  static final Attributes.Key<String> REFUSAL = Attributes.Key.create("veriruntime.peer.refusal");

  private final InternalProtocolNegotiator.ProtocolNegotiator plaintext =
      InternalProtocolNegotiators.serverPlaintext();
  private final PeerPolicy policy;
  private final AtomicLong refused;

  PeerCredentialsNegotiator(PeerPolicy policy, AtomicLong refused) {
    this.policy = policy;
    this.refused = refused;
  }

  @Override
  public AsciiString scheme() {
    return plaintext.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    return new PeerCheck(plaintext.newHandler(grpcHandler));
  }

  @Override
  public void close() {
    plaintext.close();
  }

  /** Puts the plaintext handler after itself, and the peer's verdict into the negotiation. */
  private final class PeerCheck extends ChannelInboundHandlerAdapter {
    private final ChannelHandler next;

    PeerCheck(ChannelHandler next) {
      this.next = next;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.pipeline().addAfter(ctx.name(), null, next);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof ProtocolNegotiationEvent pne) {
        String refusal = refusalOf(ctx);
        if (refusal != null) {
          refused.incrementAndGet();
          Attributes attrs =
              InternalProtocolNegotiationEvent.getAttributes(pne).toBuilder()
                  .set(REFUSAL, refusal)
                  .build();
          evt = InternalProtocolNegotiationEvent.withAttributes(pne, attrs);
        }
        ctx.fireUserEventTriggered(evt);
        ctx.pipeline().remove(this);
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    private String refusalOf(ChannelHandlerContext ctx) {
      if (!(ctx.channel() instanceof EpollDomainSocketChannel unix)) {
        return "not a Unix domain socket connection";
      }
      PeerCredentials peer;
      try {
        peer = unix.peerCredentials();
      } catch (IOException e) {
        return "peer credentials unavailable: " + e.getMessage();
      }
      // SO_PEERCRED carries one gid, the peer's effective primary gid.
      int gid = peer.gids().length == 0 ? -1 : peer.gids()[0];
      if (policy.allows(peer.uid(), gid)) {
        return null;
      }
      return "peer uid "
          + peer.uid()
          + " gid "
          + gid
          + " (pid "
          + peer.pid()
          + ") is not allowed on this socket";
    }
  }
}
