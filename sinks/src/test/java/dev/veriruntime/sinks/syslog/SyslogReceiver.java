package dev.veriruntime.sinks.syslog;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A real syslog receiver on a local socket: UDP or TCP on 127.0.0.1, or a unix datagram or stream
 * socket in a temporary directory. Stream transports are parsed as RFC 6587 octet-counted frames.
 * Collects each message as a string, in arrival order.
 */
final class SyslogReceiver implements AutoCloseable {
  private final List<String> messages = new ArrayList<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition arrived = lock.newCondition();
  private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();
  private final SyslogSink.Target target;
  private volatile boolean closed;

  private SyslogReceiver(SyslogSink.Target target) {
    this.target = target;
  }

  SyslogSink.Target target() {
    return target;
  }

  static SyslogReceiver udp() throws IOException {
    DatagramChannel ch = DatagramChannel.open();
    // Room for a burst: the test sends faster than a scheduler guarantees the reader runs.
    ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
    ch.bind(new InetSocketAddress("127.0.0.1", 0));
    InetSocketAddress local = (InetSocketAddress) ch.getLocalAddress();
    SyslogReceiver r = new SyslogReceiver(SyslogSink.Target.udp("127.0.0.1", local.getPort()));
    r.resources.add(ch);
    r.thread(
        "udp",
        () -> {
          ByteBuffer buf = ByteBuffer.allocate(65_536);
          while (!r.closed) {
            buf.clear();
            ch.receive(buf);
            buf.flip();
            r.add(StandardCharsets.UTF_8.decode(buf).toString());
          }
        });
    return r;
  }

  static SyslogReceiver tcp() throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    SyslogReceiver r = new SyslogReceiver(SyslogSink.Target.tcp("127.0.0.1", port));
    r.acceptStreams(server);
    return r;
  }

  static SyslogReceiver unixStream(Path dir) throws IOException {
    Path path = dir.resolve("syslog-stream.sock");
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    SyslogReceiver r = new SyslogReceiver(SyslogSink.Target.unixStream(path));
    r.resources.add(() -> Files.deleteIfExists(path));
    r.acceptStreams(server);
    return r;
  }

  static SyslogReceiver unixDatagram(Path dir) {
    Path path = dir.resolve("dev-log.sock");
    SyslogReceiver r = new SyslogReceiver(SyslogSink.Target.unixDatagram(path));
    EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    Channel ch =
        new Bootstrap()
            .group(group)
            .channel(EpollDomainDatagramChannel.class)
            .handler(
                new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                    r.add(p.content().toString(StandardCharsets.UTF_8));
                  }
                })
            .bind(new DomainSocketAddress(path.toString()))
            .syncUninterruptibly()
            .channel();
    r.resources.add(() -> ch.close().syncUninterruptibly());
    r.resources.add(() -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
    r.resources.add(() -> Files.deleteIfExists(path));
    return r;
  }

  private void acceptStreams(ServerSocketChannel server) {
    resources.add(server);
    thread(
        "accept",
        () -> {
          while (!closed) {
            SocketChannel conn = server.accept();
            Thread reader = newThread("read", () -> readFrames(Channels.newInputStream(conn)));
            if (!register(
                () -> {
                  // Wake the reader with EOF and let it leave read() before closing: a close()
                  // during a
                  // blocked read is deferred by the JDK, and the sender could still write into it.
                  conn.shutdownInput();
                  reader.join(2000);
                  conn.close();
                })) {
              return;
            }
            reader.start();
          }
        });
  }

  /** RFC 6587 octet counting: MSG-LEN SP SYSLOG-MSG, repeated. */
  private void readFrames(InputStream in) throws IOException {
    DataInputStream data = new DataInputStream(in);
    while (true) {
      int len = 0;
      int c;
      while ((c = data.read()) != ' ') {
        if (c < 0) {
          return;
        }
        if (c < '0' || c > '9') {
          throw new IOException("bad frame length byte " + c);
        }
        len = len * 10 + (c - '0');
      }
      byte[] msg = new byte[len];
      try {
        data.readFully(msg);
      } catch (EOFException e) {
        return;
      }
      add(new String(msg, StandardCharsets.UTF_8));
    }
  }

  private interface IoRunnable {
    void run() throws IOException;
  }

  private void thread(String name, IoRunnable body) {
    newThread(name, body).start();
  }

  private Thread newThread(String name, IoRunnable body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (IOException e) {
                // closed under us at the end of the test, or the peer went away
              }
            },
            "syslog-receiver-" + name);
    t.setDaemon(true);
    return t;
  }

  private void add(String message) {
    lock.lock();
    try {
      messages.add(message);
      arrived.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits until at least {@code n} messages arrived (or the timeout passed); returns them all. */
  List<String> await(long n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      while (messages.size() < n) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        arrived.awaitNanos(left);
      }
      return new ArrayList<>(messages);
    } finally {
      lock.unlock();
    }
  }

  /** Adds a resource to close, or closes it at once if the receiver is already closed. */
  private boolean register(AutoCloseable resource) {
    synchronized (resources) {
      if (!closed) {
        resources.add(resource);
        return true;
      }
    }
    try {
      resource.close();
    } catch (Exception ignored) {
      // best effort
    }
    return false;
  }

  @Override
  public void close() {
    synchronized (resources) {
      closed = true;
    }
    for (AutoCloseable c : resources) {
      try {
        c.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }
}
