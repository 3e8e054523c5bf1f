package dev.veriruntime.api;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * grpc-java sets {@code SO_KEEPALIVE} on every connection it makes or accepts; a Unix domain socket
 * has no such option, and netty's bootstrap logs a warning for each connection, which would land on
 * the terminal of {@code veriruntime events --follow}. Only netty's bootstrap loggers are raised to
 * SEVERE (their parent is held here, since JUL keeps loggers weakly).
 */
final class NettyBootstrapLog {
  // The option warnings are logged under Bootstrap (client) and ServerBootstrap (accepted
  // connections): their parent is named.
  private static final Logger BOOTSTRAP = Logger.getLogger("io.netty.bootstrap");

  static {
    BOOTSTRAP.setLevel(Level.SEVERE);
  }

  private NettyBootstrapLog() {}

  /** Makes sure the level is set before the first connection. */
  static void quiet() {
    // The static initializer did it.
  }
}
