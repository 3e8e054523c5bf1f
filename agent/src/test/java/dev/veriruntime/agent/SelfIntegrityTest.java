package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.hash.Sha256;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfIntegrityTest {
  @TempDir Path dir;

  @Test
  void jarMatchingItsManifestPassesAndOneChangedByteFails() throws Exception {
    Path jar = dir.resolve("veriruntime.jar");
    Files.write(jar, new byte[] {'P', 'K', 3, 4, 9});
    Files.writeString(dir.resolve("veriruntime.jar.sha256"), Sha256.hex(jar) + "\n");
    SelfIntegrity si = new SelfIntegrity(PackageDatabase::empty, Optional.of(jar), List::of);
    assertThat(si.checkJar().ok()).isTrue();

    Files.write(jar, new byte[] {'P', 'K', 3, 4, 8});
    SelfIntegrity.Check c = si.checkJar();
    assertThat(c.failed()).isTrue();
    assertThat(c.reason()).contains("differs");
  }

  @Test
  void configFilesAreComparedWithTheirDigestAtLoadAndWatchedWithTheAgentsOwnFiles()
      throws Exception {
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, "reattestation: {enabled: true}\n");
    SelfIntegrity si =
        new SelfIntegrity(PackageDatabase::empty, Optional.empty(), List::of)
            .withConfigFiles(List.of(policy));
    assertThat(si.files()).contains(policy);
    assertThat(si.checkAll())
        .filteredOn(c -> c.component().equals("config-file"))
        .singleElement()
        .satisfies(c -> assertThat(c.ok()).isTrue());

    Files.writeString(policy, "reattestation: {enabled: false}\n");
    SelfIntegrity.Check changed =
        si.checkAll().stream().filter(c -> c.component().equals("config-file")).findFirst().get();
    assertThat(changed.failed()).isTrue();
    assertThat(changed.path()).isEqualTo(policy.toString());
    assertThat(changed.reason()).startsWith("changed since the agent loaded it: sha256 ");
  }

  @Test
  void missingManifestIsUncheckedNotPassed() throws Exception {
    Path jar = dir.resolve("veriruntime.jar");
    Files.write(jar, new byte[] {1});
    SelfIntegrity.Check c =
        new SelfIntegrity(PackageDatabase::empty, Optional.of(jar), List::of).checkJar();
    assertThat(c.ok()).isFalse();
    assertThat(c.failed()).isFalse();
    assertThat(c.reason()).contains("no self-manifest");
  }

  @Test
  void thisJvmIsCheckedAgainstThePackageDatabase() throws Exception {
    PackageDatabase db = PackageDatabase.load(PackageDatabase.DEFAULT_INFO_DIR);
    List<SelfIntegrity.Check> checks = SelfIntegrity.forThisProcess(() -> db).checkAll();
    assertThat(checks).extracting(SelfIntegrity.Check::component).contains("jvm", "libjvm");
    if (db.size() > 0) {
      assertThat(checks)
          .filteredOn(c -> c.component().equals("libjvm"))
          .allMatch(SelfIntegrity.Check::ok);
    }
  }

  @Test
  void probeProgramsMustStillBeLinkedWithTheirLoadTimeTags() {
    assertThat(
            SelfIntegrity.checkProbe(Map.of("a", "t1", "b", "t1"), List.of("t1", "t1", "t9")).ok())
        .isTrue();
    SelfIntegrity.Check c = SelfIntegrity.checkProbe(Map.of("a", "t1", "b", "t2"), List.of("t1"));
    assertThat(c.failed()).isTrue();
    assertThat(c.reason()).contains("b").doesNotContain("a,");
  }

  @Test
  void aProcessWithoutBpfLinksHasNoProbeAttached() {
    assertThat(SelfIntegrity.probeChecker(Map.of("a", "t1"), Path.of("/proc/self")).get().failed())
        .isTrue();
  }

  /** A fake process directory with empty {@code fd} and {@code fdinfo} directories. */
  private Path fakeProc() throws Exception {
    Path proc = dir.resolve("proc");
    Files.createDirectories(proc.resolve("fd"));
    Files.createDirectories(proc.resolve("fdinfo"));
    return proc;
  }

  /** Descriptor {@code n} of {@code proc}: a BPF link of the program tagged {@code tag}. */
  private static void link(Path proc, int n, String tag) throws Exception {
    descriptor(proc, n, "anon_inode:bpf_link", "link_type:\ttracing\nprog_tag:\t" + tag + "\n");
  }

  /** A descriptor {@code n} of the fake process {@code proc}: a link to {@code target}. */
  private static void descriptor(Path proc, int n, String target, String fdinfo) throws Exception {
    Path fd = proc.resolve("fd").resolve(Integer.toString(n));
    Files.deleteIfExists(fd);
    Files.createSymbolicLink(fd, Path.of(target));
    Files.writeString(proc.resolve("fdinfo").resolve(Integer.toString(n)), fdinfo);
  }

  @Test
  void theProbeCheckFollowsItsLinksToNewDescriptorsAndSeesAReplacedProgram() throws Exception {
    Path proc = fakeProc();
    link(proc, 3, "t1");
    descriptor(proc, 4, "/dev/null", "pos:\t0\n");
    link(proc, 5, "t2");
    var check = SelfIntegrity.probeChecker(Map.of("exec", "t1", "exit", "t2"), proc);
    assertThat(check.get().ok()).isTrue();

    // The link of "exit" is now descriptor 7 (closed and opened again): found by a full read.
    Files.delete(proc.resolve("fd").resolve("5"));
    Files.delete(proc.resolve("fdinfo").resolve("5"));
    link(proc, 7, "t2");
    assertThat(check.get().ok()).isTrue();

    // Descriptor 7 holds another program now: "exit" is no longer attached as loaded.
    link(proc, 7, "t9");
    SelfIntegrity.Check c = check.get();
    assertThat(c.failed()).isTrue();
    assertThat(c.reason()).contains("exit").doesNotContain("exec");
  }

  @Test
  void aLinksDescriptorNowHoldingTheProgramItselfIsNotALink() throws Exception {
    Path proc = fakeProc();
    link(proc, 3, "t1");
    var check = SelfIntegrity.probeChecker(Map.of("exec", "t1"), proc);
    assertThat(check.get().ok()).isTrue();

    // Same tag, but a program's descriptor (no link_type line): the program is loaded, not
    // attached.
    descriptor(proc, 3, "anon_inode:bpf-prog", "prog_type:\t26\nprog_tag:\tt1\n");
    assertThat(check.get().failed()).isTrue();
  }

  @Test
  void aLinksFieldsAreReadFromItsFdinfoLines() {
    byte[] perfLink =
        ("pos:\t0\nflags:\t02000000\nmnt_id:\t17\nino:\t1038\nlink_type:\tperf\nlink_id:\t7013\n"
                + "prog_tag:\t8732407ce6a42382\nprog_id:\t4956\ntp_name:\tsys_enter_mprotect\n"
                + "event_type:\ttracepoint\ncookie:\t0\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] tag = "prog_tag:".getBytes(StandardCharsets.US_ASCII);
    assertThat(SelfIntegrity.field(perfLink, tag)).isEqualTo("8732407ce6a42382");
    assertThat(SelfIntegrity.field(perfLink, "link_type:".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("perf");
    assertThat(
            SelfIntegrity.field(
                "prog_id:\t4\nprog_tag: ab12 \r".getBytes(StandardCharsets.US_ASCII), tag))
        .isEqualTo("ab12");
    assertThat(
            SelfIntegrity.field("pos:\t0\nprog_id:\t4\n".getBytes(StandardCharsets.US_ASCII), tag))
        .isNull();
    assertThat(SelfIntegrity.field(new byte[0], tag)).isNull();
  }
}
