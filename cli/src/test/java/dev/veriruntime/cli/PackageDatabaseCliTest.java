package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line trusts what the daemon's default trusts: package-owned files matching dpkg. */
class PackageDatabaseCliTest {
  @TempDir Path dir;

  @Test
  void aPackageOwnedBinaryIsVouchedForUnlessThePackageDatabaseIsTurnedOff() throws Exception {
    Assumptions.assumeTrue(
        PackageDatabase.load(PackageDatabase.DEFAULT_INFO_DIR).lookup("/usr/bin/ls").isPresent(),
        "needs a Debian host whose package database owns /usr/bin/ls");
    String noDaemon = dir.resolve("absent.sock").toString();

    CliRun trusted = CliRun.of("verify-binary", "/usr/bin/ls", "--json", "--socket", noDaemon);
    assertThat(trusted.json().at("/coverage/DISK_HASH/status").asText())
        .as(trusted.out())
        .isEqualTo("VERIFIED");
    assertThat(trusted.json().at("/coverage/DISK_HASH/reason").asText())
        .contains("package coreutils");
    assertThat(trusted.json().at("/coverage/SIGNATURE/status").asText()).isEqualTo("NOT_VERIFIED");
    assertThat(trusted.exitCode()).isEqualTo(ExitCodes.VERDICT_DEGRADED);

    CliRun strict =
        CliRun.of(
            "verify-binary",
            "/usr/bin/ls",
            "--json",
            "--no-package-database",
            "--socket",
            noDaemon);
    assertThat(strict.exitCode()).isEqualTo(ExitCodes.VERDICT_UNKNOWN);
    assertThat(Files.exists(dir.resolve("absent.sock"))).isFalse();
  }
}
