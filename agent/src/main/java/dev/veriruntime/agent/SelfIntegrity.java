package dev.veriruntime.agent;

import dev.veriruntime.verifier.hash.Sha256;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.ProcFs;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Checks that VeriRuntime's own code is what it should be: the agent jar against the SHA-256 the
 * build wrote next to it ({@code veriruntime.jar.sha256}, which also covers the embedded probe
 * object), and the JVM executable, {@code libjvm.so} and {@code libbpf.so} as mapped into this
 * process against the package database; and the files it runs on ({@link #withConfigFiles}: the
 * policy, references and trusted keys it loaded) against their SHA-256 when it loaded them. The
 * probe's programs are checked by the caller through {@link #checkProbe}. Pure apart from reading
 * files; thread-safe.
 */
public final class SelfIntegrity {
  private final Supplier<PackageDatabase> packages;
  private final Optional<Path> agentJar;
  private final Supplier<List<Path>> mappedLibraries;
  // Config file -> its SHA-256 when the agent loaded it ("" when it could not be read then).
  private final java.util.Map<Path, String> configFiles;

  /** One component's outcome. {@code ok == false} with {@code failed == false} means unchecked. */
  public record Check(String component, String path, boolean ok, boolean failed, String reason) {
    static Check ok(String component, String path, String reason) {
      return new Check(component, path, true, false, reason);
    }

    static Check failed(String component, String path, String reason) {
      return new Check(component, path, false, true, reason);
    }

    static Check unchecked(String component, String path, String reason) {
      return new Check(component, path, false, false, reason);
    }
  }

  /**
   * @param packages the package database snapshot in use (it may be reloaded after an upgrade)
   */
  public SelfIntegrity(
      Supplier<PackageDatabase> packages,
      Optional<Path> agentJar,
      Supplier<List<Path>> mappedLibraries) {
    this(packages, agentJar, mappedLibraries, java.util.Map.of());
  }

  private SelfIntegrity(
      Supplier<PackageDatabase> packages,
      Optional<Path> agentJar,
      Supplier<List<Path>> mappedLibraries,
      java.util.Map<Path, String> configFiles) {
    this.packages = packages;
    this.agentJar = agentJar;
    this.mappedLibraries = mappedLibraries;
    this.configFiles = configFiles;
  }

  /**
   * These checks plus {@code files} (the policy, reference and key files the agent loaded), each
   * compared with its SHA-256 as read now, at load.
   */
  public SelfIntegrity withConfigFiles(List<Path> files) {
    java.util.Map<Path, String> digests = new java.util.LinkedHashMap<>(configFiles);
    for (Path f : files) {
      try {
        digests.put(f, Sha256.hex(f));
      } catch (IOException e) {
        digests.put(f, "");
      }
    }
    return new SelfIntegrity(
        packages, agentJar, mappedLibraries, java.util.Collections.unmodifiableMap(digests));
  }

  /** For the running agent: its own jar and the libraries mapped into this JVM. */
  public static SelfIntegrity forThisProcess(Supplier<PackageDatabase> packages) {
    return new SelfIntegrity(packages, runningJar(), SelfIntegrity::selfMappedLibraries);
  }

  /** Runs every check. */
  public List<Check> checkAll() {
    List<Check> out = new ArrayList<>();
    out.add(checkJar());
    Path jvm = Path.of("/proc/self/exe");
    try {
      out.add(checkPackaged("jvm", jvm.toRealPath()));
    } catch (IOException e) {
      out.add(
          Check.unchecked(
              "jvm", jvm.toString(), "cannot resolve /proc/self/exe: " + e.getMessage()));
    }
    for (Path lib : mappedLibraries.get()) {
      String name = lib.getFileName().toString();
      if (name.startsWith("libjvm.so") || name.startsWith("libbpf.so")) {
        out.add(checkPackaged(name.substring(0, name.indexOf(".so")), lib));
      }
    }
    configFiles.forEach((file, loaded) -> out.add(checkConfig(file, loaded)));
    return out;
  }

  Check checkConfig(Path file, String loaded) {
    if (loaded.isEmpty()) {
      return Check.unchecked("config-file", file.toString(), "was unreadable when loaded");
    }
    try {
      String now = Sha256.hex(file);
      return now.equals(loaded)
          ? Check.ok("config-file", file.toString(), "unchanged since it was loaded")
          : Check.failed(
              "config-file",
              file.toString(),
              "changed since the agent loaded it: sha256 " + now + ", loaded " + loaded);
    } catch (IOException e) {
      return Check.failed(
          "config-file",
          file.toString(),
          "unreadable since the agent loaded it (sha256 " + loaded + "): " + e);
    }
  }

  /**
   * The agent's files that a package owns, as they are now, by component: {@code jvm} (the JVM
   * executable), {@code libjvm}, {@code libbpf}. Taken at start: once the package manager replaces
   * the JVM, {@code /proc/self/exe} names a deleted file.
   */
  public java.util.Map<String, Path> packagedFiles() {
    java.util.Map<String, Path> out = new java.util.LinkedHashMap<>();
    try {
      out.put("jvm", Path.of("/proc/self/exe").toRealPath());
    } catch (IOException e) {
      // unresolvable: checkAll says so
    }
    for (Path lib : mappedLibraries.get()) {
      String name = lib.getFileName().toString();
      if (name.startsWith("libjvm.so") || name.startsWith("libbpf.so")) {
        out.put(name.substring(0, name.indexOf(".so")), lib);
      }
    }
    return out;
  }

  /**
   * The files {@link #checkAll} checks, as real paths: the agent jar (which holds the probe
   * object), the JVM executable, {@code libjvm.so}, {@code libbpf.so} and the config files. The
   * probe watches them for writes ({@link SelfWatch}).
   */
  public List<Path> files() {
    Set<Path> out = new LinkedHashSet<>();
    agentJar.ifPresent(out::add);
    try {
      out.add(Path.of("/proc/self/exe").toRealPath());
    } catch (IOException e) {
      // unresolvable: checkAll says so
    }
    for (Path lib : mappedLibraries.get()) {
      String name = lib.getFileName().toString();
      if (name.startsWith("libjvm.so") || name.startsWith("libbpf.so")) {
        out.add(lib);
      }
    }
    out.addAll(configFiles.keySet());
    return List.copyOf(out);
  }

  Check checkJar() {
    if (agentJar.isEmpty()) {
      return Check.unchecked("agent-jar", "", "not running from a jar (development classpath)");
    }
    Path jar = agentJar.get();
    Path manifest = jar.resolveSibling(jar.getFileName() + ".sha256");
    try {
      if (!Files.isReadable(manifest)) {
        return Check.unchecked(
            "agent-jar", jar.toString(), "no self-manifest " + manifest + " written by the build");
      }
      String expected = Files.readString(manifest).trim().split("\\s+")[0];
      String actual = Sha256.hex(jar);
      return expected.equalsIgnoreCase(actual)
          ? Check.ok(
              "agent-jar",
              jar.toString(),
              "sha256 " + actual + " matches the build's self-manifest")
          : Check.failed(
              "agent-jar",
              jar.toString(),
              "sha256 " + actual + " differs from the build's " + expected);
    } catch (IOException e) {
      return Check.unchecked("agent-jar", jar.toString(), "unreadable: " + e.getMessage());
    }
  }

  Check checkPackaged(String component, Path file) {
    PackageDatabase packages = this.packages.get();
    try (FileChannel ch = FileChannel.open(file)) {
      Optional<PackageDatabase.Match> match = packages.check(file.toString(), ch);
      if (match.isEmpty()) {
        return Check.unchecked(
            component, file.toString(), "not owned by any installed package: no reference");
      }
      String pkg =
          packages
              .lookup(file.toString())
              .map(PackageDatabase.PackageFile::packageName)
              .orElse("?");
      return match.get() == PackageDatabase.Match.MATCHES
          ? Check.ok(component, file.toString(), "matches package " + pkg)
          : Check.failed(
              component, file.toString(), "differs from the checksum recorded by package " + pkg);
    } catch (IOException e) {
      return Check.unchecked(component, file.toString(), "unreadable: " + e.getMessage());
    }
  }

  static Check checkProbe(
      java.util.Map<String, String> tagsAtLoad, java.util.List<String> linkedTags) {
    java.util.List<String> remaining = new java.util.ArrayList<>(linkedTags);
    Set<String> missing = new LinkedHashSet<>();
    tagsAtLoad.forEach(
        (name, tag) -> {
          if (!remaining.remove(tag)) {
            missing.add(name);
          }
        });
    if (missing.isEmpty()) {
      return Check.ok(
          "probe",
          "",
          tagsAtLoad.size() + " program attachments still in place with their load-time tags");
    }
    return Check.failed(
        "probe",
        "",
        "probe programs no longer attached with their load-time tags: "
            + String.join(", ", missing));
  }

  /**
   * The check that every probe program attached at load is still attached in this process: each
   * must still have a BPF link whose program tag (the kernel's hash of the loaded instructions) is
   * the one recorded at load; a detached, unloaded or replaced program is a failure. Made for being
   * called every second: it reads the fdinfo of the descriptors that held BPF links at the last
   * full read of {@code proc}'s descriptor table (a few small files rather than a readlink per open
   * descriptor: the agent holds a hundred or more); only when those no longer hold every program is
   * the whole table read again, so a failure is always the full read's answer.
   *
   * @param tagsAtLoad program name (with the tracepoint, for a program attached to several) to tag,
   *     one entry per link, from the probe's attach report
   * @param proc the process directory ({@code /proc/self})
   */
  static java.util.function.Supplier<Check> probeChecker(
      java.util.Map<String, String> tagsAtLoad, Path proc) {
    java.util.Map<String, String> tags = java.util.Map.copyOf(tagsAtLoad);
    java.util.List<Path> links = new java.util.ArrayList<>();
    return () -> {
      synchronized (links) {
        if (!links.isEmpty()) {
          Check c = checkProbe(tags, programTags(links));
          if (c.ok()) {
            return c;
          }
        }
        links.clear();
        links.addAll(linkDescriptors(proc));
        return checkProbe(tags, programTags(links));
      }
    };
  }

  /** The fdinfo files of the descriptors of {@code proc} that are BPF links now. */
  private static java.util.List<Path> linkDescriptors(Path proc) {
    java.util.List<Path> links = new java.util.ArrayList<>();
    Path fdinfo = proc.resolve("fdinfo");
    try (var fds = Files.list(proc.resolve("fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        if (isLink(fd)) {
          links.add(fdinfo.resolve(fd.getFileName()));
        }
      }
    } catch (IOException e) {
      return links;
    }
    return links;
  }

  private static boolean isLink(Path fd) {
    try {
      return Files.readSymbolicLink(fd).toString().equals("anon_inode:bpf_link");
    } catch (IOException e) {
      return false; // closed meanwhile: not a link we hold
    }
  }

  /**
   * The program tags of the descriptors whose fdinfo files {@code fdinfos} are that are still BPF
   * links: their fdinfo has a {@code link_type:} line (a closed descriptor has no fdinfo; a reused
   * one another file's).
   */
  private static java.util.List<String> programTags(java.util.List<Path> fdinfos) {
    java.util.List<String> tags = new java.util.ArrayList<>();
    for (Path info : fdinfos) {
      try {
        byte[] fdinfo = ProcFs.read(info);
        String tag = field(fdinfo, PROG_TAG);
        if (tag != null && field(fdinfo, LINK_TYPE) != null) {
          tags.add(tag);
        }
      } catch (IOException e) {
        // closed meanwhile: not a link we hold
      }
    }
    return tags;
  }

  private static final byte[] PROG_TAG = "prog_tag:".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] LINK_TYPE = "link_type:".getBytes(StandardCharsets.US_ASCII);

  /**
   * The value of the line of {@code fdinfo} that starts with {@code key}, without the blanks around
   * it, or null; read from the bytes, since the probe check runs every second over every link (one
   * per tracepoint) and splitting each file into lines made a string per line.
   */
  static String field(byte[] fdinfo, byte[] key) {
    for (int line = 0; line < fdinfo.length; ) {
      int end = line;
      while (end < fdinfo.length && fdinfo[end] != '\n') {
        end++;
      }
      if (end - line >= key.length
          && Arrays.equals(fdinfo, line, line + key.length, key, 0, key.length)) {
        int from = line + key.length;
        int to = end;
        while (from < to && fdinfo[from] <= ' ') {
          from++;
        }
        while (to > from && fdinfo[to - 1] <= ' ') {
          to--;
        }
        return new String(fdinfo, from, to - from, StandardCharsets.US_ASCII);
      }
      line = end + 1;
    }
    return null;
  }

  static Optional<Path> runningJar() {
    try {
      CodeSource src = SelfIntegrity.class.getProtectionDomain().getCodeSource();
      if (src == null) {
        return Optional.empty();
      }
      Path p = Path.of(src.getLocation().toURI());
      return Files.isRegularFile(p) && p.toString().endsWith(".jar")
          ? Optional.of(p)
          : Optional.empty();
    } catch (URISyntaxException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static List<Path> selfMappedLibraries() {
    Set<Path> libs = new LinkedHashSet<>();
    try {
      for (var m :
          dev.veriruntime.verifier.process.ProcMaps.parse(
              Files.readString(Path.of("/proc/self/maps")))) {
        if (m.fileBacked() && m.filePath().contains(".so")) {
          libs.add(Path.of(m.filePath()));
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    return List.copyOf(libs);
  }
}
