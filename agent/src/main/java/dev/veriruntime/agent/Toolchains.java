package dev.veriruntime.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which executables are toolchain processes for build lineage, and which are the roots of a build.
 * A name matches after a version suffix ({@code -12}, {@code -14.0}) and a target-triplet prefix
 * ({@code x86_64-linux-gnu-}) are taken off, so {@code /usr/bin/x86_64-linux-gnu-gcc-12} is {@code
 * gcc}. Go's tools ({@code compile}, {@code link}, {@code asm}, {@code cgo}) match only under a
 * {@code pkg/tool/} directory, so coreutils' {@code link} is not one. A name alone never makes a
 * toolchain: the caller also requires the executable to be verified; a {@code sha256:HEX} entry
 * vouches by digest. Immutable and thread-safe.
 */
final class Toolchains {
  /** GCC, binutils, LLVM/clang/lld, Go and Rust. */
  static final Set<String> DEFAULT_NAMES =
      Set.of(
          // GCC
          "gcc",
          "cc",
          "c++",
          "g++",
          "cpp",
          "cc1",
          "cc1plus",
          "cc1obj",
          "collect2",
          "lto1",
          "lto-wrapper",
          "gfortran",
          "f951",
          // binutils
          "as",
          "ld",
          "ld.bfd",
          "ld.gold",
          "gold",
          "ar",
          "ranlib",
          "objcopy",
          "strip",
          // LLVM
          "clang",
          "clang++",
          "clang-cpp",
          "lld",
          "ld.lld",
          "llvm-ar",
          "llvm-ranlib",
          "llvm-objcopy",
          "llvm-strip",
          "llvm-mc",
          // Go (the driver; its tools below) and Rust
          "go",
          "rustc");

  /** Go's tools: toolchain only under {@code .../pkg/tool/GOOS_GOARCH/}. */
  static final Set<String> GO_TOOLS = Set.of("compile", "link", "asm", "cgo");

  /** Processes that start a build: the first step of a lineage chain. */
  static final Set<String> BUILD_ROOTS =
      Set.of(
          "make",
          "gmake",
          "ninja",
          "samu",
          "cmake",
          "ctest",
          "cargo",
          "go",
          "mvn",
          "gradle",
          "bazel",
          "meson",
          "scons",
          "ant",
          "dpkg-buildpackage",
          "rpmbuild");

  private static final Pattern VERSION = Pattern.compile("-\\d+(\\.\\d+)*$");
  private static final Pattern TRIPLET = Pattern.compile("[a-z0-9_]+(-[a-z0-9_]+)+");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  /** Where toolchain executables live on Debian-like hosts; globs are expanded one level. */
  private static final List<String> SEARCH =
      List.of(
          "/usr/bin",
          "/usr/local/bin",
          "/usr/lib/gcc/*/*",
          "/usr/libexec/gcc/*/*",
          "/usr/lib/llvm-*/bin",
          "/usr/lib/go-*/bin",
          "/usr/lib/go-*/pkg/tool/*",
          "/usr/local/go/bin",
          "/usr/local/go/pkg/tool/*");

  private final Set<String> names;
  private final Set<String> digests;

  private Toolchains(Set<String> names, Set<String> digests) {
    this.names = Set.copyOf(names);
    this.digests = Set.copyOf(digests);
  }

  /**
   * The defaults plus the policy's {@code lineage.toolchain} entries.
   *
   * @throws IllegalArgumentException for an entry that is neither a name nor {@code sha256:HEX}
   */
  static Toolchains of(List<String> extra) {
    Set<String> n = new LinkedHashSet<>(DEFAULT_NAMES);
    Set<String> d = new LinkedHashSet<>();
    for (String e : extra) {
      String entry = e.trim().toLowerCase(Locale.ROOT);
      if (entry.startsWith("sha256:")) {
        if (!DIGEST.matcher(entry).matches()) {
          throw new IllegalArgumentException("lineage.toolchain: malformed digest " + e);
        }
        d.add(entry.substring("sha256:".length()));
      } else if (entry.isEmpty() || entry.contains("/")) {
        throw new IllegalArgumentException(
            "lineage.toolchain: give a file name or sha256:HEX, not " + e);
      } else {
        n.add(entry);
      }
    }
    return new Toolchains(n, d);
  }

  /** Whether the executable at {@code path} has a toolchain name. */
  boolean named(String path) {
    int slash = path.lastIndexOf('/');
    String base = VERSION.matcher(path.substring(slash + 1)).replaceFirst("");
    if (GO_TOOLS.contains(base)) {
      return path.contains("/pkg/tool/");
    }
    if (names.contains(base)) {
      return true;
    }
    for (int i = base.indexOf('-'); i > 0; i = base.indexOf('-', i + 1)) {
      if (names.contains(base.substring(i + 1))
          && TRIPLET.matcher(base.substring(0, i)).matches()) {
        return true;
      }
    }
    return false;
  }

  /** Whether the policy vouches for this digest as a toolchain executable. */
  boolean vouched(String sha256) {
    return sha256 != null && digests.contains(sha256);
  }

  /** Whether the executable at {@code path} starts builds (make, ninja, cargo...). */
  static boolean buildRoot(String path) {
    int slash = path.lastIndexOf('/');
    return BUILD_ROOTS.contains(VERSION.matcher(path.substring(slash + 1)).replaceFirst(""));
  }

  /** Files with build-root names in {@code /usr/bin} and {@code /usr/local/bin}, real paths. */
  static List<Path> buildRootCandidates() {
    Set<Path> found = new LinkedHashSet<>();
    for (String dir : List.of("/usr/bin", "/usr/local/bin")) {
      for (String name : BUILD_ROOTS) {
        Path f = Path.of(dir, name);
        try {
          if (Files.isRegularFile(f) && Files.isExecutable(f)) {
            found.add(f.toRealPath());
          }
        } catch (IOException e) {
          // vanished meanwhile
        }
      }
    }
    return new ArrayList<>(found);
  }

  /** Files with toolchain names in the usual directories, real paths, each once. */
  List<Path> candidates() {
    Set<Path> found = new LinkedHashSet<>();
    for (String dir : SEARCH) {
      for (Path d : expand(dir)) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
          for (Path f : files) {
            if (named(f.toString()) && Files.isRegularFile(f) && Files.isExecutable(f)) {
              found.add(f.toRealPath());
            }
          }
        } catch (IOException e) {
          // a directory that is not there or not readable holds no toolchain
        }
      }
    }
    return new ArrayList<>(found);
  }

  private static List<Path> expand(String pattern) {
    List<Path> dirs = List.of(Path.of("/"));
    for (Path part : Path.of(pattern)) {
      String p = part.toString();
      List<Path> next = new ArrayList<>();
      for (Path d : dirs) {
        if (!p.contains("*")) {
          next.add(d.resolve(p));
          continue;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(d, p)) {
          s.forEach(next::add);
        } catch (IOException e) {
          // nothing there
        }
      }
      dirs = next;
    }
    return dirs.stream().filter(Files::isDirectory).toList();
  }
}
