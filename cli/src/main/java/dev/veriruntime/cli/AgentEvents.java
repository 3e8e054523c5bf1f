package dev.veriruntime.cli;

import dev.veriruntime.api.ApiException;
import dev.veriruntime.api.CoreApis;
import dev.veriruntime.api.EventFeed;
import dev.veriruntime.api.GrpcClient;
import dev.veriruntime.api.GrpcServer;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A running agent's events, followed over its gRPC socket ({@link GrpcServer#socketBeside} the API
 * socket). A stream cut off because this reader fell behind is resumed at once after the last
 * sequence number received, so nothing the journal kept is missed; each resumption is told to
 * {@code notices}. Used by {@code events --follow} and {@code demo}. {@link #close()} (from any
 * thread) ends {@link #follow}.
 */
final class AgentEvents implements AutoCloseable {
  /** Resumptions in a row without a single event between them before giving up. */
  private static final int MAX_EMPTY_RESUMES = 3;

  private final Path socket;
  private final GrpcClient client;
  private volatile GrpcClient.Events current;
  private volatile boolean closed;

  private AgentEvents(Path socket) {
    this.socket = socket;
    this.client = GrpcClient.connect(socket);
  }

  /** The gRPC socket of the agent whose JSON API listens on {@code apiSocket}. */
  static Path socketOf(Path apiSocket) {
    return GrpcServer.socketBeside(apiSocket);
  }

  /** What is at the agent's gRPC socket. */
  static CoreApis.DaemonStatus status(Path apiSocket) {
    return CoreApis.probe(socketOf(apiSocket));
  }

  /**
   * Connects to the agent behind {@code apiSocket}.
   *
   * @throws CliException {@link ExitCodes#DAEMON_UNAVAILABLE} when no agent answers there
   */
  static AgentEvents connect(Path apiSocket) {
    Path grpc = socketOf(apiSocket);
    CoreApis.DaemonStatus status = CoreApis.probe(grpc);
    if (status != CoreApis.DaemonStatus.RUNNING) {
      throw new CliException(
          status == CoreApis.DaemonStatus.NO_PERMISSION
              ? ExitCodes.API_FORBIDDEN
              : ExitCodes.DAEMON_UNAVAILABLE,
          status.description() + " (gRPC socket " + grpc + ")");
    }
    return new AgentEvents(grpc);
  }

  /**
   * Delivers every item until the agent ends the stream or {@link #close()} is called.
   *
   * @param since replay after this sequence number first; empty: live only
   * @throws ApiException when the agent refuses or goes away ({@code FORBIDDEN}, {@code
   *     UNAVAILABLE}), or keeps cutting this reader off without it getting any event
   */
  void follow(
      OptionalLong since,
      Set<String> types,
      Consumer<EventFeed.Item> items,
      Consumer<String> notices)
      throws ApiException {
    OptionalLong from = since;
    int emptyResumes = 0;
    while (!closed) {
      long last = from.orElse(-1);
      try (GrpcClient.Events events = client.streamEvents(from, types)) {
        current = events;
        if (closed) {
          return;
        }
        while (events.hasNext()) {
          EventFeed.Item item = events.next();
          if (item instanceof EventFeed.Event e) {
            last = e.seq();
            emptyResumes = 0;
          } else if (item instanceof EventFeed.Live l && last < 0) {
            last = l.replayedThrough();
          }
          items.accept(item);
        }
        return;
      } catch (ApiException e) {
        if (closed) {
          return;
        }
        boolean cutOff =
            e.code() == ApiException.Code.UNAVAILABLE && e.getMessage().contains("fell behind");
        if (!cutOff || last < 0 || ++emptyResumes > MAX_EMPTY_RESUMES) {
          throw e;
        }
        notices.accept(
            "the agent cut this stream off (" + e.getMessage() + "); resuming after seq " + last);
        from = OptionalLong.of(last);
      }
    }
  }

  Path socket() {
    return socket;
  }

  @Override
  public void close() {
    closed = true;
    GrpcClient.Events events = current;
    if (events != null) {
      events.close();
    }
    client.close();
  }
}
