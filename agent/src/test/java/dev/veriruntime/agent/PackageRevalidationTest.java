package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableVerification;
import dev.veriruntime.pipeline.MappingFilter;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.EventType;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import dev.veriruntime.verifier.process.ExecutableVerifier;
import dev.veriruntime.verifier.process.ProcessPolicy;
import dev.veriruntime.verifier.process.ProcessVerification;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * A reload after dpkg changed the database, with real files and a fake info directory: what the old
 * snapshot failed and the new one vouches for goes quiet; what still differs stays a finding; a
 * process still running the previous version is not judged by the new record.
 */
class PackageRevalidationTest {
  /**
   * Beyond any pid_max: /proc/PID/exe never exists, so files are verified by path,
   * identity-checked.
   */
  private static final int PID_TOOL = 99_999_001;

  private static final int PID_TAMPERED = 99_999_002;
  private static final int PID_PREVIOUS = 99_999_003;

  @TempDir Path dir;

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final List<String> log = new ArrayList<>();
  private final RuntimeStateRegistry state = new RuntimeStateRegistry();
  private final ProcessTable table = new ProcessTable(64, new DropLedger());
  private final Classifier classifier = new Classifier(Clock.systemUTC(), "host");
  private final PreviousPackageVersions previousVersions = new PreviousPackageVersions(16);
  private final AtomicInteger filterResets = new AtomicInteger();
  private final MappingFilter mappingFilter =
      new MappingFilter() {
        @Override
        public void skip(ExecutableFile file) {}

        @Override
        public void reset() {
          filterResets.incrementAndGet();
        }
      };
  private Path info;
  private AtomicReference<PackageDatabase> current;
  private ExecutableVerification verification;
  private PackageRevalidation revalidation;

  @BeforeEach
  void setUp() throws Exception {
    info = Files.createDirectories(dir.resolve("info"));
    current = new AtomicReference<>(PackageDatabase.empty());
    BinaryVerifier verifier =
        new BinaryVerifier(
            ReferenceStore.empty(),
            current::get,
            Clock.systemUTC(),
            new BinaryVerifier.Options(
                EnumSet.of(Scope.DISK_HASH, Scope.ELF_HEADER), ElfHeader.hostMachine()));
    PipelineMetrics metrics = new PipelineMetrics(meters);
    verification =
        new ExecutableVerification(
            verifier,
            100,
            Schedulers.immediate(),
            Schedulers.immediate(),
            64L << 20,
            16,
            ExecutableVerification.Inline.OFF,
            metrics,
            new DropLedger());
    ProcessVerifier processes =
        new ProcessVerifier(
            ExecutableVerifier.of(verifier), ProcessPolicy.defaults(), Clock.systemUTC());
    revalidation =
        new PackageRevalidation(
            verification,
            mappingFilter,
            table,
            processes,
            state,
            previousVersions,
            classifier,
            metrics,
            log::add);
  }

  @Test
  void changedRecordsAreVerifiedAgainQuietWhenTheyMatchAndStillFindingsWhenNot() throws Exception {
    Path tool = copy("/usr/bin/true", "usr/bin/tool");
    Path tampered = copy("/usr/bin/false", "usr/bin/tampered");
    Path previous = copy("/usr/bin/true", "usr/bin/previous");
    Path unrelated = copy("/usr/bin/true", "usr/bin/unrelated");
    // dpkg renamed the new tool into place but has not written its md5sums yet: the old record.
    Map<Path, String> records =
        new LinkedHashMap<>(
            Map.of(
                tool,
                "0".repeat(32),
                tampered,
                "1".repeat(32),
                previous,
                md5(previous),
                unrelated,
                md5(unrelated)));
    PackageDatabase before = database(records);
    current.set(before);
    FileIdentity previousVersion = BinaryVerifier.identity(previous);
    String previousSha256 = sha256(previous);
    for (Path p : List.of(tool, tampered, previous, unrelated)) {
      assertThat(verification.check(p.toString(), BinaryVerifier.identity(p), () -> null).block())
          .isNotNull();
    }
    start(PID_TOOL, tool, BinaryVerifier.identity(tool));
    start(PID_TAMPERED, tampered, BinaryVerifier.identity(tampered));
    start(PID_PREVIOUS, previous, previousVersion);
    state.record(runtimeState(PID_TOOL));
    state.record(runtimeState(PID_PREVIOUS));

    // The upgrade: "previous" replaced by rename while its process runs on; tool's record now
    // written;
    // "tampered" gets a new record that its bytes do not match either.
    Path next =
        Files.write(dir.resolve("next"), concat(Files.readAllBytes(previous), new byte[] {0}));
    Files.move(next, previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    records.put(tool, md5(tool));
    records.put(tampered, "2".repeat(32));
    records.put(previous, md5(previous));
    PackageDatabase after = database(records);
    current.set(after);

    StepVerifier.create(
            Flux.just(new LivePackageDatabase.Reload(after, after.changesFrom(before), null))
                .transform(revalidation))
        .assertNext(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.VERIFY_FAILED);
              assertThat(e.pid()).isEqualTo(PID_TAMPERED);
              assertThat(e.reason())
                  .startsWith("running process of " + tampered + " failed verification")
                  .contains("candidate tampering");
            })
        .verifyComplete();

