package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class LivePackageDatabaseTest {
  private static final Duration POLL = Duration.ofSeconds(1);
  private static final Duration QUIET = Duration.ofSeconds(2);
  private static final String A = "a".repeat(32);
  private static final String B = "b".repeat(32);

  @TempDir Path dir;

  private final AtomicInteger signature = new AtomicInteger();
  private final AtomicInteger loads = new AtomicInteger();
  private final AtomicBoolean broken = new AtomicBoolean();
  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private Path info;
  private LivePackageDatabase live;

  /** A database of one package whose loads are counted and can be made to fail. */
  @BeforeEach
  void setUp() throws IOException {
    info = Files.createDirectories(dir.resolve("info"));
    install("tool", A, "usr/bin/tool");
    live =
        new LivePackageDatabase(
            signature::get,
            () -> {
              loads.incrementAndGet();
              if (broken.get()) {
                throw new IOException("Permission denied");
              }
              return PackageDatabase.load(info);
            },
            POLL,
            QUIET,
            time);
  }

  /**
   * Writes a package's md5sums the way dpkg does: into a temporary file, then renamed into place.
   */
  private void install(String pkg, String md5, String path) throws IOException {
    Path tmp = Files.writeString(dir.resolve(pkg + ".tmp"), md5 + "  " + path + "\n");
    Files.move(
        tmp,
        info.resolve(pkg + ".md5sums"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  @Test
  void aChangeIsReloadedOnceTheDatabaseHasBeenQuietAndNotBefore() throws Exception {
    assertThat(loads).hasValue(1);

    StepVerifier.withVirtualTime(live::reloads, () -> time, Long.MAX_VALUE)
        .expectSubscription()
        .expectNoEvent(Duration.ofSeconds(10))
        .then(
            () -> {
              // dpkg at work: the first package...
              signature.incrementAndGet();
              uncheck(() -> install("tool", B, "usr/bin/tool"));
            })
        .thenAwait(Duration.ofMillis(1500))
        // ...and the next one before the quiet period is over postpones the reload.
        .then(
            () -> {
              signature.incrementAndGet();
              uncheck(() -> install("other", A, "usr/bin/other"));
            })
        .expectNoEvent(Duration.ofSeconds(2))
        .then(() -> assertThat(loads).as("the quiet period started again").hasValue(1))
        .thenAwait(Duration.ofSeconds(1))
        .assertNext(
            r -> {
              assertThat(r.failed()).isFalse();
              assertThat(r.changes().paths()).containsExactly("/usr/bin/other", "/usr/bin/tool");
              assertThat(r.changes().packages()).containsExactly("other", "tool");
              assertThat(r.database()).isSameAs(live.get());
            })
        .expectNoEvent(Duration.ofSeconds(30))
        .thenCancel()
        .verify();
    assertThat(loads).hasValue(2);
    assertThat(live.get().lookup("/usr/bin/tool"))
        .get()
        .extracting(PackageDatabase.PackageFile::md5)
        .isEqualTo(B);
  }

  @Test
  void aSnapshotThatCannotBeLoadedKeepsThePreviousOneInUse() throws Exception {
    PackageDatabase first = live.get();

    StepVerifier.withVirtualTime(live::reloads, () -> time, Long.MAX_VALUE)
        .then(
            () -> {
              broken.set(true);
              signature.incrementAndGet();
            })
        .thenAwait(Duration.ofSeconds(4))
        .assertNext(
            r -> {
              assertThat(r.failed()).isTrue();
              assertThat(r.failure())
                  .contains("previous snapshot stays in use", "Permission denied");
              assertThat(r.changes().isEmpty()).isTrue();
            })
        .then(
            () -> {
              broken.set(false);
              signature.incrementAndGet();
              uncheck(() -> install("tool", B, "usr/bin/tool"));
            })
        .thenAwait(Duration.ofSeconds(4))
        .assertNext(r -> assertThat(r.changes().paths()).containsExactly("/usr/bin/tool"))
        .thenCancel()
        .verify();
    assertThat(live.get()).isNotSameAs(first);
  }

  @Test
  void aCorruptMd5sumsReplacedWhileRunningNarrowsTrustAndNeverWidensIt() throws Exception {
    assertThat(live.get().lookup("/usr/bin/tool")).isPresent();

    StepVerifier.withVirtualTime(live::reloads, () -> time, Long.MAX_VALUE)
        .then(
            () -> {
              // Not UTF-8, no line a checksum could be read from: what a torn or garbled write
              // leaves.
              uncheck(
                  () ->
                      Files.write(
                          info.resolve("tool.md5sums"),
                          new byte[] {(byte) 0xff, (byte) 0xfe, 'z', 0, '\n', (byte) 0xc3}));
              signature.incrementAndGet();
            })
        .thenAwait(Duration.ofSeconds(4))
        .assertNext(
            r -> {
              assertThat(r.failed()).as("the rest of the database still loads").isFalse();
              assertThat(r.changes().paths())
                  .as("what the file vouched for is re-verified")
                  .containsExactly("/usr/bin/tool");
              assertThat(r.database().unreadableFiles()).isEqualTo(1);
            })
        .thenCancel()
        .verify();
    assertThat(live.get().lookup("/usr/bin/tool")).as("no longer vouched for").isEmpty();
    assertThat(live.get().size()).isZero();
  }

  @Test
  void signatureFollowsTheInfoDirectoryAndTheStatusFileBesideIt() throws Exception {
    Path status = Files.writeString(dir.resolve("status"), "Package: tool\n");
    Files.setLastModifiedTime(info, FileTime.from(Instant.parse("2024-01-01T00:00:00Z")));
    Files.setLastModifiedTime(status, FileTime.from(Instant.parse("2024-01-01T00:00:00Z")));
    LivePackageDatabase.Signature before = LivePackageDatabase.Signature.of(info);

    Files.setLastModifiedTime(status, FileTime.from(Instant.parse("2024-01-01T00:00:01Z")));
    LivePackageDatabase.Signature statusRewritten = LivePackageDatabase.Signature.of(info);
    Files.setLastModifiedTime(info, FileTime.from(Instant.parse("2024-01-01T00:00:02Z")));
    LivePackageDatabase.Signature listRenamedIn = LivePackageDatabase.Signature.of(info);

    assertThat(statusRewritten).isNotEqualTo(before);
    assertThat(listRenamedIn).isNotEqualTo(statusRewritten);
    assertThat(LivePackageDatabase.Signature.of(info)).isEqualTo(listRenamedIn);
    assertThat(LivePackageDatabase.Signature.of(dir.resolve("absent")).infoDirModifiedNanos())
        .isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void openReadsTheDpkgInfoDirectoryAndAMissingOneIsEmpty() throws Exception {
    assertThat(
            LivePackageDatabase.open(info, POLL, QUIET, VirtualTimeScheduler.create()).get().size())
        .isEqualTo(1);
    assertThat(
            LivePackageDatabase.open(
                    dir.resolve("absent"), POLL, QUIET, VirtualTimeScheduler.create())
                .get()
                .size())
        .isZero();
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private static void uncheck(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
