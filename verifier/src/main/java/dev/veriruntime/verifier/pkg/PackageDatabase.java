package dev.veriruntime.verifier.pkg;

import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
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
 * on disk, read once at load, spare most unknown files that second digest. A command missing from
 * disk at load (removed by hand, or excluded from installation) is left out of that index: its size
 * is unknown, and keeping it would cost every unknown file a full MD5 pass (two such npm scripts on
 * the development machine did).
 */
public final class PackageDatabase {
  public static final Path DEFAULT_INFO_DIR = Path.of("/var/lib/dpkg/info");
  private static final Comparator<PackageFile> SHORTEST_PATH =
      Comparator.comparingInt((PackageFile f) -> f.path().length())
          .thenComparing(PackageFile::path);
  private static final List<String> MERGED =
      List.of("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/");

  /** The records, compactly: see {@link Records}. */
  private final Records files;

  private final Map<Md5, Integer> executablesByMd5;

  /** Sizes of the indexed package executables on disk. */
  private final Set<Long> executableSizes;

  private final int unreadable;

  private static final HexFormat HEX = HexFormat.of();

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

  private PackageDatabase(Records files, int unreadable) {
    this.files = files;
    this.unreadable = unreadable;
    Map<Md5, Integer> byMd5 = new HashMap<>();
    Set<Long> sizes = new HashSet<>();
    for (int slot = 0; slot < files.slots.length; slot++) {
      int i = files.slots[slot] - 1;
      if (i < 0) {
        continue;
      }
      String path = files.installedPath(i);
      if (!isExecutablePath(path)) {
        continue;
      }
      try {
        sizes.add(Files.size(Path.of(path)));
      } catch (IOException | RuntimeException e) {
        continue; // not on disk: see the class comment
      }
      // Identical commands (perl and perl5.36.0): name the shortest path, whatever the load order.
      byMd5.merge(
          files.md5(i),
          i,
          (a, b) -> SHORTEST_PATH.compare(files.file(a), files.file(b)) <= 0 ? a : b);
    }
    this.executablesByMd5 = Map.copyOf(byMd5);
    this.executableSizes = Set.copyOf(sizes);
  }

  /** An empty database (no package manager on this host). */
  public static PackageDatabase empty() {
    return new PackageDatabase(new Records.Builder().build(), 0);
  }

