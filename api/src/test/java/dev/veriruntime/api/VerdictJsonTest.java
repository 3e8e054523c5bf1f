package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.LineageVouch;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.MappedFileCheck;
import dev.veriruntime.verifier.process.ProcessVerification;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What vouched for a file, and the mapped files of a process, as the verdict JSON carries them. */
class VerdictJsonTest {
  private static final Instant AT = Instant.parse("2026-12-03T10:00:00Z");
  private static final FileIdentity ID = new FileIdentity(1, 2, 3, 4);

  private static BinaryVerification packaged(boolean matches) {
    Coverage c =
        Coverage.of(
            matches
                ? ScopeResult.verified(Scope.DISK_HASH, "matches the checksum package coreutils")
                : ScopeResult.failed(Scope.DISK_HASH, "differs"));
    return new BinaryVerification(
        matches ? Verdict.DEGRADED : Verdict.FAILED,
        "/usr/bin/sleep",
        "ab".repeat(32),
        ID,
        c,
        List.of(),
        null,
        AT,
        new PackageDatabase.PackageFile(
            "/usr/bin/sleep",
            "0".repeat(32),
            "coreutils",
            "9.1-1",
            "/var/lib/dpkg/info/coreutils.md5sums"),
        null);
  }

  @Test
  void aPackageRecordNamesPackageVersionAndItsMd5sumsLine() {
    JsonNode p = VerdictJson.binary(packaged(true)).path("vouchedBy").path("package");
    assertThat(p.path("name").asText()).isEqualTo("coreutils");
    assertThat(p.path("version").asText()).isEqualTo("9.1-1");
    assertThat(p.path("md5sumsLine").asText()).isEqualTo("0".repeat(32) + "  usr/bin/sleep");
    assertThat(p.path("md5sumsFile").asText()).isEqualTo("/var/lib/dpkg/info/coreutils.md5sums");
    assertThat(p.path("matches").asBoolean()).isTrue();
    assertThat(
            VerdictJson.binary(packaged(false))
                .path("vouchedBy")
                .path("package")
                .path("matches")
                .asBoolean())
        .isFalse();
    assertThat(VerdictJson.binary(packaged(true)).path("vouchedBy").path("reference").isNull())
        .isTrue();
  }

  @Test
  void buildLineageIsTheChainFromTheRootProcessToTheWriter() {
    BinaryVerification built =
        new BinaryVerification(
            Verdict.VERIFIED,
            "/srv/build/app",
            "cd".repeat(32),
            ID,
            Coverage.of(ScopeResult.verified(Scope.LINEAGE, "trusted by build lineage")),
            List.of(),
            null,
            AT,
            null,
            new LineageVouch(
                "/srv/build",
                List.of(
                    new LineageVouch.Step("/usr/bin/make", "11".repeat(32), false),
                    new LineageVouch.Step("/usr/bin/ld.bfd", "22".repeat(32), true)),
                AT));
    JsonNode l = VerdictJson.binary(built).path("vouchedBy").path("lineage");
    assertThat(l.path("root").asText()).isEqualTo("/srv/build");
    assertThat(l.path("chain")).hasSize(2);
    assertThat(l.path("chain").get(1).path("exe").asText()).isEqualTo("/usr/bin/ld.bfd");
    assertThat(l.path("chain").get(1).path("toolchain").asBoolean()).isTrue();
  }

  @Test
  void aProcessCarriesItsExecutablesVouchersItsMappedFilesAndItsUser() {
    ProcessVerification v =
        new ProcessVerification(
            7,
            1,
            Verdict.DEGRADED,
            new ProcessVerification.Executable("/usr/bin/sleep", ID, "ab".repeat(32)),
            Coverage.of(ScopeResult.verified(Scope.DISK_HASH)),
            List.of(),
            AT,
            0,
            true,
            packaged(true),
            List.of(
                new MappedFileCheck("/usr/lib/libc.so.6", packaged(true), ""),
                new MappedFileCheck("/usr/lib/gone.so", null, "No such file or directory")),
            1000);
    JsonNode json = VerdictJson.process(v);
    assertThat(json.path("uid").asInt()).isEqualTo(1000);
    assertThat(json.path("vouchedBy").path("package").path("name").asText()).isEqualTo("coreutils");
    assertThat(json.path("mappedFiles")).hasSize(2);
    assertThat(
            json.path("mappedFiles")
                .get(0)
                .path("vouchedBy")
                .path("package")
                .path("version")
                .asText())
        .isEqualTo("9.1-1");
    assertThat(json.path("mappedFiles").get(1).path("unreadable").asText())
        .isEqualTo("No such file or directory");
    assertThat(json.path("mappedFiles").get(1).path("verdict").asText()).isEqualTo("DEGRADED");
  }
}
