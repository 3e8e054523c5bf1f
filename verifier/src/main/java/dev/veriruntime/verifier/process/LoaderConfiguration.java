package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.elf.ElfHeader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where the dynamic loader looks for libraries on this host, read in pure Java instead of parsing
 * the binary {@code /etc/ld.so.cache}: the directories of {@code /etc/ld.so.conf} (with its {@code
 * include} globs, in order: the cache that {@code ldconfig} builds from them prefers earlier
 * directories), then the loader's built-in default directories, plus the libraries listed in {@code
 * /etc/ld.so.preload}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param configuredDirectories directories from ld.so.conf, in order, without duplicates
 * @param defaultDirectories the loader's trusted directories for this machine (multiarch first)
 * @param systemPreload entries of {@code /etc/ld.so.preload}, in order
 */
public record LoaderConfiguration(
    List<String> configuredDirectories,
    List<String> defaultDirectories,
    List<String> systemPreload) {

  private static final int MAX_INCLUDE_DEPTH = 8;

  public LoaderConfiguration {
    configuredDirectories = List.copyOf(configuredDirectories);
    defaultDirectories = List.copyOf(defaultDirectories);
    systemPreload = List.copyOf(systemPreload);
  }

  /** Reads {@code /etc/ld.so.conf} and {@code /etc/ld.so.preload} of the host, for its machine. */
  public static LoaderConfiguration host() throws IOException {
    return read(Path.of("/"), ElfHeader.hostMachine());
  }

  /**
   * Reads {@code root/etc/ld.so.conf} and {@code root/etc/ld.so.preload}; missing files count as
   * empty. Directory names stay as written (absolute in the file system below {@code root}).
   */
  public static LoaderConfiguration read(Path root, int machine) throws IOException {
    Set<String> dirs = new LinkedHashSet<>();
    parseConf(root, root.resolve("etc/ld.so.conf"), dirs, 0);
    List<String> preload = new ArrayList<>();
    Path preloadFile = root.resolve("etc/ld.so.preload");
    if (Files.isRegularFile(preloadFile)) {
      for (String line : lines(preloadFile)) {
        String l = stripComment(line);
        for (String entry : l.split("[\\s:]+")) {
          if (!entry.isEmpty()) {
            preload.add(entry);
          }
        }
      }
    }
    return new LoaderConfiguration(List.copyOf(dirs), defaultDirectories(machine), preload);
  }

  /** The loader's built-in directories for {@code machine} (Debian multiarch layout first). */
  public static List<String> defaultDirectories(int machine) {
    String triplet =
        switch (machine) {
          case ElfHeader.EM_X86_64 -> "x86_64-linux-gnu";
          case ElfHeader.EM_AARCH64 -> "aarch64-linux-gnu";
          case ElfHeader.EM_386 -> "i386-linux-gnu";
          case ElfHeader.EM_ARM -> "arm-linux-gnueabihf";
          case ElfHeader.EM_RISCV -> "riscv64-linux-gnu";
          default -> null;
        };
    List<String> out = new ArrayList<>();
    if (triplet != null) {
      out.add("/lib/" + triplet);
      out.add("/usr/lib/" + triplet);
    }
    out.addAll(List.of("/lib64", "/usr/lib64", "/lib", "/usr/lib"));
    return out;
  }

  /**
   * The lines of a small configuration file, as {@code Files.readAllLines} reads them but without
   * its reader's 16 KiB of buffers: re-attestation reads these files again for every process.
   */
  private static List<String> lines(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8).lines().toList();
  }

  private static void parseConf(Path root, Path file, Set<String> dirs, int depth)
      throws IOException {
    if (depth > MAX_INCLUDE_DEPTH) {
      return;
    }
    List<String> lines;
    try {
      lines = lines(file);
    } catch (NoSuchFileException e) {
      return;
    }
    for (String raw : lines) {
      String line = stripComment(raw).strip();
      if (line.isEmpty() || line.startsWith("hwcap ")) {
        continue;
      }
      if (line.startsWith("include ") || line.startsWith("include\t")) {
        for (String pattern : line.substring(8).strip().split("\\s+")) {
          for (Path inc : glob(root, file.getParent(), pattern)) {
            parseConf(root, inc, dirs, depth + 1);
          }
        }
        continue;
      }
      for (String dir : line.split("[\\s:,=]+")) {
        if (dir.startsWith("/")) {
          dirs.add(
              dir.length() > 1 && dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir);
        }
      }
    }
  }

  /** Files matching a glob whose wildcards are in the last component, sorted as ldconfig does. */
  private static List<Path> glob(Path root, Path relativeTo, String pattern) throws IOException {
    Path p =
        pattern.startsWith("/") ? root.resolve(pattern.substring(1)) : relativeTo.resolve(pattern);
    Path dir = p.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      return List.of();
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + p.getFileName());
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path e : entries) {
        if (matcher.matches(e.getFileName()) && Files.isRegularFile(e)) {
          out.add(e);
        }
      }
    }
    out.sort(null);
    return out;
  }

  private static String stripComment(String line) {
    int hash = line.indexOf('#');
    return hash >= 0 ? line.substring(0, hash) : line;
  }
}
