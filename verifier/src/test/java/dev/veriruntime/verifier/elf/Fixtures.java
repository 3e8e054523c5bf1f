package dev.veriruntime.verifier.elf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** The golden ELF fixtures of src/test/resources/elf and their expected values. */
public final class Fixtures {
  static final String[] ALL = {
    "hello-static",
    "hello-pie",
    "hello-stripped",
    "hello-execstack",
    "libfixture.so",
    "libtextrel.so",
    "tiny32",
    "tiny32-be",
    "hello-pie-be"
  };

  private static final Properties EXPECTED = load();

  private Fixtures() {}

  public static Path path(String name) {
    URL url = Fixtures.class.getResource("/elf/" + name);
    if (url == null) {
      throw new IllegalArgumentException("no fixture " + name);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] bytes(String name) {
    try {
      return Files.readAllBytes(path(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String expected(String key) {
    String v = EXPECTED.getProperty(key);
    if (v == null) {
      throw new IllegalArgumentException("expected.properties has no " + key);
    }
    return v;
  }

  /** Section name to hex SHA-256, as build.sh computed them with dd and sha256sum. */
  public static Map<String, String> sectionDigests(String fixture) {
    String prefix = fixture + ".section.";
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : EXPECTED.stringPropertyNames()) {
      if (key.startsWith(prefix)) {
        out.put(key.substring(prefix.length()), EXPECTED.getProperty(key));
      }
    }
    return out;
  }

  /** {address, size} of a symbol as nm printed it. */
  public static long[] symbol(String fixture, String name) {
    String[] parts = expected(fixture + ".symbol." + name).split(" ");
    return new long[] {Long.parseUnsignedLong(parts[0], 16), Long.parseUnsignedLong(parts[1], 16)};
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = Fixtures.class.getResourceAsStream("/elf/expected.properties")) {
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }
}
