package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.hash.Sha256;
import dev.veriruntime.verifier.reference.ExecutableScanner;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code refs baseline} over a small tree: which files become references, which are refused as
 * candidate tampering by a (fake) package database, and which are counted as unreadable.
 */
class RefsBaselineCommandTest {
  private static final Path TRUE = Path.of("/usr/bin/true");

  @TempDir Path dir;
  private Path tree;
  private Path dpkgInfo;
  private Path deep;

  @BeforeEach
  void keys() {
    assertThat(
            CliRun.of("refs", "keygen", "--type", "ed25519", "--out", p("k").toString()).exitCode())
        .isZero();
  }

  @AfterEach
  void removeDeepTree() throws Exception {
    if (deep != null) {
      // Paths longer than PATH_MAX defeat JUnit's own clean-up; rm walks with openat.
      assertThat(new ProcessBuilder("rm", "-rf", deep.toString()).start().waitFor()).isZero();
    }
  }

  private Path p(String name) {
    return dir.resolve(name);
  }

  /**
   * bin/ holds real ELF copies of /usr/bin/true: one plain, one the fake package database vouches
   * for, one with a byte changed that the package database records with the original checksum.
   * Beside them: an executable and a non-executable #! script, a text file, a library without an
   * execute bit, a link out of the tree, a dangling link and a FIFO.
   */
  private void buildTree() throws Exception {
    tree = Files.createDirectories(p("tree"));
    Path bin = Files.createDirectories(tree.resolve("bin"));
    Files.copy(TRUE, bin.resolve("plain-true"));
    Files.copy(TRUE, bin.resolve("pkg-true"));
    byte[] changed = Files.readAllBytes(TRUE);
    changed[changed.length / 2] ^= 0x01;
    Files.write(bin.resolve("tampered-true"), changed);
    Files.setPosixFilePermissions(
        bin.resolve("tampered-true"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(bin.resolve("hello.sh"), "#!/bin/sh\necho hello\n");
    Files.setPosixFilePermissions(
        bin.resolve("hello.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(bin.resolve("not-exec.sh"), "#!/bin/sh\necho no\n");
    Path lib = Files.createDirectories(tree.resolve("lib"));
    Files.copy(TRUE, lib.resolve("libtrue.so"));
    Files.setPosixFilePermissions(
        lib.resolve("libtrue.so"), PosixFilePermissions.fromString("rw-r--r--"));
    Files.writeString(lib.resolve("README.txt"), "just text\n");
    Files.createSymbolicLink(bin.resolve("ls-link"), Path.of("/usr/bin/ls"));
    Files.createSymbolicLink(bin.resolve("dangling"), Path.of("/nonexistent/target"));
    assertThat(new ProcessBuilder("mkfifo", bin.resolve("fifo").toString()).start().waitFor())
        .isZero();

    String md5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(TRUE)));
    dpkgInfo = Files.createDirectories(p("dpkg-info"));
    Files.writeString(
        dpkgInfo.resolve("coreutils.md5sums"),
        md5
            + "  "
            + rel(bin.resolve("pkg-true"))
            + "\n"
            + md5
            + "  "
            + rel(bin.resolve("tampered-true"))
            + "\n");
  }

  /** A dpkg md5sums path: relative to /, as the package database writes it. */
  private static String rel(Path p) throws IOException {
    return p.toRealPath().toString().substring(1);
  }

  /**
   * A directory the scan cannot list, even as root (permission bits do not stop root): one whose
   * absolute path is longer than PATH_MAX, so opening it fails with ENAMETOOLONG. Built with
   * relative mkdir so no single call sees the whole path; holds a copy of true the scan must miss.
   */
  private Path unlistableDirectory() throws Exception {
    deep = Files.createDirectories(tree.resolve("deep"));
    String component = "d".repeat(250);
    String script =
        "cd \"$1\" && for i in $(seq 1 18); do mkdir "
            + component
            + " && cd -P "
            + component
            + " || exit 1; done && cp /usr/bin/true hidden-true";
    Process mk =
        new ProcessBuilder("sh", "-c", script, "sh", deep.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(mk.getInputStream().readAllBytes());
    assertThat(mk.waitFor()).as(out).isZero();
    return deep;
  }

  private CliRun baseline(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "refs",
                "baseline",
                "--path",
                tree.toString(),
                "--key",
                p("k.key").toString(),
                "--out",
                p("base.json").toString(),
                "--dpkg-info",
                dpkgInfo.toString()));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  /** {@code refs baseline --path ROOT --key KEY --out OUT}, with the real package database. */
  private CliRun baselineOf(Path root, String key, String out) {
    return CliRun.of(
        "refs",
        "baseline",
        "--path",
        root.toString(),
        "--key",
        p(key).toString(),
        "--out",
        p(out).toString());
  }

  private Map<String, Reference> signedReferences(Path file) throws Exception {
    List<LoadedStatement> loaded =
        new ReferenceLoader(TrustedKeys.load(List.of(p("k.pub"))), SignaturePolicy.REQUIRE_TRUSTED)
            .load(file);
    assertThat(loaded).hasSize(1);
    return loaded.get(0).references().stream().collect(Collectors.toMap(Reference::name, r -> r));
  }

  @Test
  void includesExecutablesRefusesTamperedPackageFilesAndCountsUnreadableDirectories()
      throws Exception {
    buildTree();
    unlistableDirectory();
    Path bin = tree.resolve("bin").toRealPath();
    Path lib = tree.resolve("lib").toRealPath();

    CliRun run = baseline("--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    JsonNode s = run.json();
    assertThat(s.get("tamperCandidates")).hasSize(1);
    JsonNode tampered = s.get("tamperCandidates").get(0);
    assertThat(tampered.get("path").asText()).isEqualTo(bin.resolve("tampered-true").toString());
    assertThat(tampered.get("package").asText()).isEqualTo("coreutils");
    assertThat(tampered.get("sha256").asText()).isEqualTo(Sha256.hex(bin.resolve("tampered-true")));
    assertThat(s.get("packageVerified").asInt()).isEqualTo(1);
    assertThat(s.get("elfFiles").asInt()).as("plain, pkg, tampered, libtrue.so").isEqualTo(4);
    assertThat(s.get("scripts").asInt()).isEqualTo(1);
    assertThat(s.get("included").asInt()).isEqualTo(4);
    assertThat(s.get("notPackageOwned").asInt()).isEqualTo(3);
    assertThat(s.get("unreadable")).hasSize(1);
    assertThat(s.get("unreadable").get(0).get("path").asText())
        .startsWith(deep.toRealPath().toString() + "/ddd");
    assertThat(s.get("unreadable").get(0).get("reason").asText())
        .containsIgnoringCase("name too long");
    assertThat(s.get("bytesHashed").asLong())
        .isEqualTo(4 * Files.size(TRUE) + Files.size(bin.resolve("hello.sh")));

    Map<String, Reference> refs = signedReferences(p("base.json"));
    assertThat(refs.keySet())
        .containsExactlyInAnyOrder(
            bin.resolve("plain-true").toString(),
            bin.resolve("pkg-true").toString(),
            bin.resolve("hello.sh").toString(),
            lib.resolve("libtrue.so").toString());
    Reference plain = refs.get(bin.resolve("plain-true").toString());
    assertThat(plain.sha256()).isEqualTo(Sha256.hex(TRUE));
    assertThat(plain.sectionDigests()).containsKey(".text");
    assertThat(refs.get(bin.resolve("hello.sh").toString()).sectionDigests()).isEmpty();
    assertThat(refs.values()).noneMatch(r -> r.sha256().equals(tampered.get("sha256").asText()));
  }

  @Test
  void textSummaryNamesTheTamperCandidateAndTheUnreadableDirectory() throws Exception {
    buildTree();
    unlistableDirectory();
    CliRun run = baseline();
    assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.FINDINGS);
    assertThat(run.out())
        .contains("CANDIDATE TAMPERING: 1 package-owned file(s)")
        .contains(tree.resolve("bin/tampered-true").toRealPath() + "  (package coreutils)")
        .contains("unreadable (not included): 1")
        .contains("package-verified: 1")
        .contains("executables: 5 (4 ELF, 1 scripts)")
        .containsPattern("files/s, [0-9.]+ GB/s");
    assertThat(run.err()).as("no progress bar off a terminal").isEmpty();
  }

  @Test
  void aCleanTreeExitsZeroAndMissingDefaultsAreSkipped() throws Exception {
    buildTree();
    Files.delete(tree.resolve("bin/tampered-true"));
    CliRun run = baseline("--json", "--threads", "1");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.json().get("tamperCandidates")).isEmpty();
    assertThat(run.json().get("included").asInt()).isEqualTo(4);

    // The same tree twice, once through a symbolic link: one root, each file once.
    Files.createSymbolicLink(p("alias"), tree);
    CliRun twice =
        baseline(
            "--json", "--path", p("alias").toString(), "--path", tree.resolve("bin").toString());
    assertThat(twice.exitCode()).as(twice.err()).isZero();
    assertThat(twice.json().get("roots")).hasSize(1);
    assertThat(twice.json().get("included").asInt()).isEqualTo(4);
  }

  @Test
  void badInputIsRefusedWithOneLineAndItsExitCode() throws Exception {
    buildTree();
    baseline("--threads", "0").refused(ExitCodes.USAGE);
    baselineOf(p("nope"), "k.key", "o.json").refused(ExitCodes.INPUT_UNREADABLE);
    baselineOf(tree, "missing.key", "o.json").refused(ExitCodes.KEY_INVALID);
    baselineOf(tree, "k.key", "no-such-dir/o.json").refused(ExitCodes.OUTPUT_UNWRITABLE);
    Path empty = Files.createDirectories(p("empty"));
    Files.writeString(empty.resolve("notes.txt"), "nothing to run\n");
    baselineOf(empty, "k.key", "o.json").refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(Files.exists(p("o.json"))).isFalse();
  }

  @Test
  void progressLineShowsCountsRatesAndTimeLeftWithinEightyColumns() {
    String line =
        ProgressLine.format(
            new ExecutableScanner.Progress(200, 200, 50, 25_000_000, Duration.ofSeconds(5)));
    assertThat(line)
        .contains("50/200 files")
        .contains("10 files/s")
        .contains("5.0 MB/s")
        .contains("ETA 0:15");
    assertThat(line).startsWith("[####------------]");
    String huge =
        ProgressLine.format(
            new ExecutableScanner.Progress(
                9_999_999, 9_999_999, 1, 999_999_999_999L, Duration.ofMillis(1)));
    assertThat(huge.length()).isLessThanOrEqualTo(ProgressLine.WIDTH);
    assertThat(
            ProgressLine.format(
                new ExecutableScanner.Progress(1234, -1, 0, 0, Duration.ofSeconds(1))))
        .isEqualTo("listing files: 1234 found");
    assertThat(ProgressLine.clock(Duration.ofSeconds(3725))).isEqualTo("1:02:05");
  }
}
