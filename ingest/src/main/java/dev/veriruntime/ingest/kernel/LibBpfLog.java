package dev.veriruntime.ingest.kernel;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.Pointer;

/**
 * Routes libbpf's log (process-wide, set once through {@code libbpf_set_print}) to the {@code
 * System.Logger} named {@code dev.veriruntime.ingest.libbpf}, and lets a thread capture the
 * warnings it causes, so a failed load can name the program libbpf rejected.
 *
 * <p>The callback object is held in a static field: libbpf keeps only its native stub, and a
 * collected callback would leave libbpf calling freed code.
 */
final class LibBpfLog {
  private static final System.Logger LOG = System.getLogger("dev.veriruntime.ingest.libbpf");
  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_INFO = 1;
  private static final ThreadLocal<List<String>> CAPTURE = new ThreadLocal<>();
  // Strong reference for the life of the process; see class comment.
  private static LibBpf.PrintCallback callback;

  private LibBpfLog() {}

  static synchronized void install(NativeLibraries libraries) {
    if (callback != null) {
      return;
    }
    LibC libc = libraries.libc;
    callback =
        (level, format, vaList) -> {
          try {
            Level javaLevel =
                level == LIBBPF_WARN
                    ? Level.WARNING
                    : level == LIBBPF_INFO ? Level.INFO : Level.DEBUG;
            List<String> capture = CAPTURE.get();
            if (capture == null && !LOG.isLoggable(javaLevel)) {
              return 0;
            }
            String line = format(libc, format, vaList);
            if (capture != null && level <= LIBBPF_INFO) {
              capture.add(line);
            }
            // The logger's name already says libbpf; the captured line keeps the prefix.
            LOG.log(javaLevel, line.startsWith("libbpf: ") ? line.substring(8) : line);
          } catch (Throwable t) {
            // Never let an exception unwind into libbpf's C frames.
          }
          return 0;
        };
    libraries.bpf.libbpf_set_print(callback);
  }

  private static String format(LibC libc, Pointer format, Pointer vaList) {
    byte[] buffer = new byte[2048];
    // The va_list can be consumed only once: one vsnprintf, truncated if longer than the buffer.
    int written = libc.vsnprintf(buffer, buffer.length, format, vaList);
    return message(buffer, written);
  }

  /**
   * The message in the first {@code written} bytes of {@code buffer} (vsnprintf's count, which may
   * exceed the buffer when it truncated), without the newlines libbpf ends its lines with: the log
   * formatter adds its own, and a blank line after every libbpf message is noise.
   */
  static String message(byte[] buffer, int written) {
    int length = Math.max(0, Math.min(written, buffer.length - 1));
    return new String(buffer, 0, length, StandardCharsets.UTF_8).stripTrailing();
  }

  /** Starts collecting this thread's libbpf warnings and info lines; returns the live list. */
  static List<String> startCapture() {
    List<String> lines = new ArrayList<>();
    CAPTURE.set(lines);
    return lines;
  }

  static void stopCapture() {
    CAPTURE.remove();
  }
}
