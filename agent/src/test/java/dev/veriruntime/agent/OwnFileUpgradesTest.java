package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A package upgrade of the agent's own JVM, seen at the package-database reload: an upgrade the
 * database vouches for is said as such (not tampering); new bytes that differ from the new record
 * are a self-integrity failure at once; a reload that did not touch the agent's files says nothing.
 */
class OwnFileUpgradesTest {
  @TempDir Path dir;

  private final AtomicReference<PackageDatabase> current =
      new AtomicReference<>(PackageDatabase.empty());
  private Path info;
  private Path jvm;
  private Path libbpf;
  private OwnFileUpgrades upgrades;

  @BeforeEach
  void setUp() throws Exception {
    info = Files.createDirectories(dir.resolve("info"));
    jvm = Files.createDirectories(dir.resolve("usr/lib/jvm/bin")).resolve("java");
    Files.write(jvm, new byte[] {0x7f, 'E', 'L', 'F', 1});
    libbpf = Files.createDirectories(dir.resolve("usr/lib")).resolve("libbpf.so.1");
    Files.write(libbpf, new byte[] {0x7f, 'E', 'L', 'F', 2});
    current.set(database(Map.of(jvm, md5(jvm), libbpf, md5(libbpf))));
    SelfIntegrity self = new SelfIntegrity(current::get, Optional.empty(), List::of);
    upgrades =
        new OwnFileUpgrades(
            self,
            Map.of("jvm", jvm, "libbpf", libbpf),
            SelfWatch.NONE,
            new Classifier(Clock.systemUTC(), "host"));
  }

  @Test
  void anUpgradeThePackageDatabaseVouchesForIsSaidAsSuchNotAsTampering() throws Exception {
    PackageDatabase before = current.get();
    replace(jvm, new byte[] {0x7f, 'E', 'L', 'F', 9}); // dpkg renames the new file into place
    PackageDatabase after = database(Map.of(jvm, md5(jvm), libbpf, md5(libbpf)));
    current.set(after);

    List<SecurityEvent> events = upgrades.apply(after.changesFrom(before));

    assertThat(events)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
              assertThat(e.reason())
                  .startsWith("agent jvm " + jvm + " was upgraded by its package (matches package ")
                  .endsWith(
                      "the running agent still runs the previous version, which no package"
                          + " record describes now: restart it");
              assertThat(e.details())
                  .containsEntry("check", "package-upgrade")
                  .containsEntry("component", "jvm");
            });
  }

  @Test
  void newBytesThatDifferFromTheNewRecordAreASelfIntegrityFailureAtOnce() throws Exception {
    PackageDatabase before = current.get();
    replace(jvm, new byte[] {0x7f, 'E', 'L', 'F', 66}); // not what the new record says
    PackageDatabase after = database(Map.of(jvm, "0".repeat(32), libbpf, md5(libbpf)));
    current.set(after);

    List<SecurityEvent> events = upgrades.apply(after.changesFrom(before));

    assertThat(events)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.SELF_INTEGRITY_FAILURE);
              assertThat(e.reason())
                  .isEqualTo(
                      "jvm "
                          + jvm
                          + ": differs from the checksum recorded by package pkg-java"
                          + " (after a package upgrade)");
            });
  }

  @Test
  void aReloadThatChangedOtherFilesSaysNothingAboutTheAgent() throws Exception {
    Path other = Files.write(dir.resolve("usr/lib/other.so"), new byte[] {1});
    PackageDatabase before = current.get();
    PackageDatabase after = database(Map.of(jvm, md5(jvm), libbpf, md5(libbpf), other, md5(other)));
    assertThat(after.changesFrom(before).isEmpty()).isFalse();

    assertThat(upgrades.apply(after.changesFrom(before))).isEmpty();
  }

  private void replace(Path file, byte[] bytes) throws Exception {
    Path next = Files.write(file.resolveSibling(file.getFileName() + ".dpkg-new"), bytes);
    Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** One package per file, named pkg-FILENAME-without-extension. */
  private PackageDatabase database(Map<Path, String> records) throws Exception {
    for (Map.Entry<Path, String> r : records.entrySet()) {
      String name = r.getKey().getFileName().toString().split("\\.")[0];
      Files.writeString(
          info.resolve("pkg-" + name + ".md5sums"),
          r.getValue() + "  " + r.getKey().toString().substring(1) + "\n");
    }
    return PackageDatabase.load(info);
  }

  private static String md5(Path p) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(p)));
  }
}
