package dev.veriruntime.verifier.pkg;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The Debian package database's own record of what each package installed: {@code
 * /var/lib/dpkg/info/PACKAGE.md5sums}, one {@code "MD5 relative/path"} line per file. A file whose
 * bytes match its package's checksum is what the (signature-checked) package shipped; one that
 * differs is candidate tampering.
 *
 * <p>The checksum is MD5 because that is what dpkg records; it vouches for content only together
 * with the root-owned database, which is why the SIGNATURE scope is never satisfied by it. Paths
 * are matched across the merged-/usr aliases ({@code /bin} = {@code /usr/bin}, likewise {@code
 * /sbin} and {@code /lib*}). Immutable after {@link #load}; thread-safe. When the package manager
 * changes the database, load a new snapshot and compare it with {@link #changesFrom}.
 *
 * <p>Package executables (files in a {@code bin} or {@code sbin} directory) are also indexed by
 * checksum, so that {@link #executableWithSameContent} can tell that an unknown file is a package
 * command copied under another name (a masquerade: {@code cp /usr/bin/nc /tmp/sshd}). Their sizes
 * on disk, read once at load, spare most unknown files that second digest.
 */
public final class PackageDatabase {
  public static final Path DEFAULT_INFO_DIR = Path.of("/var/lib/dpkg/info");
  private static final Comparator<PackageFile> SHORTEST_PATH =
      Comparator.comparingInt((PackageFile f) -> f.path().length())
          .thenComparing(PackageFile::path);
  private static final List<String> MERGED =
      List.of("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/");

  private final Map<String, PackageFile> files;
  private final Map<String, PackageFile> executablesByMd5;

  /**
   * Sizes of the package executables on disk; null when one could not be read (then always hash).
   */
  private final Set<Long> executableSizes;

  private final int unreadable;

  /**
   * One file a package installed, with the MD5 the package database recorded for it.
   *
   * @param path the absolute path the package installed
   * @param md5 the lowercase hex MD5 recorded for it
   * @param packageName the package (without architecture)
   * @param version the installed version from dpkg's {@code status} file; empty when not known
   * @param listFile the {@code *.md5sums} file that records it; empty when not known
   */
  public record PackageFile(
      String path, String md5, String packageName, String version, String listFile) {

    public PackageFile(String path, String md5, String packageName) {
      this(path, md5, packageName, "", "");
    }

    /** The record as its line in the md5sums file: {@code MD5 PATH-WITHOUT-LEADING-SLASH}. */
    public String md5sumsLine() {
      return md5 + "  " + path.substring(1);
    }
  }

  /**
   * What differs between two snapshots of the database: files whose record was added, removed or
   * given another checksum, and the packages they belong to (in either snapshot).
   *
   * @param paths canonical paths (merged-/usr aliases resolved to {@code /usr/...}), sorted
   */
  public record Changes(Set<String> paths, Set<String> packages) {
    /** Nothing changed. */
    public static final Changes NONE = new Changes(Set.of(), Set.of());

    public Changes {
      paths = Collections.unmodifiableSet(new TreeSet<>(paths));
      packages = Collections.unmodifiableSet(new TreeSet<>(packages));
    }

    /** True if the record for {@code path} (absolute, any merged-/usr alias) changed. */
    public boolean affects(String path) {
      return path != null && paths.contains(canonical(path));
    }

    public boolean isEmpty() {
      return paths.isEmpty();
    }
  }

  /** Outcome of comparing a file with its package record. */
  public enum Match {
    /** The bytes match the package's checksum. */
    MATCHES,
    /** The file is package-owned but its bytes differ: candidate tampering. */
    DIFFERS
  }

  private PackageDatabase(Map<String, PackageFile> files, int unreadable) {
    this.files = files;
    this.unreadable = unreadable;
    Map<String, PackageFile> byMd5 = new HashMap<>();
    Set<Long> sizes = new HashSet<>();
    boolean allSizes = true;
    for (PackageFile f : files.values()) {
      if (!isExecutablePath(f.path())) {
        continue;
      }
      // Identical commands (perl and perl5.36.0): name the shortest path, whatever the load order.
      byMd5.merge(
          f.md5().toLowerCase(Locale.ROOT), f, (a, b) -> SHORTEST_PATH.compare(a, b) <= 0 ? a : b);
      try {
        sizes.add(Files.size(Path.of(f.path())));
      } catch (IOException | RuntimeException e) {
        allSizes = false;
      }
    }
    this.executablesByMd5 = Map.copyOf(byMd5);
    this.executableSizes = allSizes ? Set.copyOf(sizes) : null;
  }

  /** An empty database (no package manager on this host). */
  public static PackageDatabase empty() {
    return new PackageDatabase(Map.of(), 0);
  }

  /**
   * Reads every {@code *.md5sums} file under {@code infoDir}; a missing directory gives an empty
   * database. Malformed lines are skipped; unreadable files are counted ({@link #unreadableFiles}).
   */
  public static PackageDatabase load(Path infoDir) throws IOException {
    if (!Files.isDirectory(infoDir)) {
      return empty();
    }
    Map<String, PackageFile> files = new HashMap<>(1 << 17);
    Map<String, String> versions = installedVersions(infoDir.resolveSibling("status"));
    int unreadable = 0;
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(infoDir, "*.md5sums")) {
      for (Path list : dir) {
        String name = list.getFileName().toString();
        String pkg = name.substring(0, name.length() - ".md5sums".length());
        int colon = pkg.indexOf(':');
        pkg = colon < 0 ? pkg : pkg.substring(0, colon);
        String version = versions.getOrDefault(pkg, "");
        String listFile = list.toString();
        List<String> lines;
        try {
          lines = Files.readAllLines(list, StandardCharsets.UTF_8);
        } catch (IOException e) {
          unreadable++;
          continue;
        }
        for (String line : lines) {
          // "<32 hex>  <path>"; paths may contain spaces, so split only at the first separator.
          if (line.length() < 35 || line.charAt(32) != ' ' || !isHex(line, 32)) {
            continue;
          }
          String md5 = line.substring(0, 32);
          String rel = line.substring(33).stripLeading();
          if (rel.isEmpty()) {
            continue;
          }
          String path = canonical("/" + rel);
          files.put(path, new PackageFile("/" + rel, md5, pkg, version, listFile));
        }
      }
    }
    return new PackageDatabase(Map.copyOf(files), unreadable);
  }

  /**
   * Package name to installed version, from dpkg's {@code status} file (paragraphs of {@code
   * Package:} and {@code Version:} fields); empty when the file is missing or unreadable, which
   * only leaves versions unnamed.
   */
  static Map<String, String> installedVersions(Path status) {
    Map<String, String> versions = new HashMap<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(status, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return versions;
    }
    String pkg = null;
    String version = null;
    for (String line : lines) {
      if (line.isEmpty()) {
        if (pkg != null && version != null) {
          versions.putIfAbsent(pkg, version);
        }
        pkg = null;
        version = null;
      } else if (line.startsWith("Package: ")) {
        pkg = line.substring("Package: ".length()).strip();
      } else if (line.startsWith("Version: ")) {
        version = line.substring("Version: ".length()).strip();
      }
    }
    if (pkg != null && version != null) {
      versions.putIfAbsent(pkg, version);
    }
    return versions;
  }

  /** The package record for {@code path} (absolute), across merged-/usr aliases. */
  public Optional<PackageFile> lookup(String path) {
    return Optional.ofNullable(files.get(canonical(path)));
  }

  /**
   * Compares the bytes of {@code channel} (positional reads from 0; its position is left alone)
   * with the package record for {@code path}; empty if no package owns the path.
   */
  public Optional<Match> check(String path, FileChannel channel) throws IOException {
    Optional<PackageFile> record = lookup(path);
    if (record.isEmpty()) {
      return Optional.empty();
    }
    String actual = md5(channel);
    return Optional.of(actual.equalsIgnoreCase(record.get().md5()) ? Match.MATCHES : Match.DIFFERS);
  }

  /**
   * The package executable whose recorded checksum equals the bytes of {@code channel} (positional
   * reads; its position is left alone), if any: for a file that no package owns at its own path,
   * this says which package command it is a copy of.
   */
  public Optional<PackageFile> executableWithSameContent(FileChannel channel) throws IOException {
    if (executablesByMd5.isEmpty()
        || (executableSizes != null && !executableSizes.contains(channel.size()))) {
      return Optional.empty();
    }
    return Optional.ofNullable(executablesByMd5.get(md5(channel)));
  }

  public int size() {
    return files.size();
  }

  /** Every file recorded for a package whose name {@code packageName} accepts, by path. */
  public List<PackageFile> filesOf(Predicate<String> packageName) {
    return files.values().stream()
        .filter(f -> packageName.test(f.packageName()))
        .sorted(Comparator.comparing(PackageFile::path))
        .toList();
  }

  /**
   * What changed from {@code older} to this snapshot: a record added, removed, or with another
   * checksum. A file that merely moved to another package with the same checksum is not a change.
   */
  public Changes changesFrom(PackageDatabase older) {
    Set<String> paths = new TreeSet<>();
    Set<String> packages = new TreeSet<>();
    files.forEach(
        (path, now) -> {
          PackageFile before = older.files.get(path);
          if (before == null || !before.md5().equalsIgnoreCase(now.md5())) {
            paths.add(path);
            packages.add(now.packageName());
            if (before != null) {
              packages.add(before.packageName());
            }
          }
        });
    older.files.forEach(
        (path, before) -> {
          if (!files.containsKey(path)) {
            paths.add(path);
            packages.add(before.packageName());
          }
        });
    return new Changes(paths, packages);
  }

  /** {@code *.md5sums} files that could not be read during {@link #load}. */
  public int unreadableFiles() {
    return unreadable;
  }

  /**
   * Whether the first {@code n} characters are hex digits. A checksum that is not hex could never
   * match, so recording it would make the package's own file look tampered with.
   */
  private static boolean isHex(String s, int n) {
    for (int i = 0; i < n; i++) {
      if (Character.digit(s.charAt(i), 16) < 0 || s.charAt(i) > 'f') {
        return false;
      }
    }
    return true;
  }

  private static boolean isExecutablePath(String path) {
    int slash = path.lastIndexOf('/');
    return slash > 0
        && (path.startsWith("/bin/", slash - 4) || path.startsWith("/sbin/", slash - 5));
  }

  static String canonical(String path) {
    for (String prefix : MERGED) {
      if (path.startsWith(prefix)) {
        return "/usr" + path;
      }
    }
    return path;
  }

  /**
   * Per-thread read buffer of {@link #md5}. A new direct buffer per call is native memory that only
   * a garbage collection frees: a storm of new binaries (each looked up by MD5) piled up to the
   * JVM's direct-memory limit (the heap size) before one came.
   */
  private static final ThreadLocal<ByteBuffer> MD5_BUFFER =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(1 << 20));

  /** MD5 of the whole channel with positional reads: the channel's own position is left alone. */
  private static String md5(FileChannel channel) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is a required JDK algorithm", e);
    }
    ByteBuffer buf = MD5_BUFFER.get();
    long pos = 0;
    int n;
    while ((n = channel.read(buf.clear(), pos)) > 0) {
      md.update(buf.flip());
      pos += n;
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
