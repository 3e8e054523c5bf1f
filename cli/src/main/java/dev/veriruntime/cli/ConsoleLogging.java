package dev.veriruntime.cli;

import java.time.Clock;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Sends every log message of the process (the daemon's, the probe loader's, libbpf's through {@code
 * dev.veriruntime.ingest.libbpf}, Reactor's) to standard error, one line each, through {@link
 * OneLineLogFormatter}; a message that keeps repeating is printed once and then counted ({@link
 * RepeatFoldingHandler}). Everything in VeriRuntime logs through {@code System.Logger}, whose
 * default backend is java.util.logging, so one handler on its root logger covers all of it.
 *
 * <p>The level comes from {@code VERIRUNTIME_LOG} ({@code error}, {@code warn}, {@code info} — the
 * default — or {@code debug}, which also prints stack traces). A user who points {@code
 * java.util.logging.config.file} at their own configuration keeps it untouched.
 */
final class ConsoleLogging {
  static final String LEVEL_VARIABLE = "VERIRUNTIME_LOG";
  private static boolean installed;

  /**
   * Kafka's client logs every connection attempt and its whole configuration at INFO: only its
   * warnings unless debugging. Held here because java.util.logging keeps loggers weakly.
   */
  private static final Logger KAFKA = Logger.getLogger("org.apache.kafka");

  private ConsoleLogging() {}

  /** Installs the handler once per process; later calls do nothing. */
  static synchronized void install() {
    if (installed || System.getProperty("java.util.logging.config.file") != null) {
      return;
    }
    installed = true;
    Level level = level(System.getenv(LEVEL_VARIABLE));
    Logger root = LogManager.getLogManager().getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h); // the default ConsoleHandler prints two lines a message
    }
    ConsoleHandler stderr = new ConsoleHandler();
    stderr.setFormatter(new OneLineLogFormatter(level.intValue() <= Level.FINE.intValue()));
    stderr.setLevel(Level.ALL);
    RepeatFoldingHandler folding = new RepeatFoldingHandler(stderr, Clock.systemUTC());
    folding.setLevel(level);
    root.addHandler(folding);
    root.setLevel(level);
    KAFKA.setLevel(level.intValue() <= Level.FINE.intValue() ? level : Level.WARNING);
  }

  /**
   * For a command that reports Kafka failures itself in one line ({@code fleet summary}): the
   * client's own connection warnings are left out unless {@code VERIRUNTIME_LOG=debug}.
   */
  static void onlyKafkaErrors() {
    if (!KAFKA.isLoggable(Level.FINE)) {
      KAFKA.setLevel(Level.SEVERE);
    }
  }

  /**
   * The java.util.logging level for a {@code VERIRUNTIME_LOG} value; INFO when unset or unknown.
   */
  static Level level(String name) {
    if (name == null) {
      return Level.INFO;
    }
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "error" -> Level.SEVERE;
      case "warn", "warning" -> Level.WARNING;
      case "debug" -> Level.FINE;
      case "trace" -> Level.FINEST;
      default -> Level.INFO;
    };
  }
}
