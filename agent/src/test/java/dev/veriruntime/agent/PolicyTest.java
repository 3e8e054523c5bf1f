package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.verifier.Scope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
  void theFilesAPolicyNamesAreTheFilesTheAgentRunsOn() throws IOException {
    assertThat(Policy.defaults().files()).as("the embedded default names none").isEmpty();
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, "references: [/etc/vr/refs.json]\ntrusted-keys: [/etc/vr/key.pem]\n");
    assertThat(Policy.load(f).files())
        .containsExactly(
            f.toAbsolutePath(), Path.of("/etc/vr/refs.json"), Path.of("/etc/vr/key.pem"));
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
  void kafkaIsOffByDefaultAndItsSectionMapsToTheSinkSettings() throws IOException {
    assertThat(Policy.defaults().sinks.kafka.bootstrap).isEmpty();
    Path pw = Files.writeString(dir.resolve("pw"), "secret\n");
    Path f = dir.resolve("p.yaml");
    Files.writeString(
        f,
        "sinks:\n  kafka:\n    bootstrap: k1:9093,k2:9093\n    capacity: 500\n"
            + "    security-protocol: SASL_SSL\n    sasl-mechanism: SCRAM-SHA-256\n"
            + "    sasl-username: agent\n    sasl-password-file: "
            + pw
            + "\n");
    Policy p = Policy.load(f);
    dev.veriruntime.sinks.kafka.KafkaOptions o = Daemon.kafkaOptions(p.sinks.kafka);
    assertThat(o.bootstrap()).isEqualTo("k1:9093,k2:9093");
    assertThat(o.topic()).isEqualTo("veriruntime-events");
    assertThat(o.heartbeatTopic()).isEqualTo("veriruntime-events-heartbeat");
    assertThat(o.heartbeatInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.capacity()).isEqualTo(500);
    assertThat(o.deliveryTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(o.security().clientProperties())
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-256");

    Files.writeString(f, "sinks:\n  kafka: {bootstrap: k1:9093, tls-ca: /etc/ca.pem}\n");
    Policy plain = Policy.load(f);
    assertThatThrownBy(() -> Daemon.kafkaOptions(plain.sinks.kafka))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has no TLS");
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

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      value = {
        "sinks:|sinks",
        "references: [~]|references",
        "verification: {queue: -1}|verification.queue",
        "reattestation: {interval-seconds: 0}|reattestation.interval-seconds",
        "aggregation: {window-seconds: 9223372036854775807}|aggregation.window-seconds",
        "incidents: {reminder-seconds: []}|incidents.reminder-seconds",
        // Found by PolicyFuzzTest: "!600,0" is a tag on an empty scalar, which Jackson made a null
        // Long and the range check unboxed.
        "'incidents:\n  reminder-seconds: [!600,0 ]'|incidents.reminder-seconds[0]",
        "verification: {queue: abc}|verification.queue",
        "sinks: {console: {rate: 0}}|sinks.console.rate",
        "sinks: {metrics-port: 70000}|sinks.metrics-port"
      })
  void aNullOrANumberTheDaemonCannotUseIsRefusedAtLoadNamingTheKey(String yaml, String key)
      throws IOException {
    // Found by PolicyFuzzTest: "sinks:" loaded as a null section and the daemon failed later.
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, yaml + "\n");
    // The key on the first line: the CLI shows only that one.
    assertThatThrownBy(() -> Policy.load(f))
        .isInstanceOf(IOException.class)
        .extracting(e -> e.getMessage().lines().findFirst().orElseThrow())
        .asString()
        .startsWith("policy: " + key);
  }

  @Test
  void knownJitRuntimesAreAllowedByDefaultAndAPolicyCanTurnThatOff() throws IOException {
    assertThat(Policy.defaults().jitRuntimePackages).contains("openjdk-*-jre-headless", "nodejs");
    Path f = dir.resolve("p.yaml");
    Files.writeString(f, "jit-runtime-packages: []\nincidents: {reminder-seconds: [5]}\n");
    Policy p = Policy.load(f);
    assertThat(p.jitRuntimePackages).as("replaced, not merged").isEmpty();
    assertThat(p.incidents.reminderSeconds).containsExactly(5L);
    assertThat(p.incidents.groupMillis).isEqualTo(1_000);
    assertThat(p.incidents.settings(10, 1).actWindow()).isEqualTo(Duration.ofMillis(200));
    assertThat(p.incidents.settings(10, 1).reminders()).containsExactly(Duration.ofSeconds(5));
  }

  @Test
  void theJitRuntimeGlobsMatchPackageNamesWhole() {
    var m = JitRuntimes.matcher(java.util.List.of("openjdk-*-jre-headless", "nodejs"));
    assertThat(m.test("openjdk-17-jre-headless")).isTrue();
    assertThat(m.test("nodejs")).isTrue();
    assertThat(m.test("nodejs-doc-evil")).isFalse();
    assertThat(m.test("openjdk-17-jre-headless-x")).isFalse();
  }

  @Test
  void theJavaLauncherThisTestRunsOnIsVouchedForByItsPackage() throws IOException {
    var db = dev.veriruntime.verifier.pkg.PackageDatabase.load(Path.of("/var/lib/dpkg/info"));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
    org.junit.jupiter.api.Assumptions.assumeTrue(
        db.lookup(java.toString()).isPresent(), "the JDK running this test is not a package");
    assertThat(JitRuntimes.vouchedFor(db, Policy.defaults().jitRuntimePackages))
        .contains(sha256(java));
  }

  private static String sha256(Path p) throws IOException {
    try {
      return java.util.HexFormat.of()
          .formatHex(
              java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
