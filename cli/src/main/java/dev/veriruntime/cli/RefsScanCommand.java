package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.ExecutableScanner;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.SigningKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code refs baseline} and {@code refs add}: scan directories for executables with {@link
 * ExecutableScanner} and write a signed manifest of them. They differ in what they scan and in
 * whether the package database vouches; the flow, options and summary are shared here.
 */
abstract class RefsScanCommand implements Callable<Integer> {
  /** Problems listed by name in the text summary; {@code --json} lists them all. */
  static final int LISTED = 10;

  @Spec CommandSpec spec;

  @Option(
      names = "--key",
      required = true,
      paramLabel = "PRIV",
      description = "PKCS#8 PEM private key that signs the statement (from refs keygen)")
  Path key;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "FILE",
      description = "where to write the signed statement (replaced atomically)")
  Path out;

  @Option(names = "--json", description = "print the summary as JSON (and no progress bar)")
  boolean json;

  @Option(names = "--no-progress", description = "no progress bar, even on a terminal")
  boolean noProgress;

  @Option(
      names = "--threads",
      paramLabel = "N",
      description = "hash on N threads (default: the number of CPUs, ${DEFAULT-VALUE} here)")
  int threads = Runtime.getRuntime().availableProcessors();

  /** The directories to scan, as given. */
  abstract List<Path> requestedRoots();

  /** Whether requested roots that do not exist are skipped (defaults) or an error. */
  abstract boolean skipMissingRoots();

  /** The package database's info directory to cross-check against, or null for none. */
  abstract Path packageInfoDir();

  /** Writes the envelope to {@link #out}. */
  void write(DsseEnvelope envelope) {
    ReferenceFiles.writeAtomically(out, envelope.toJsonBytes());
  }

  @Override
  public Integer call() {
    if (threads < 1 || threads > 1024) {
      throw new CliException(
          ExitCodes.USAGE, "--threads must be between 1 and 1024, not " + threads);
    }
    SigningKey signingKey;
    try {
      signingKey = SigningKey.load(key);
    } catch (ReferenceException e) {
      throw ExitCodes.failure(e);
    }
    ReferenceFiles.checkWritable(out);
    ExecutableScanner.Roots roots;
    try {
      roots = ExecutableScanner.resolveRoots(requestedRoots());
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "cannot resolve " + requestedRoots() + ": " + IoErrors.describe(e));
    }
    if (!roots.missing().isEmpty() && !skipMissingRoots()) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE, roots.missing().get(0) + " does not exist");
    }
    if (roots.roots().isEmpty()) {
      throw new CliException(ExitCodes.INPUT_UNREADABLE, "none of " + requestedRoots() + " exists");
    }
    PackageDatabase packages = loadPackages();
    ExecutableScanner.Result result =
        scan(new ExecutableScanner(packages, threads, Clock.systemUTC()), roots.roots());

    PrintWriter o = spec.commandLine().getOut();
    if (result.included().isEmpty() && result.tamperCandidates().isEmpty()) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "found no ELF files or executable scripts under "
              + joined(roots.roots())
              + "; nothing written");
    }
    boolean written = !result.included().isEmpty();
    if (written) {
      ManifestBuilder builder = new ManifestBuilder(ManifestPredicate.TYPE);
      result.included().forEach(builder::add);
      write(
          DsseEnvelope.sign(
              DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, builder.build().toJsonBytes(), signingKey));
    }
    if (json) {
      JsonOutput.print(o, summaryJson(result, roots, packages, signingKey, written));
    } else {
      printSummary(o, result, roots, packages, signingKey, written);
    }
    return result.tamperCandidates().isEmpty() ? ExitCodes.OK : ExitCodes.FINDINGS;
  }

  private PackageDatabase loadPackages() {
    Path dir = packageInfoDir();
    if (dir == null) {
      return PackageDatabase.empty();
    }
    try {
      return PackageDatabase.load(dir);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.INPUT_UNREADABLE,
          "cannot read the package database " + dir + ": " + IoErrors.describe(e));
    }
  }

  private ExecutableScanner.Result scan(ExecutableScanner scanner, List<Path> roots) {
    boolean progress = !json && !noProgress && ProgressLine.stderrIsTerminal();
    ProgressLine line = new ProgressLine(spec.commandLine().getErr());
    try {
      // At most ten redraws a second: enough to look live, little enough to cost nothing.
      return progress
          ? scanner.scan(roots, Duration.ofMillis(100), line::draw)
          : scanner.scan(roots);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.INTERNAL, "interrupted while scanning", e);
    } finally {
      line.clear();
    }
  }

  private void printSummary(
      PrintWriter o,
      ExecutableScanner.Result r,
      ExecutableScanner.Roots roots,
      PackageDatabase packages,
      SigningKey signingKey,
      boolean written) {
    double seconds = seconds(r);
    o.printf(
        Locale.ROOT,
        "scanned %d files under %s in %.1f s: %.0f files/s, %.2f GB/s (%.2f GB hashed)%n",
        r.filesScanned(),
        joined(roots.roots()),
        seconds,
        r.filesScanned() / seconds,
        r.bytesHashed() / 1e9 / seconds,
        r.bytesHashed() / 1e9);
    if (!roots.missing().isEmpty()) {
      o.printf("skipped (missing): %s%n", joined(roots.missing()));
    }
    o.printf(
        "executables: %d (%d ELF, %d scripts)%n",
        r.elfFiles() + r.scripts(), r.elfFiles(), r.scripts());
    if (written) {
      o.printf(
          "included: %d -> %s, signed by %s key %s%n",
          r.included().size(), out, signingKey.type().cliName(), signingKey.keyId());
    } else {
      o.printf("included: 0; nothing written to %s%n", out);
    }
    if (packageInfoDir() != null) {
      o.printf(
          "  package-verified: %d (bytes match the package's checksum; %d files known from %s)%n"
              + "  not package-owned: %d (trusted as they are on disk now)%n",
          r.packageVerified(),
          packages.size(),
          packageInfoDir(),
          r.included().size() - r.packageVerified());
    }
    if (!r.tamperCandidates().isEmpty()) {
      o.printf(
          "CANDIDATE TAMPERING: %d package-owned file(s) differ from their package's checksum and"
              + " were NOT included:%n",
          r.tamperCandidates().size());
      for (ExecutableScanner.TamperCandidate t : r.tamperCandidates()) {
        o.printf("  %s  (package %s)%n", t.path(), t.packageName());
      }
    }
    listProblems(o, "unreadable (not included)", r.unreadable());
    listProblems(o, "malformed ELF (not included)", r.malformed());
    o.flush();
  }

  private static void listProblems(
      PrintWriter o, String title, List<ExecutableScanner.Problem> problems) {
    if (problems.isEmpty()) {
      return;
    }
    o.printf("%s: %d%n", title, problems.size());
    problems.stream().limit(LISTED).forEach(p -> o.printf("  %s: %s%n", p.path(), p.reason()));
    if (problems.size() > LISTED) {
      o.printf("  ... and %d more (--json lists all)%n", problems.size() - LISTED);
    }
  }

  private ObjectNode summaryJson(
      ExecutableScanner.Result r,
      ExecutableScanner.Roots roots,
      PackageDatabase packages,
      SigningKey signingKey,
      boolean written) {
    double seconds = seconds(r);
    ObjectNode n = JsonOutput.object();
    n.put("out", written ? out.toString() : null)
        .put("keyId", signingKey.keyId())
        .put("keyType", signingKey.type().cliName());
    ArrayNode rootsJson = n.putArray("roots");
    roots.roots().forEach(p -> rootsJson.add(p.toString()));
    ArrayNode missing = n.putArray("missingRoots");
    roots.missing().forEach(p -> missing.add(p.toString()));
    n.put("filesScanned", r.filesScanned())
        .put("elfFiles", r.elfFiles())
        .put("scripts", r.scripts())
        .put("included", r.included().size());
    if (packageInfoDir() != null) {
      n.putObject("packageDatabase")
          .put("dir", packageInfoDir().toString())
          .put("files", packages.size());
      n.put("packageVerified", r.packageVerified())
          .put("notPackageOwned", r.included().size() - r.packageVerified());
    } else {
      n.putNull("packageDatabase");
    }
    ArrayNode tampered = n.putArray("tamperCandidates");
    for (ExecutableScanner.TamperCandidate t : r.tamperCandidates()) {
      tampered
          .addObject()
          .put("path", t.path())
          .put("package", t.packageName())
          .put("expectedMd5", t.expectedMd5())
          .put("sha256", t.sha256());
    }
    problemsJson(n.putArray("unreadable"), r.unreadable());
    problemsJson(n.putArray("malformedElf"), r.malformed());
    n.put("bytesHashed", r.bytesHashed())
        .put("seconds", seconds)
        .put("filesPerSecond", r.filesScanned() / seconds)
        .put("gigabytesPerSecond", r.bytesHashed() / 1e9 / seconds);
    return n;
  }

  private static void problemsJson(ArrayNode into, List<ExecutableScanner.Problem> problems) {
    problems.forEach(p -> into.addObject().put("path", p.path()).put("reason", p.reason()));
  }

  private static double seconds(ExecutableScanner.Result r) {
    return Math.max(r.elapsed().toNanos() / 1e9, 1e-3);
  }

  private static String joined(List<Path> paths) {
    List<String> names = new ArrayList<>(paths.size());
    paths.forEach(p -> names.add(p.toString()));
    return String.join(", ", names);
  }

  @Command(
      name = "baseline",
      mixinStandardHelpOptions = true,
      description = {
        "Sign a manifest of this host's executables as trusted references.",
        "%nScans ELF files and executable #! scripts under the standard system directories (or each --path), never following symbolic links. A file a Debian package owns is included only if its bytes match the package's checksum; one that differs is reported as candidate tampering and left out. Files no package owns are trusted as they are on disk now.",
        "%nExit codes: 0 done, 5 done with tamper candidates, 2 usage, 10 nothing to scan, 13 bad key, 14 output not writable."
      })
  static final class Baseline extends RefsScanCommand {
    static final List<Path> DEFAULT_ROOTS =
        List.of(
                "/usr/bin",
                "/usr/sbin",
                "/usr/lib",
                "/usr/libexec",
                "/usr/local/bin",
                "/usr/local/sbin",
                "/usr/local/lib",
                "/opt")
            .stream()
            .map(Path::of)
            .toList();

    @Option(
        names = "--path",
        paramLabel = "DIR",
        description = "scan DIR instead of the standard directories (repeatable)")
    List<Path> paths = new ArrayList<>();

    @Option(
        names = "--dpkg-info",
        paramLabel = "DIR",
        description = "the Debian package database's info directory (default: ${DEFAULT-VALUE})")
    Path dpkgInfo = PackageDatabase.DEFAULT_INFO_DIR;

    @Override
    List<Path> requestedRoots() {
      return paths.isEmpty() ? DEFAULT_ROOTS : paths;
    }

    @Override
    boolean skipMissingRoots() {
      return paths.isEmpty();
    }

    @Override
    Path packageInfoDir() {
      return dpkgInfo;
    }
  }

  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {
        "Sign a manifest of build outputs: every ELF file and executable #! script under each --dir.",
        "%nNo package cross-check: what is in DIR now is trusted. With --append the new envelope is added to FILE (as JSON Lines) instead of replacing it.",
        "%nExit codes: 0 done, 2 usage, 10 DIR missing or no executables, 11 FILE malformed (--append), 13 bad key, 14 output not writable."
      })
  static final class Add extends RefsScanCommand {
    @Option(
        names = "--dir",
        required = true,
        paramLabel = "DIR",
        description = "directory of build outputs (repeatable)")
    List<Path> dirs = new ArrayList<>();

    @Option(
        names = "--append",
        description = "add the envelope to FILE (kept as JSON Lines) instead of replacing FILE")
    boolean append;

    @Override
    List<Path> requestedRoots() {
      return dirs;
    }

    @Override
    boolean skipMissingRoots() {
      return false;
    }

    @Override
    Path packageInfoDir() {
      return null;
    }

    @Override
    void write(DsseEnvelope envelope) {
      if (append) {
        ReferenceFiles.mergeInto(out, List.of(envelope.toJson()));
      } else {
        super.write(envelope);
      }
    }
  }
}
