package dev.veriruntime.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How a CLI command reaches the Core API: through the daemon when one is running (its verdicts use
 * the daemon's caches and state), else in-process. Stateless; thread safe.
 *
 * <pre>{@code
 * try (CoreApis.Session session = CoreApis.forCli(ApiServer.DEFAULT_SOCKET, this::localApi)) {
 *   JsonNode verdict = session.api().verifyBinary("/usr/bin/ls");
 * } catch (ApiException e) {
 *   throw ExitCodes.failure(e);
 * }
 * }</pre>
 */
public final class CoreApis {

  /** What is at the socket path. */
  public enum DaemonStatus {
    /** A process accepts connections on the socket. */
    RUNNING("a daemon is running"),
    /** No file at the socket path. */
    NOT_RUNNING("no daemon is running"),
    /** A socket file nobody listens on: a daemon crashed or was killed. */
    STALE_SOCKET("no daemon is running (stale socket left by a daemon that stopped)"),
    /** A socket file this user may not connect to (mode 0600, owned by root). */
    NO_PERMISSION("a daemon may be running, but this user may not connect to its socket"),
    /** Something other than a socket is at the path. */
    NOT_A_SOCKET("the API socket path is taken by something that is not a socket");

    private final String description;

    DaemonStatus(String description) {
      this.description = description;
    }

    /** One line for the CLI, e.g. "no daemon is running". */
    public String description() {
      return description;
    }
  }

  /**
   * The API a CLI command talks to, and why it was chosen. Closing it releases the client's threads
   * and connections; it never stops the daemon.
   */
  public record Session(CoreApi api, DaemonStatus daemon) implements AutoCloseable {
    public Session {
      Objects.requireNonNull(api, "api");
      Objects.requireNonNull(daemon, "daemon");
    }

    /** True when a daemon answers the calls. */
    public boolean remote() {
      return api instanceof ApiClient;
    }

    @Override
    public void close() {
      if (api instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          // Closing a client only releases local resources; there is nothing to report.
        }
      }
    }
  }

  private CoreApis() {}

  /**
   * The daemon's API if one is {@link DaemonStatus#RUNNING} on {@code socket}, else the API built
   * by {@code local} (called only then).
   */
  public static Session forCli(Path socket, Supplier<? extends CoreApi> local) {
    DaemonStatus status = probe(socket);
    if (status == DaemonStatus.RUNNING) {
      return new Session(ApiClient.connect(socket), status);
    }
    return new Session(Objects.requireNonNull(local.get(), "local API"), status);
  }

  /** Look at {@code socket} without sending anything: one connect(2), closed at once. */
  public static DaemonStatus probe(Path socket) {
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return DaemonStatus.NOT_RUNNING;
    }
    if (!isSocket(socket)) {
      return DaemonStatus.NOT_A_SOCKET;
    }
    if (!Files.isWritable(socket)) {
      return DaemonStatus.NO_PERMISSION;
    }
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return DaemonStatus.RUNNING;
    } catch (ConnectException e) {
      return DaemonStatus.STALE_SOCKET;
    } catch (IOException e) {
      // Removed between the checks above and connect(2), or refused for another reason.
      return Files.exists(socket, LinkOption.NOFOLLOW_LINKS)
          ? DaemonStatus.NO_PERMISSION
          : DaemonStatus.NOT_RUNNING;
    }
  }

  private static boolean isSocket(Path path) {
    try {
      int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      return (mode & 0170000) == 0140000; // S_IFMT == S_IFSOCK
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
