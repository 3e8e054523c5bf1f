package dev.veriruntime.agent.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The page's files, read once from this jar: a fixed list, so no request name ever reaches a file
 * system path. Immutable after {@link #load}; thread safe.
 */
final class WebAssets {
  private static final String BASE = "/dev/veriruntime/agent/ui/web/";

  /** One file and its content type. */
  record Asset(String contentType, byte[] bytes) {
    String text() {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  /** Name to content type of every file served. */
  private static final Map<String, String> FILES =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "app.css", "text/css; charset=utf-8",
          "app.js", "text/javascript; charset=utf-8",
          "chain.js", "text/javascript; charset=utf-8",
          "report.js", "text/javascript; charset=utf-8",
          "vendor/dagre.js", "text/javascript; charset=utf-8",
          "vendor/dagre.LICENSE", "text/plain; charset=utf-8");

  private final Map<String, Asset> assets;

  private WebAssets(Map<String, Asset> assets) {
    this.assets = Map.copyOf(assets);
  }

  static WebAssets load() {
    Map<String, Asset> read = new LinkedHashMap<>();
    FILES.forEach((name, type) -> read.put(name, new Asset(type, read(name))));
    return new WebAssets(read);
  }

  /** The asset called {@code name}, or null when there is none. */
  Asset get(String name) {
    return assets.get(name);
  }

  private static byte[] read(String name) {
    try (InputStream in = WebAssets.class.getResourceAsStream(BASE + name)) {
      if (in == null) {
        throw new IllegalStateException("web asset missing from the jar: " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