    assertThat(verification.hit(BinaryVerifier.identity(tool)))
        .get()
        .extracting(c -> c.verification().verdict())
        .isEqualTo(Verdict.VERIFIED);
    assertThat(verification.hit(BinaryVerifier.identity(unrelated)))
        .as("record unchanged: still cached")
        .isPresent();
    assertThat(verification.hit(previousVersion)).as("dropped, not verified again").isEmpty();
    assertThat(previousVersions.contains(previous.toString(), previousSha256))
        .as("runs on as the previous version")
        .isTrue();
    assertThat(previousVersions.size()).as("only files the path no longer holds").isEqualTo(1);
    assertThat(table.get(PID_TOOL)).get().extracting(ProcessTable.Entry::sha256).isNotNull();
    assertThat(state.get(PID_TOOL)).as("re-attestation records a fresh state").isEmpty();
    assertThat(state.get(PID_PREVIOUS)).isPresent();
    assertThat(filterResets).as("the kernel reports mappings of verified files again").hasValue(1);
    assertThat(meters.counter("veriruntime.package.database.reloads").count()).isEqualTo(1.0);
    assertThat(meters.counter("veriruntime.package.database.files.changed").count()).isEqualTo(3.0);
    assertThat(log)
        .singleElement()
        .asString()
        .startsWith("package database reloaded: 4 files, 3 changed in 3 package(s)")
        .contains("3 cached verdict(s) dropped (2 of them findings)")
        .contains("2 running process(es) verified again, 1 now quiet, 1 still finding(s)")
        .contains("1 process(es) still run the previous version until restarted");
  }

  @Test
  void aReloadThatFailedIsReportedAsDegradedCoverage() {
    PackageDatabase kept = PackageDatabase.empty();
    StepVerifier.create(
            Flux.just(
                    new LivePackageDatabase.Reload(
                        kept, PackageDatabase.Changes.NONE, "unreadable"))
                .transform(revalidation))
        .assertNext(
            e -> {
              assertThat(e.type()).isEqualTo(EventType.VERIFICATION_DEGRADED);
              assertThat(e.reason()).isEqualTo("unreadable");
            })
        .verifyComplete();
    assertThat(meters.counter("veriruntime.package.database.reloads").count()).isZero();
    assertThat(filterResets).hasValue(0);
  }

  private Path copy(String from, String to) throws Exception {
    Path target = dir.resolve("root").resolve(to);
    Files.createDirectories(target.getParent());
    return Files.copy(Path.of(from), target);
  }

  /** One package per file, named after it. */
  private PackageDatabase database(Map<Path, String> records) throws Exception {
    for (Map.Entry<Path, String> r : records.entrySet()) {
      Files.writeString(
          info.resolve(r.getKey().getFileName() + ".md5sums"),
          r.getValue() + "  " + r.getKey().toString().substring(1) + "\n");
    }
    return PackageDatabase.load(info);
  }

  private void start(int pid, Path exe, FileIdentity identity) {
    table.started(
        new ProcessTable.Entry(
            pid, 1, exe.toString(), identity, 0, exe.getFileName().toString(), null));
  }

  private static ProcessVerification runtimeState(int pid) {
    return new ProcessVerification(
        pid,
        1,
        Verdict.FAILED,
        new ProcessVerification.Executable("/x", null, null),
        Coverage.of(ScopeResult.failed(Scope.DISK_HASH, "differs")),
        List.of(),
        java.time.Instant.now(),
        0,
        true);
  }

  private static String sha256(Path p) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  private static String md5(Path p) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(Files.readAllBytes(p)));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
