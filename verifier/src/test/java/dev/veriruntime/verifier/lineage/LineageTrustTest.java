package dev.veriruntime.verifier.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.FindingType;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageTrustTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-03T12:00:00Z"), ZoneOffset.UTC);

  @TempDir Path dir;
  private Path root;
  private BinaryVerifier verifier;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(dir.resolve("build"));
    verifier = new BinaryVerifier(ReferenceStore.empty(), CLOCK, BinaryVerifier.Options.defaults());
  }

  private static List<BuildStep> chain() {
    return List.of(
        new BuildStep(10, "/usr/bin/make", "aa", false),
        new BuildStep(11, "/usr/bin/x86_64-linux-gnu-gcc-12", "bb", true),
        new BuildStep(12, "/usr/lib/gcc/x86_64-linux-gnu/12/collect2", "cc", true),
        new BuildStep(13, "/usr/bin/x86_64-linux-gnu-ld.bfd", "dd", true));
  }

  private Path writeOutput(String name) throws IOException {
    // A real, well-formed ELF file that no reference knows (the store is empty).
    return Files.copy(Path.of("/bin/true"), root.resolve(name));
  }

  @Test
  void unchangedOutputInsideARootIsVerifiedByLineageAndSaysSo() throws IOException {
    Path out = writeOutput("hello");
    BinaryVerification base = verifier.verify(out);
    LineageRecord rec =
        new LineageRecord(BinaryVerifier.identity(out), out.toString(), chain(), CLOCK.instant());

    LineageDecision d = new LineageTrust(List.of(root)).decide(base, out.toString(), rec, rec);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.TRUSTED);
    assertThat(d.root()).isEqualTo(root.toString());
    assertThat(d.verification().scope(Scope.LINEAGE).orElseThrow().status())
        .isEqualTo(ScopeStatus.VERIFIED);
    assertThat(d.verification().scope(Scope.LINEAGE).orElseThrow().reason())
        .contains("build lineage, not by a reference or signature")
        .contains("make → x86_64-linux-gnu-gcc-12 → collect2 → x86_64-linux-gnu-ld.bfd")
        .contains("sha256 dd");
    // DISK_HASH and SIGNATURE stay unverified: lineage answers neither.
    assertThat(d.verification().scope(Scope.DISK_HASH).orElseThrow().status())
        .isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(d.verification().scope(Scope.SIGNATURE).orElseThrow().status())
        .isEqualTo(ScopeStatus.NOT_VERIFIED);
  }

  @Test
  void verdictRestsOnEveryOtherIntendedScope() {
    // Lineage verified but ELF_HEADER not checked: degraded, never silent success.
    var cov =
        dev.veriruntime.verifier.Coverage.of(
            dev.veriruntime.verifier.ScopeResult.notVerified(Scope.DISK_HASH, "no reference"),
            dev.veriruntime.verifier.ScopeResult.notVerified(Scope.ELF_HEADER, "unreadable"),
            dev.veriruntime.verifier.ScopeResult.verified(Scope.LINEAGE, "chain"));
    assertThat(Verdict.decideByLineage(cov)).isEqualTo(Verdict.DEGRADED);
    assertThat(
            Verdict.decideByLineage(
                cov.with(dev.veriruntime.verifier.ScopeResult.verified(Scope.ELF_HEADER))))
        .isEqualTo(Verdict.VERIFIED);
    assertThat(
            Verdict.decideByLineage(
                cov.with(
                    dev.veriruntime.verifier.ScopeResult.notVerified(Scope.LINEAGE, "no record"))))
        .isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void laterWriteVoidsTheLineage() throws IOException {
    Path out = writeOutput("hello");
    FileIdentity linked = BinaryVerifier.identity(out);
    LineageRecord rec = new LineageRecord(linked, out.toString(), chain(), CLOCK.instant());
    Files.write(out, new byte[] {(byte) 0x90}, java.nio.file.StandardOpenOption.APPEND);
    BinaryVerification patched = verifier.verify(out);
    assertThat(patched.identity()).isNotEqualTo(linked);

    LineageDecision d = new LineageTrust(List.of(root)).decide(patched, out.toString(), null, rec);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.CHANGED_SINCE_WRITTEN);
    assertThat(d.verification().verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(d.verification().scope(Scope.LINEAGE).orElseThrow().status())
        .isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(d.verification().findings())
        .anyMatch(f -> f.type() == FindingType.LINEAGE_BROKEN && f.reason().contains("void"));
  }

  @Test
  void aRecordForAnotherIdentityIsNeverTakenForTheFile() throws IOException {
    Path out = writeOutput("hello");
    BinaryVerification base = verifier.verify(out);
    FileIdentity other = new FileIdentity(base.identity().dev(), base.identity().inode() + 1, 1, 1);
    LineageRecord rec = new LineageRecord(other, out.toString(), chain(), CLOCK.instant());

    LineageDecision d = new LineageTrust(List.of(root)).decide(base, out.toString(), rec, rec);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.NO_LINEAGE);
    assertThat(d.verification().verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void copyInsideTheRootHasNoLineage() throws IOException {
    Path out = writeOutput("hello");
    Path copy = Files.copy(out, root.resolve("hello-copy"));
    BinaryVerification base = verifier.verify(copy);

    LineageDecision d = new LineageTrust(List.of(root)).decide(base, copy.toString(), null, null);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.NO_LINEAGE);
    assertThat(d.inRoot()).isTrue();
    assertThat(d.verification().verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(d.verification().findings()).anyMatch(f -> f.type() == FindingType.LINEAGE_BROKEN);
  }

  @Test
  void outsideTheRootsLineageDoesNotApply() throws IOException {
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")).resolve("hello");
    Files.write(elsewhere, new byte[] {1, 2, 3});
    BinaryVerification base = verifier.verify(elsewhere);
    LineageRecord rec =
        new LineageRecord(
            BinaryVerifier.identity(elsewhere), elsewhere.toString(), chain(), CLOCK.instant());

    LineageDecision d =
        new LineageTrust(List.of(root)).decide(base, elsewhere.toString(), rec, rec);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.OUTSIDE_ROOTS);
    assertThat(d.verification()).isSameAs(base);
    assertThat(d.inRoot()).isFalse();
  }

  @Test
  void aSiblingWithTheRootAsPrefixIsNotInside() {
    LineageTrust t = new LineageTrust(List.of(Path.of("/srv/build")));
    assertThat(t.rootOf("/srv/build/out/app")).contains(Path.of("/srv/build"));
    assertThat(t.rootOf("/srv/build-evil/app")).isEmpty();
    assertThat(t.rootOf("/srv/build/../etc/app")).isEmpty();
    assertThat(t.rootOf("relative/app")).isEmpty();
    assertThatThrownBy(() -> new LineageTrust(List.of(Path.of("rel"))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void lineageNeverOverridesAVerdictAReferenceOrCheckAlreadyGave() throws IOException {
    Path out = writeOutput("hello");
    BinaryVerification unknown = verifier.verify(out);
    BinaryVerification failed =
        new BinaryVerification(
            Verdict.FAILED,
            unknown.path(),
            unknown.sha256(),
            unknown.identity(),
            unknown.coverage(),
            unknown.findings(),
            null,
            unknown.checkedAt());
    LineageRecord rec =
        new LineageRecord(unknown.identity(), out.toString(), chain(), CLOCK.instant());

    LineageDecision d = new LineageTrust(List.of(root)).decide(failed, out.toString(), rec, rec);

    assertThat(d.outcome()).isEqualTo(LineageDecision.Outcome.NOT_ASKED);
    assertThat(d.verification()).isSameAs(failed);
  }
}
