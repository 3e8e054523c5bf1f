package dev.veriruntime.sinks.syslog;

import dev.veriruntime.sinks.BoundedSink;
import dev.veriruntime.sinks.SecurityEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Sends each event as an RFC 5424 message ({@link Rfc5424Encoder}) over UDP (RFC 5426, one datagram
 * each), TCP (RFC 6587 octet counting), a unix datagram socket ({@code /dev/log} style, via netty
 * epoll) or a unix stream socket (octet counting). Sends happen on the sink's drain thread; a send
 * error fails that event and stream transports reconnect for the next one. UDP and unix datagrams
 * are fire-and-forget: "delivered" means the kernel took the datagram.
 *
 * <pre>{@code
 * Sink syslog = SyslogSink.open(SyslogSink.Target.unixDatagram(Path.of("/dev/log")), SyslogSink.AUTHPRIV, null);
 * }</pre>
 */
public final class SyslogSink extends BoundedSink {
  /** Facility authpriv (10): security messages, readable by root only on most distributions. */
  public static final int AUTHPRIV = 10;

  /** Default bound on pending events. */
  public static final int DEFAULT_CAPACITY = 4096;

  /** Where messages go. */
  public sealed interface Target {
    record Udp(InetSocketAddress address) implements Target {}

    record Tcp(InetSocketAddress address) implements Target {}

    record UnixDatagram(Path socket) implements Target {}

    record UnixStream(Path socket) implements Target {}

    static Target udp(String host, int port) {
      return new Udp(new InetSocketAddress(host, port));
    }

    static Target tcp(String host, int port) {
      return new Tcp(new InetSocketAddress(host, port));
    }

    static Target unixDatagram(Path socket) {
      return new UnixDatagram(socket);
    }

    static Target unixStream(Path socket) {
      return new UnixStream(socket);
    }
  }

  private final SyslogTransport transport;
  private final Rfc5424Encoder encoder;

  private SyslogSink(
      SyslogTransport transport, Rfc5424Encoder encoder, int capacity, Scheduler scheduler) {
    super("syslog", capacity, 64, scheduler, Duration.ofSeconds(5));
    this.transport = transport;
    this.encoder = encoder;
  }

  /**
   * Opens a syslog sink.
   *
   * @param facility syslog facility, e.g. {@link #AUTHPRIV}
   * @param scheduler drain scheduler, or {@code null} for a dedicated thread
   * @throws IOException if a datagram socket cannot be created (stream sockets connect lazily)
   */
  public static SyslogSink open(Target target, int facility, int capacity, Scheduler scheduler)
      throws IOException {
    Objects.requireNonNull(target, "target");
    Duration timeout = Duration.ofSeconds(2);
    boolean datagram = target instanceof Target.Udp || target instanceof Target.UnixDatagram;
    SyslogTransport transport;
    if (target instanceof Target.Udp u) {
      transport = SyslogTransport.udp(u.address());
    } else if (target instanceof Target.Tcp t) {
      transport = SyslogTransport.tcp(t.address(), timeout);
    } else if (target instanceof Target.UnixDatagram d) {
      transport = SyslogTransport.unixDatagram(d.socket(), timeout);
    } else {
      transport = SyslogTransport.unixStream(((Target.UnixStream) target).socket());
    }
    // Datagrams must fit: 2048 is what every receiver accepts; streams can carry more.
    Rfc5424Encoder encoder =
        new Rfc5424Encoder(
            facility,
            "veriruntime",
            Long.toString(ProcessHandle.current().pid()),
            localHost(),
            datagram ? 2048 : 8192);
    return new SyslogSink(transport, encoder, capacity, scheduler);
  }

  public static SyslogSink open(Target target, int facility, Scheduler scheduler)
      throws IOException {
    return open(target, facility, DEFAULT_CAPACITY, scheduler);
  }

  private static String localHost() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "-";
    }
  }

  @Override
  protected Mono<Void> deliver(SecurityEvent event) {
    return Mono.fromCallable(
            () -> {
              transport.send(encoder.encode(event));
              return Boolean.TRUE;
            })
        .then();
  }

  @Override
  protected void closeResources() {
    transport.close();
  }
}