  /**
   * Reads every {@code *.md5sums} file under {@code infoDir}; a missing directory gives an empty
   * database. Malformed lines are skipped; unreadable files are counted ({@link #unreadableFiles}).
   */
  public static PackageDatabase load(Path infoDir) throws IOException {
    if (!Files.isDirectory(infoDir)) {
      return empty();
    }
    Records.Builder files = new Records.Builder();
    Map<String, String> versions = installedVersions(infoDir.resolveSibling("status"));
    int unreadable = 0;
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(infoDir, "*.md5sums")) {
      for (Path list : dir) {
        String name = list.getFileName().toString();
        String pkg = name.substring(0, name.length() - ".md5sums".length());
        int colon = pkg.indexOf(':');
        pkg = colon < 0 ? pkg : pkg.substring(0, colon);
        String version = versions.getOrDefault(pkg, "");
        List<String> lines;
        try {
          lines = Files.readAllLines(list, StandardCharsets.UTF_8);
        } catch (IOException e) {
          unreadable++;
          continue;
        }
        int owner = files.owner(pkg, version, list.toString());
        for (String line : lines) {
          // "<32 hex>  <path>"; paths may contain spaces, so split only at the first separator.
          if (line.length() < 35 || line.charAt(32) != ' ' || !isHex(line, 32)) {
            continue;
          }
          String rel = line.substring(33).stripLeading();
          if (rel.isEmpty()) {
            continue;
          }
          String path = canonical("/" + rel);
          files.put(path, path.length() != rel.length() + 1, Md5.parse(line), owner);
        }
      }
    }
    return new PackageDatabase(files.build(), unreadable);
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
    int i = files.find(canonical(path).getBytes(StandardCharsets.UTF_8));
    return i < 0 ? Optional.empty() : Optional.of(files.file(i));
  }

  /**
   * Compares the bytes of {@code channel} (positional reads from 0; its position is left alone)
   * with the package record for {@code path}; empty if no package owns the path.
   */
  public Optional<Match> check(String path, FileChannel channel) throws IOException {
    int i = files.find(canonical(path).getBytes(StandardCharsets.UTF_8));
    if (i < 0) {
      return Optional.empty();
    }
    return Optional.of(md5(channel).equals(files.md5(i)) ? Match.MATCHES : Match.DIFFERS);
  }

  /**
   * The package executable whose recorded checksum equals the bytes of {@code channel} (positional
   * reads; its position is left alone), if any: for a file that no package owns at its own path,
   * this says which package command it is a copy of.
   */
  public Optional<PackageFile> executableWithSameContent(FileChannel channel) throws IOException {
    if (!mayHoldACopy(channel.size())) {
      return Optional.empty();
    }
    Integer i = executablesByMd5.get(md5(channel));
    return i == null ? Optional.empty() : Optional.of(files.file(i));
  }

  /**
   * Whether a file of {@code size} bytes may be a copy of a package command: only then is its MD5
   * computed.
   */
  boolean mayHoldACopy(long size) {
    return executableSizes.contains(size);
  }

  public int size() {
    return files.size;
  }

  /** Every file recorded for a package whose name {@code packageName} accepts, by path. */
  public List<PackageFile> filesOf(Predicate<String> packageName) {
    boolean[] accepted = new boolean[files.packages.length];
    for (int p = 0; p < accepted.length; p++) {
      accepted[p] = packageName.test(files.packages[p]);
    }
    List<PackageFile> out = new ArrayList<>();
    for (int slot = 0; slot < files.slots.length; slot++) {
      int i = files.slots[slot] - 1;
      if (i >= 0 && accepted[files.owner(i)]) {
        out.add(files.file(i));
      }
    }
    out.sort(Comparator.comparing(PackageFile::path));
    return out;
  }

  /**
   * What changed from {@code older} to this snapshot: a record added, removed, or with another
   * checksum. A file that merely moved to another package with the same checksum is not a change.
   */
  public Changes changesFrom(PackageDatabase older) {
    Set<String> paths = new TreeSet<>();
    Set<String> packages = new TreeSet<>();
    Records now = files;
    Records before = older.files;
    for (int slot = 0; slot < now.slots.length; slot++) {
      int i = now.slots[slot] - 1;
      if (i < 0) {
        continue;
      }
      int j = before.find(now, i);
      if (j < 0 || now.md5Hi[i] != before.md5Hi[j] || now.md5Lo[i] != before.md5Lo[j]) {
        paths.add(now.canonicalPath(i));
        packages.add(now.packages[now.owner(i)]);
        if (j >= 0) {
          packages.add(before.packages[before.owner(j)]);
        }
      }
    }
    for (int slot = 0; slot < before.slots.length; slot++) {
      int j = before.slots[slot] - 1;
      if (j >= 0 && now.find(before, j) < 0) {
        paths.add(before.canonicalPath(j));
        packages.add(before.packages[before.owner(j)]);
      }
    }
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
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(Sha256.BUFFER_SIZE));

  /** MD5 of the whole channel with positional reads: the channel's own position is left alone. */
  private static Md5 md5(FileChannel channel) throws IOException {
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
    ByteBuffer digest = ByteBuffer.wrap(md.digest());
    return new Md5(digest.getLong(), digest.getLong());
  }

  /** An MD5 checksum as two big-endian longs. */
  record Md5(long hi, long lo) {
    /** The checksum written as the first 32 hex digits of {@code s} (either case). */
    static Md5 parse(CharSequence s) {
      return new Md5(Long.parseUnsignedLong(s, 0, 16, 16), Long.parseUnsignedLong(s, 16, 32, 16));
    }

    /** Lowercase hex, as dpkg writes it. */
    String hex() {
      return HEX.toHexDigits(hi) + HEX.toHexDigits(lo);
    }
  }

  /**
   * The records of one snapshot, compactly (the package database was most of the agent's live heap
   * as one object graph of strings: about 360 bytes a file, 35 MiB for 98,000 files; this is about
   * 90 bytes a file). Each record {@code i} has its canonical path as UTF-8 in {@code
   * paths[offsets[i], offsets[i + 1])}, its checksum in {@code md5Hi[i]}, {@code md5Lo[i]}, and in
   * {@code owners[i]} the index of its {@code *.md5sums} file (package, version, list file) with
   * {@link #ALIAS} set when the package installed it under a merged-/usr alias ({@code /bin/...}
   * for canonical {@code /usr/bin/...}). {@code slots} is an open-addressed index by canonical path
   * (record index + 1; 0 is free). A path recorded twice keeps its last record, as a map would.
   * {@link PackageFile} objects are made on demand. Immutable once built.
   */
  static final class Records {
    static final int ALIAS = 1 << 31;

    final byte[] paths;
    final int[] offsets;
    final int[] hashes;
    final long[] md5Hi;
    final long[] md5Lo;
    final int[] owners;
    final String[] packages;
    final String[] versions;
    final String[] listFiles;
    final int[] slots;
    final int size;

    private Records(Builder b) {
      int n = b.count;
      paths = Arrays.copyOf(b.paths, b.offsets[n]);
      offsets = Arrays.copyOf(b.offsets, n + 1);
      hashes = Arrays.copyOf(b.hashes, n);
      md5Hi = Arrays.copyOf(b.md5Hi, n);
      md5Lo = Arrays.copyOf(b.md5Lo, n);
      owners = Arrays.copyOf(b.owners, n);
      packages = b.packages.toArray(String[]::new);
      versions = b.versions.toArray(String[]::new);
      listFiles = b.listFiles.toArray(String[]::new);
      slots = b.slots;
      size = b.size;
    }

    int owner(int i) {
      return owners[i] & ~ALIAS;
    }

    Md5 md5(int i) {
      return new Md5(md5Hi[i], md5Lo[i]);
    }

    String canonicalPath(int i) {
      return new String(paths, offsets[i], offsets[i + 1] - offsets[i], StandardCharsets.UTF_8);
    }

    /** The path as the package installed it (its merged-/usr alias, if that is what it named). */
    String installedPath(int i) {
      String canonical = canonicalPath(i);
      return (owners[i] & ALIAS) != 0 ? canonical.substring("/usr".length()) : canonical;
    }

    PackageFile file(int i) {
      int o = owner(i);
      return new PackageFile(
          installedPath(i), md5(i).hex(), packages[o], versions[o], listFiles[o]);
    }

    /** The record with this canonical path (UTF-8), or -1. */
    int find(byte[] path) {
      return find(path, 0, path.length, hash(path, 0, path.length));
    }

    /** The record with the canonical path of record {@code i} of {@code other}, or -1. */
    int find(Records other, int i) {
      int from = other.offsets[i];
      return find(other.paths, from, other.offsets[i + 1] - from, other.hashes[i]);
    }

    private int find(byte[] path, int from, int length, int hash) {
      int mask = slots.length - 1;
      for (int s = hash & mask; ; s = (s + 1) & mask) {
        int i = slots[s] - 1;
        if (i < 0) {
          return -1;
        }
        if (hashes[i] == hash
            && Arrays.equals(paths, offsets[i], offsets[i + 1], path, from, from + length)) {
          return i;
        }
      }
    }

    static int hash(byte[] b, int from, int length) {
      int h = 0;
      for (int k = from; k < from + length; k++) {
        h = 31 * h + b[k];
      }
      h ^= h >>> 16;
      h *= 0x45d9f3b;
      return h ^ (h >>> 16);
    }

    /** Collects records while a database is loaded. */
    static final class Builder {
      private byte[] paths = new byte[1 << 12];
      private int[] offsets = new int[65];
      private int[] hashes = new int[64];
      private long[] md5Hi = new long[64];
      private long[] md5Lo = new long[64];
      private int[] owners = new int[64];
      private final List<String> packages = new ArrayList<>();
      private final List<String> versions = new ArrayList<>();
      private final List<String> listFiles = new ArrayList<>();
      private int[] slots = new int[16];
      private int count;
      private int size;

      /** Registers one {@code *.md5sums} file; its index is the owner of its records. */
      int owner(String packageName, String version, String listFile) {
        packages.add(packageName);
        versions.add(version);
        listFiles.add(listFile);
        return packages.size() - 1;
      }

      void put(String canonicalPath, boolean alias, Md5 md5, int owner) {
        byte[] path = canonicalPath.getBytes(StandardCharsets.UTF_8);
        int hash = hash(path, 0, path.length);
        if (count == hashes.length) {
          int grown = count * 2;
          offsets = Arrays.copyOf(offsets, grown + 1);
          hashes = Arrays.copyOf(hashes, grown);
          md5Hi = Arrays.copyOf(md5Hi, grown);
          md5Lo = Arrays.copyOf(md5Lo, grown);
          owners = Arrays.copyOf(owners, grown);
        }
        int from = offsets[count];
        if (from + path.length > paths.length) {
          paths = Arrays.copyOf(paths, Math.max(paths.length * 2, from + path.length));
        }
        System.arraycopy(path, 0, paths, from, path.length);
        offsets[count + 1] = from + path.length;
        hashes[count] = hash;
        md5Hi[count] = md5.hi();
        md5Lo[count] = md5.lo();
        owners[count] = owner | (alias ? ALIAS : 0);
        if ((size + 1) * 2 > slots.length) {
          rehash(slots.length * 2);
        }
        int mask = slots.length - 1;
        for (int s = hash & mask; ; s = (s + 1) & mask) {
          int i = slots[s] - 1;
          if (i < 0) {
            slots[s] = count + 1;
            size++;
            break;
          }
          if (hashes[i] == hash
              && Arrays.equals(this.paths, offsets[i], offsets[i + 1], path, 0, path.length)) {
            slots[s] = count + 1; // the later record of the same path replaces the earlier one
            break;
          }
        }
        count++;
      }

      private void rehash(int capacity) {
        int[] grown = new int[capacity];
        int mask = capacity - 1;
        for (int entry : slots) {
          if (entry != 0) {
            int s = hashes[entry - 1] & mask;
            while (grown[s] != 0) {
              s = (s + 1) & mask;
            }
            grown[s] = entry;
          }
        }
        slots = grown;
      }

      Records build() {
        return new Records(this);
      }
    }
  }
}
