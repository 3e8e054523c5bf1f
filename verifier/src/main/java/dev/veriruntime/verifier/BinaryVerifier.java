package dev.veriruntime.verifier;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.elf.Shebang;
import dev.veriruntime.verifier.hash.Sha256;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * VerifyBinary: is this file one that a trusted reference vouches for, and is it a sane ELF file
 * for this host? Checks {@link Scope#DISK_HASH}, {@link Scope#ELF_HEADER}, {@link
 * Scope#ELF_SECTIONS} and {@link Scope#SIGNATURE} (those intended by {@link Options}) and returns a
 * {@link BinaryVerification} whose verdict follows {@link Verdict#decide}.
 *
 * <p>Rules: the whole-file SHA-256 matching a reference makes DISK_HASH VERIFIED, and SIGNATURE
 * VERIFIED only if that reference came from a signature-verified envelope (else NOT_VERIFIED, so
 * the verdict is at best DEGRADED). A reference for the path with another digest makes DISK_HASH
 * FAILED and, when the reference carries section digests, ELF_SECTIONS FAILED naming the sections
 * that differ; a signed reference for the path outweighs an unsigned one that matches the digest.
 * No reference by digest or path makes the verdict UNKNOWN (unless an ELF check FAILED). A {@code
 * #!} script is hashed like any file; its ELF scopes are NOT_APPLICABLE and name the interpreter.
 *
 * <p>Cost on a cache miss: the file is read once to hash it; the ELF reader then reads only the
 * headers and tables (from the page cache). Section digests are computed only when a reference for
 * the path has a different digest, the one case that needs them.
 *
 * <p>Pure and thread-safe: no state besides the immutable store, clock and options, and the package
 * database, which a caller may swap for a newer snapshot (each verification uses one); channels
 * given to it are read with positional reads and never closed.
 *
 * <pre>{@code
 * BinaryVerifier verifier = new BinaryVerifier(store, Clock.systemUTC(), BinaryVerifier.Options.defaults());
 * BinaryVerification v = verifier.verify(Path.of("/usr/bin/ls"));
 * if (v.verdict() != Verdict.VERIFIED) { ... v.coverage() says which scope and why ... }
 * }</pre>
 */
public final class BinaryVerifier {
  /** The scopes this verifier can check. */
  public static final Set<Scope> BINARY_SCOPES =
      Set.copyOf(
          EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER, Scope.ELF_SECTIONS, Scope.SIGNATURE));

  private static final ElfReader HEADERS = ElfReader.create();
  private static final ElfReader WITH_SECTION_DIGESTS =
      ElfReader.create(ElfReader.Feature.SECTION_DIGESTS);
  private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

  /**
   * What to check.
   *
   * @param intendedScopes a non-empty subset of {@link #BINARY_SCOPES}; only these appear in the
   *     coverage, so leaving out SIGNATURE is how a policy accepts unsigned references
   * @param expectedMachine the {@code e_machine} a runnable file must have (see {@link
   *     ElfHeader#hostMachine()})
   */
  public record Options(Set<Scope> intendedScopes, int expectedMachine) {
    public Options {
      if (intendedScopes.isEmpty() || !BINARY_SCOPES.containsAll(intendedScopes)) {
        throw new IllegalArgumentException(
            "intended scopes must be a non-empty subset of "
                + BINARY_SCOPES
                + ": "
                + intendedScopes);
      }
      intendedScopes = Set.copyOf(intendedScopes);
    }

    /** All four scopes, expecting this host's machine. */
    public static Options defaults() {
      return new Options(BINARY_SCOPES, ElfHeader.hostMachine());
    }
  }

  private final ReferenceStore store;
  private final Clock clock;
  private final Options options;
  private final ElfStructureVerifier structure;
  private final Supplier<PackageDatabase> packages;

  public BinaryVerifier(ReferenceStore store, Clock clock, Options options) {
    this(store, PackageDatabase.empty(), clock, options);
  }

  /**
   * @param packages the package manager's own checksums, consulted only when no reference knows the
   *     file by digest or path: a match vouches for DISK_HASH (never for SIGNATURE), a mismatch
   *     fails it
   */
  public BinaryVerifier(
      ReferenceStore store, PackageDatabase packages, Clock clock, Options options) {
    this(store, constant(Objects.requireNonNull(packages, "packages")), clock, options);
  }

  /**
   * A verifier over a package database that may be replaced while it runs (after a package
   * upgrade): each verification reads {@code packages} once and uses that snapshot throughout.
   *
   * @param packages the current snapshot; must be thread-safe and never give null
   */
  public BinaryVerifier(
      ReferenceStore store, Supplier<PackageDatabase> packages, Clock clock, Options options) {
    this.packages = Objects.requireNonNull(packages, "packages");
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.options = Objects.requireNonNull(options, "options");
    this.structure = new ElfStructureVerifier(options.expectedMachine());
  }

  public ReferenceStore store() {
    return store;
  }

  /**
   * Verify the file at {@code path} (symbolic links followed, as exec does). References are looked
   * up by the path as given (made absolute) and by its real path.
   *
   * @throws IOException if the file is missing, a directory or not a regular file, or cannot be
   *     read
   */
  public BinaryVerification verify(Path path) throws IOException {
    return verify(path, null);
  }

  /**
   * Verify the file at {@code path}, checking that it is still the file the kernel executed.
   *
   * @param expected identity from the exec event, or {@code null} to skip the check
   * @throws IOException if the file is missing, a directory, or cannot be read
   */
  public BinaryVerification verify(Path path, FileIdentity expected) throws IOException {
    Path real = path.toRealPath();
    BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
    if (attrs.isDirectory()) {
      throw new FileSystemException(path.toString(), null, "is a directory");
    }
    if (!attrs.isRegularFile()) {
      // A device or FIFO is never what exec runs, and /dev/zero would be hashed forever.
      throw new FileSystemException(path.toString(), null, "not a regular file");
    }
    try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ)) {
      String given = path.toAbsolutePath().normalize().toString();
      return verify(ch, real, path.toString(), expected, List.of(given, real.toString()));
    }
  }

  /**
   * Verify an already opened file, for example {@code /proc/PID/exe}. The identity is read by
   * stat-ing {@code displayPath}; when the channel was opened through another path (as for {@code
   * /proc/PID/exe}, whose stat follows the link to the executed inode even if it was deleted or
   * replaced), use {@link #verify(FileChannel, Path, String, FileIdentity)}.
   *
   * @param displayPath reported in the result and used to look references up by path
   * @param expected identity from the exec event, or {@code null} to skip the check
   * @throws IOException if the file cannot be read or stat-ed
   */
  public BinaryVerification verify(FileChannel openFile, String displayPath, FileIdentity expected)
      throws IOException {
    return verify(openFile, Path.of(displayPath), displayPath, expected);
  }

  /**
   * Verify an already opened file whose identity is read from {@code statPath} ({@code
   * Files.readAttributes(statPath, "unix:dev,ino,ctime,size")}, before and after reading).
   *
   * @param statPath the path the channel was opened through, for example {@code /proc/PID/exe}
   * @param displayPath reported in the result and used to look references up by path
   * @param expected identity from the exec event, or {@code null} to skip the check
   * @throws IOException if the file cannot be read or stat-ed
   */
  public BinaryVerification verify(
      FileChannel openFile, Path statPath, String displayPath, FileIdentity expected)
      throws IOException {
    return verify(openFile, statPath, displayPath, expected, List.of(displayPath));
  }

  /**
   * The identity of the file at {@code path}, with {@code st_dev} converted to the kernel encoding.
   */
  public static FileIdentity identity(Path path) throws IOException {
    Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino,ctime,size");
    return FileIdentity.fromStat(
        (Long) a.get("dev"),
        (Long) a.get("ino"),
        ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS),
        (Long) a.get("size"));
  }

  /**
   * Verify an already opened file whose identity the caller established when it opened it, for
   * example {@code /proc/PID/exe} stat-ed right after opening: the process may exit before the file
   * is read, and then that path can no longer be stat-ed, but the open file stays readable.
   *
   * @param openedIdentity the identity of the file the channel was opened on
   * @param displayPath reported in the result and used to look references up by path
   * @param expected identity from the exec event, or {@code null} to skip the check
   * @throws IOException if the file cannot be read
   */
  public BinaryVerification verifyOpened(
      FileChannel openFile, FileIdentity openedIdentity, String displayPath, FileIdentity expected)
      throws IOException {
    return verify(openFile, () -> openedIdentity, displayPath, expected, List.of(displayPath));
  }

  /** Reads a file's identity; for an open file whose path may vanish, a fixed answer. */
  private interface IdentityReader {
    FileIdentity read() throws IOException;
  }

  private BinaryVerification verify(
      FileChannel ch,
      Path statPath,
      String displayPath,
      FileIdentity expected,
      List<String> lookupPaths)
      throws IOException {
    return verify(ch, () -> identity(statPath), displayPath, expected, lookupPaths);
  }

  private BinaryVerification verify(
      FileChannel ch,
      IdentityReader identities,
      String displayPath,
      FileIdentity expected,
      List<String> lookupPaths)
      throws IOException {
    Instant start = clock.instant();
    FileRead file = read(ch, identities);
    Result r = new Result(options.intendedScopes());
    String changed = fileChanged(file, expected, r);
    if (changed != null) {
      r.allNotVerified(changed);
      return r.build(displayPath, file.sha256(), file.before(), null, start, true);
    }
    Lookup refs = lookUp(file.sha256(), lookupPaths);
    PackageDatabase db = packages.get(); // one snapshot for the whole verification
    PackageVerdict pkg = refs.none() ? packageVerdict(db, ch, lookupPaths) : null;
    diskHash(r, ch, db, file.sha256(), displayPath, refs, pkg);
    elfStructure(r, ch, file, refs);
    signature(r, refs.match(), pkg != null, file.sha256());
    return r.build(
        displayPath,
        file.sha256(),
        file.before(),
        refs.match() != null ? refs.match() : refs.pathRef(),
        start,
        !refs.none() || pkg != null,
        pkg == null ? null : pkg.file());
  }

  /**
   * What one pass over the file found, between two reads of its identity.
   *
   * @param elf the parsed headers, or null when not an ELF file or {@code malformed}
   * @param malformed why the ELF reader rejected a file with the ELF magic, or null
   */
  private record FileRead(
      FileIdentity before,
      String sha256,
      ByteBuffer head,
      Optional<Shebang> shebang,
      boolean elfMagic,
      ElfFile elf,
      MalformedElfException malformed,
      FileIdentity after) {}

  private static FileRead read(FileChannel ch, IdentityReader identities) throws IOException {
    FileIdentity before = identities.read();
    String sha256 = Sha256.hex(ch);
    ByteBuffer head = readHead(ch);
    Optional<Shebang> shebang = Shebang.parse(head.duplicate());
    boolean elfMagic = shebang.isEmpty() && startsWith(head, ELF_MAGIC);
    ElfFile elf = null;
    MalformedElfException malformed = null;
    if (elfMagic) {
      try {
        elf = HEADERS.read(ch);
      } catch (MalformedElfException e) {
        malformed = e;
      }
    }
    FileIdentity after = identities.read();
    return new FileRead(before, sha256, head, shebang, elfMagic, elf, malformed, after);
  }

  /**
   * Why the bytes read are not those of the file meant (replaced since exec, or changed while it
   * was read), or null when they are; a replacement is also a finding.
   */
  private static String fileChanged(FileRead file, FileIdentity expected, Result r) {
    FileIdentity before = file.before();
    if (expected != null && !expected.equals(before)) {
      String reason =
          "file changed since exec: expected " + describe(expected) + ", found " + describe(before);
      r.finding(
          new Finding(
              FindingType.BINARY_REPLACED,
              Scope.DISK_HASH,
              reason,
              Map.of("expected", describe(expected), "actual", describe(before))));
      return reason;
    }
    if (!before.equals(file.after())) {
      return "file changed while it was read: "
          + describe(before)
          + " became "
          + describe(file.after());
    }
    return null;
  }

  /**
   * The references found for a file.
   *
   * @param match a reference with the file's digest, or null
   * @param pathRef a reference for the file's path with another digest, or null
   */
  private record Lookup(Reference match, Reference pathRef) {
    boolean none() {
      return match == null && pathRef == null;
    }
  }

  /** By digest (signed first, then one registered for this path), else by path. */
  private Lookup lookUp(String sha256, List<String> lookupPaths) {
    Reference match = pick(store.allBySha256(sha256), lookupPaths);
    if (match != null && match.signed()) {
      return new Lookup(match, null);
    }
    Set<Reference> byPath = new LinkedHashSet<>();
    for (String p : lookupPaths) {
      byPath.addAll(store.byPath(p));
    }
    Reference signedForPath = byPath.stream().filter(Reference::signed).findFirst().orElse(null);
    if (match == null) {
      return new Lookup(
          null, signedForPath != null ? signedForPath : byPath.stream().findFirst().orElse(null));
    }
    if (signedForPath != null && !signedForPath.sha256().equals(sha256)) {
      // A signed reference for this path names other bytes: an unsigned match does not outweigh it.
      return new Lookup(null, signedForPath);
    }
    return new Lookup(match, null);
  }

  /** DISK_HASH: references first; the package database only for files no reference knows. */
  private static void diskHash(
      Result r,
      FileChannel ch,
      PackageDatabase db,
      String sha256,
      String displayPath,
      Lookup refs,
      PackageVerdict pkg)
      throws IOException {
    if (refs.match() != null) {
      r.put(ScopeResult.verified(Scope.DISK_HASH, "matches reference " + refs.match().describe()));
    } else if (refs.pathRef() != null) {
      digestDiffersFromReference(r, refs.pathRef(), sha256);
    } else if (pkg != null) {
      packageChecksum(r, pkg, sha256);
    } else {
      unknownBinary(r, ch, db, sha256, displayPath);
    }
  }

  private static void digestDiffersFromReference(Result r, Reference pathRef, String sha256) {
    String reason =
        "sha256 "
            + sha256
            + " differs from reference "
            + pathRef.sha256()
            + " for "
            + pathRef.describe();
    r.put(ScopeResult.failed(Scope.DISK_HASH, reason));
    r.finding(
        new Finding(
            FindingType.DIGEST_MISMATCH,
            Scope.DISK_HASH,
            reason,
            Map.of(
                "expected",
                pathRef.sha256(),
                "actual",
                sha256,
                "referenceFile",
                pathRef.source().file().toString())));
  }

  private static void packageChecksum(Result r, PackageVerdict pkg, String sha256) {
    if (pkg.matches()) {
      r.put(
          ScopeResult.verified(
              Scope.DISK_HASH,
              "matches the checksum package "
                  + pkg.file().packageName()
                  + " recorded for "
                  + pkg.file().path()));
      return;
    }
    String reason =
        "differs from the checksum package "
            + pkg.file().packageName()
            + " recorded for "
            + pkg.file().path()
            + " (candidate tampering)";
    r.put(ScopeResult.failed(Scope.DISK_HASH, reason));
    r.finding(
        new Finding(
            FindingType.DIGEST_MISMATCH,
            Scope.DISK_HASH,
            reason,
            Map.of(
                "package",
                pkg.file().packageName(),
                "expectedMd5",
                pkg.file().md5(),
                "actual",
                sha256)));
  }

  private static void unknownBinary(
      Result r, FileChannel ch, PackageDatabase db, String sha256, String displayPath)
      throws IOException {
    String reason = "no reference for sha256 " + sha256 + " or path " + displayPath;
    r.put(ScopeResult.notVerified(Scope.DISK_HASH, reason));
    r.finding(
        new Finding(FindingType.UNKNOWN_BINARY, Scope.DISK_HASH, reason, Map.of("sha256", sha256)));
    // The package vouches for its command only at the package's path; a copy elsewhere stays
    // unknown, but saying what it is a copy of turns a bare digest into a masquerade.
    Optional<PackageDatabase.PackageFile> original = db.executableWithSameContent(ch);
    if (original.isPresent()) {
      PackageDatabase.PackageFile o = original.get();
      r.finding(
          new Finding(
              FindingType.PACKAGE_FILE_COPY,
              Scope.DISK_HASH,
              "same bytes as "
                  + o.path()
                  + " of package "
                  + o.packageName()
                  + ", at a path no package owns",
              Map.of("packageFile", o.path(), "package", o.packageName())));
    }
  }

  /** ELF_HEADER and ELF_SECTIONS. */
  private void elfStructure(Result r, FileChannel ch, FileRead file, Lookup refs)
      throws IOException {
    if (file.shebang().isPresent()) {
      ElfCheck script = ElfStructureVerifier.script(Scope.ELF_HEADER, file.shebang().get());
      r.put(script.result(), script.findings());
      r.put(ScopeResult.notApplicable(Scope.ELF_SECTIONS, script.result().reason()));
    } else if (!file.elfMagic()) {
      String reason =
          "neither an ELF file nor a #! script (first bytes " + hexHead(file.head()) + ")";
      r.put(ScopeResult.notApplicable(Scope.ELF_HEADER, reason));
      r.put(ScopeResult.notApplicable(Scope.ELF_SECTIONS, reason));
    } else if (file.malformed() != null) {
      ElfCheck bad = ElfStructureVerifier.malformed(Scope.ELF_HEADER, file.malformed());
      r.put(bad.result(), bad.findings());
      r.put(
          ScopeResult.notVerified(
              Scope.ELF_SECTIONS, "ELF file could not be parsed (see ELF_HEADER)"));
    } else {
      ElfCheck header = structure.checkHeader(file.elf());
      r.put(header.result(), header.findings());
      sections(r, ch, file.elf(), refs.match(), refs.pathRef());
    }
  }

  /** SIGNATURE: only a reference from a signature-verified envelope vouches for it. */
  private static void signature(Result r, Reference match, boolean packageVouched, String sha256) {
    if (match != null && match.signed()) {
      r.put(
          ScopeResult.verified(
              Scope.SIGNATURE,
              "reference signed by key "
                  + match.source().signedByKeyId()
                  + " ("
                  + match.source().file()
                  + ")"));
    } else if (match != null) {
      String reason =
          "reference "
              + (match.name().isEmpty() ? "sha256:" + match.sha256() : match.name())
              + " from unsigned manifest "
              + match.source().file()
              + " ("
              + match.source().unsignedBecause()
              + ")";
      r.put(ScopeResult.notVerified(Scope.SIGNATURE, reason));
      r.finding(
          new Finding(
              FindingType.UNSIGNED_REFERENCE,
              Scope.SIGNATURE,
              reason,
              Map.of("referenceFile", match.source().file().toString())));
    } else if (packageVouched) {
      r.put(
          ScopeResult.notVerified(
              Scope.SIGNATURE,
              "only the package database vouches for this file; its checksums are not signatures"));
    } else {
      r.put(ScopeResult.notVerified(Scope.SIGNATURE, "no reference vouches for sha256 " + sha256));
    }
  }

  /**
   * ELF_SECTIONS: the structure must hold; then the whole-file match, or the reference's section
   * digests, say whether the sections are the intended ones.
   */
  private void sections(Result r, FileChannel ch, ElfFile elf, Reference match, Reference pathRef)
      throws IOException {
    ElfCheck structural = structure.checkSections(elf);
    if (structural.result().status() == ScopeStatus.FAILED) {
      r.put(structural.result(), structural.findings());
      return;
    }
    boolean hasTable = structural.result().status() == ScopeStatus.VERIFIED;
    if (match != null) {
      // Equal whole-file digests imply equal bytes in every section.
      r.put(
          ScopeResult.verified(
              Scope.ELF_SECTIONS,
              (hasTable ? structural.result().reason() : "no section-header table")
                  + "; whole-file digest matches the reference"));
      return;
    }
    if (pathRef == null) {
      r.put(
          ScopeResult.notVerified(
              Scope.ELF_SECTIONS, "no reference to compare section digests with"));
      return;
    }
    if (pathRef.sectionDigests().isEmpty()) {
      r.put(
          ScopeResult.notVerified(
              Scope.ELF_SECTIONS,
              "reference " + pathRef.describe() + " carries no section digests"));
      return;
    }
    Map<String, String> actual;
    try {
      actual = WITH_SECTION_DIGESTS.read(ch).sectionDigests();
    } catch (MalformedElfException e) {
      r.put(
          ScopeResult.notVerified(
              Scope.ELF_SECTIONS, "section digests could not be computed: " + e.getMessage()));
      return;
    }
    compareSectionDigests(r, pathRef, actual);
  }

  /** One SECTION_MISMATCH finding per section that differs; FAILED naming them all. */
  private static void compareSectionDigests(
      Result r, Reference pathRef, Map<String, String> actual) {
    Map<String, String> expected = pathRef.sectionDigests();
    List<String> differing = new ArrayList<>();
    for (String name : new TreeSet<>(union(expected.keySet(), actual.keySet()))) {
      String want = expected.get(name);
      String got = actual.get(name);
      if (Objects.equals(want, got)) {
        continue;
      }
      differing.add(name);
      String what =
          want == null
              ? "section " + name + " is not in the reference"
              : got == null
                  ? "section " + name + " of the reference is missing"
                  : "section " + name + " differs from the reference";
      r.finding(
          new Finding(
              FindingType.SECTION_MISMATCH,
              Scope.ELF_SECTIONS,
              what,
              Map.of(
                  "section",
                  name,
                  "expected",
                  want == null ? "absent" : want,
                  "actual",
                  got == null ? "absent" : got)));
    }
    if (differing.isEmpty()) {
      r.put(
          ScopeResult.verified(
              Scope.ELF_SECTIONS,
              "all "
                  + expected.size()
                  + " reference section digests match; the difference lies outside the allocated sections"));
    } else {
      r.put(
          ScopeResult.failed(
              Scope.ELF_SECTIONS,
              "sections differ from reference "
                  + pathRef.describe()
                  + ": "
                  + String.join(", ", differing)));
    }
  }

  private record PackageVerdict(PackageDatabase.PackageFile file, boolean matches) {}

  private static Supplier<PackageDatabase> constant(PackageDatabase packages) {
    return () -> packages;
  }

  private static PackageVerdict packageVerdict(
      PackageDatabase packages, FileChannel ch, List<String> lookupPaths) throws IOException {
    for (String p : lookupPaths) {
      Optional<PackageDatabase.PackageFile> file = packages.lookup(p);
      if (file.isPresent()) {
        Optional<PackageDatabase.Match> m = packages.check(p, ch);
        return new PackageVerdict(file.get(), m.orElseThrow() == PackageDatabase.Match.MATCHES);
      }
    }
    return null;
  }

  /** Signed references first (store order), preferring one registered under the looked-up path. */
  private static Reference pick(List<Reference> candidates, List<String> paths) {
    if (candidates.isEmpty()) {
      return null;
    }
    boolean signed = candidates.get(0).signed();
    for (Reference c : candidates) {
      if (c.signed() != signed) {
        break;
      }
      for (String p : paths) {
        if (!c.name().isEmpty() && samePath(c.name(), p)) {
          return c;
        }
      }
    }
    return candidates.get(0);
  }

  private static boolean samePath(String name, String path) {
    return name.equals(path)
        || (name.startsWith("/") && Path.of(name).normalize().toString().equals(path));
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new LinkedHashSet<>(a);
    u.addAll(b);
    return u;
  }

  private static ByteBuffer readHead(FileChannel ch) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(Shebang.MAX_LINE);
    while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
      // positional reads: the channel's own position is left alone
    }
    return head.flip();
  }

  private static boolean startsWith(ByteBuffer head, byte[] prefix) {
    if (head.remaining() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (head.get(head.position() + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static String hexHead(ByteBuffer head) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(4, head.remaining()); i++) {
      sb.append(String.format("%02x", head.get(head.position() + i)));
    }
    return sb.length() == 0 ? "none: empty file" : sb.toString();
  }

  private static String describe(FileIdentity id) {
    return "dev "
        + (id.dev() >>> 20)
        + ":"
        + (id.dev() & 0xfffff)
        + " inode "
        + id.inode()
        + " ctime "
        + Instant.ofEpochSecond(0, id.ctimeNanos())
        + " size "
        + id.size();
  }

  /** Collects scope results and findings, keeping only intended scopes. */
  private static final class Result {
    private final Set<Scope> intended;
    private final Map<Scope, ScopeResult> results = new EnumMap<>(Scope.class);
    private final List<Finding> findings = new ArrayList<>();

    Result(Set<Scope> intended) {
      this.intended = intended;
    }

    void put(ScopeResult result) {
      if (intended.contains(result.scope())) {
        results.put(result.scope(), result);
      }
    }

    void put(ScopeResult result, List<Finding> fs) {
      put(result);
      fs.forEach(this::finding);
    }

    void finding(Finding f) {
      if (intended.contains(f.scope())) {
        findings.add(f);
      }
    }

    void allNotVerified(String reason) {
      for (Scope s : intended) {
        results.put(s, ScopeResult.notVerified(s, reason));
      }
    }

    BinaryVerification build(
        String path,
        String sha256,
        FileIdentity identity,
        Reference reference,
        Instant at,
        boolean referenceFound) {
      return build(path, sha256, identity, reference, at, referenceFound, null);
    }

    BinaryVerification build(
        String path,
        String sha256,
        FileIdentity identity,
        Reference reference,
        Instant at,
        boolean referenceFound,
        PackageDatabase.PackageFile packageRecord) {
      Coverage coverage = Coverage.of(List.copyOf(results.values()));
      List<Finding> ordered = new ArrayList<>(findings);
      ordered.sort(java.util.Comparator.comparing(Finding::scope));
      return new BinaryVerification(
          Verdict.decide(coverage, referenceFound),
          path,
          sha256,
          identity,
          coverage,
          ordered,
          reference,
          at,
          packageRecord,
          null);
    }
  }
}
