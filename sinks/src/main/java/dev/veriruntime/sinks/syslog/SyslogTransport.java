package dev.veriruntime.sinks.syslog;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How encoded syslog messages leave the process. Implementations are used by one thread at a time
 * (the sink's drain thread), block at most for their timeouts, reconnect lazily after a failure,
 * and are closed once.
 */
interface SyslogTransport extends AutoCloseable {

  /** Sends one message (framing added here). */
  void send(byte[] message) throws IOException;

  @Override
  void close();

  /** RFC 5426: one message per UDP datagram. */
  static SyslogTransport udp(InetSocketAddress target) throws IOException {
    DatagramChannel channel = DatagramChannel.open();
    return new SyslogTransport() {
      @Override
      public void send(byte[] message) throws IOException {
        channel.send(ByteBuffer.wrap(message), target);
      }

      @Override
      public void close() {
        closeQuietly(channel);
      }
    };
  }

  /** RFC 6587 octet counting over TCP: {@code LEN SP MSG}. Reconnects after a failure. */
  static SyslogTransport tcp(InetSocketAddress target, Duration connectTimeout) {
    return new StreamTransport() {
      private Socket socket;

      @Override
      OutputStream connect() throws IOException {
        if (socket == null || socket.isClosed()) {
          Socket s = new Socket();
          try {
            s.setTcpNoDelay(true);
            s.connect(target, (int) connectTimeout.toMillis());
          } catch (IOException e) {
            s.close();
            throw e;
          }
          socket = s;
        }
        return socket.getOutputStream();
      }

      @Override
      void disconnect() {
        closeQuietly(socket);
        socket = null;
      }
    };
  }

  /** Octet counting over a unix stream socket (JDK 16+ unix-domain {@link SocketChannel}). */
  static SyslogTransport unixStream(Path socket) {
    return new StreamTransport() {
      private SocketChannel channel;

      @Override
      OutputStream connect() throws IOException {
        if (channel == null || !channel.isOpen()) {
          channel = SocketChannel.open(StandardProtocolFamily.UNIX);
          try {
            channel.connect(UnixDomainSocketAddress.of(socket));
          } catch (IOException e) {
            disconnect();
            throw e;
          }
        }
        return java.nio.channels.Channels.newOutputStream(channel);
      }

      @Override
      void disconnect() {
        closeQuietly(channel);
        channel = null;
      }
    };
  }

  /**
   * One message per datagram on a unix datagram socket, like {@code /dev/log}. The JDK has no unix
   * datagram sockets, so this uses netty's epoll transport (Linux only).
   */
  static SyslogTransport unixDatagram(Path socket, Duration timeout) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IOException(
          "unix datagram syslog needs netty epoll: " + Epoll.unavailabilityCause());
    }
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    Channel channel;
    try {
      channel =
          new Bootstrap()
              .group(group)
              .channel(EpollDomainDatagramChannel.class)
              // Unbound and unconnected: a sender only, addressing each packet like syslog(3).
              .option(io.netty.channel.ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
              .handler(new ChannelInboundHandlerAdapter())
              .register()
              .syncUninterruptibly()
              .channel();
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
      throw new IOException("cannot open unix datagram socket", e);
    }
    DomainSocketAddress target = new DomainSocketAddress(socket.toString());
    return new SyslogTransport() {
      @Override
      public void send(byte[] message) throws IOException {
        ChannelFuture f =
            channel.writeAndFlush(
                new DomainDatagramPacket(Unpooled.wrappedBuffer(message), target));
        if (!f.awaitUninterruptibly(timeout.toMillis())) {
          throw new IOException("unix datagram send timed out after " + timeout);
        }
        if (!f.isSuccess()) {
          Throwable cause = f.cause();
          throw cause instanceof IOException io
              ? io
              : new IOException(String.valueOf(cause), cause);
        }
      }

      @Override
      public void close() {
        channel.close().awaitUninterruptibly(timeout.toMillis());
        group.shutdownGracefully(0, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      }
    };
  }

  /** Octet-counting framing shared by the stream transports. */
  abstract class StreamTransport implements SyslogTransport {
    abstract OutputStream connect() throws IOException;

    abstract void disconnect();

    @Override
    public void send(byte[] message) throws IOException {
      OutputStream out = connect();
      try {
        byte[] prefix = (message.length + " ").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = new byte[prefix.length + message.length];
        System.arraycopy(prefix, 0, frame, 0, prefix.length);
        System.arraycopy(message, 0, frame, prefix.length, message.length);
        out.write(frame);
        out.flush();
      } catch (IOException e) {
        disconnect(); // the next message reconnects
        throw e;
      }
    }

    @Override
    public void close() {
      disconnect();
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception ignored) {
      // closing: nothing left to report to
    }
  }
}
