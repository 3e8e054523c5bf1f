package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.Scope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyTest {
  @TempDir Path dir;

  @Test
  void embeddedDefaultTrustsThePackageDatabaseAndChecksHashAndHeader() {
    Policy p = Policy.defaults();
    assertThat(p.packageDatabase).isTrue();
    assertThat(p.packageDatabaseDir).isEqualTo("/var/lib/dpkg/info");
    assertThat(p.execScopes).containsExactlyInAnyOrder(Scope.DISK_HASH, Scope.ELF_HEADER);
    assertThat(p.sinks.console.enabled).isTrue();
    assertThat(p.aggregation.windowSeconds).isEqualTo(10);
  }

  @Test
  void fileOverridesOnlyWhatItNames() throws IOException {
    Path f = dir.resolve("p.yaml");
    Files.writeString(
        f,
        "exec-scopes: [DISK_HASH, ELF_HEADER, ELF_SECTIONS, SIGNATURE]\nsinks:\n  metrics-port: 9464\n");
    Policy p = Policy.load(f);
    assertThat(p.execScopes).contains(Scope.SIGNATURE, Scope.ELF_SECTIONS);
    assertThat(p.sinks.metricsPort).isEqualTo(9464);
    assertThat(p.sinks.console.enabled).isTrue();
    assertThat(p.packageDatabase).isTrue();
  }

  @Test
  void aRateGivenForOneSinkKeepsThatSinkOn() throws IOException {
    Path f = dir.resolve("p.yaml");
    Files.writeString(
        f,
        "sinks:\n  console: {rate: 10000, burst: 10000}\nreattestation: {interval-seconds: 1}\n");
    Policy p = Policy.load(f);
    assertThat(p.sinks.console.enabled).as("not named, so still the default").isTrue();
    assertThat(p.sinks.console.rate).isEqualTo(10_000);
    assertThat(p.sinks.journal.enabled).isTrue();
    assertThat(p.reattestation.enabled).isTrue();
    assertThat(p.reattestation.bytesPerSecond).isEqualTo(32L << 20);
    assertThat(p.reattestation.intervalSeconds).isEqualTo(1);
  }

  @Test
  void jsonIsAcceptedToo() throws IOException {
    Path f = dir.resolve("p.json");
    Files.writeString(
        f,
        "{\"package-database\": false, \"package-database-dir\": \"/srv/info\", \"aggregation\": {\"window-seconds\": 3}}");
    Policy p = Policy.load(f);
    assertThat(p.packageDatabase).isFalse();
    assertThat(p.packageDatabaseDir).isEqualTo("/srv/info");
    assertThat(p.aggregation.windowSeconds).isEqualTo(3);
  }

  @Test
  void unknownKeyIsAnErrorNotASilentlyIgnoredCheck() throws IOException {
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, "exec-scope: [DISK_HASH]\n");
    assertThatThrownBy(() -> Policy.load(f))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("exec-scope");
  }
}
