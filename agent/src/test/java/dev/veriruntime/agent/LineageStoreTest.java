package dev.veriruntime.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.event.ExecutableFile;
import dev.veriruntime.ingest.event.TaskContext;
import dev.veriruntime.ingest.event.ToolchainWriteEvent;
import dev.veriruntime.pipeline.DropLedger;
import dev.veriruntime.pipeline.ExecutableCheck;
import dev.veriruntime.pipeline.PipelineMetrics;
import dev.veriruntime.pipeline.ProcessTable;
import dev.veriruntime.sinks.journal.JournalEntry;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.lineage.LineageTrust;
import dev.veriruntime.verifier.reference.InTotoStatement;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceSource;
import dev.veriruntime.verifier.reference.ReferenceStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lineage store's records and decisions, without a kernel: events are built by hand. */
class LineageStoreTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-12-03T12:00:00Z"), ZoneOffset.UTC);

  @TempDir Path dir;
  private Path root;
  private Path ld;
  private BinaryVerifier verifier;
  private ProcessTable table;
  private final List<FileIdentity> marked = new ArrayList<>();
  private final List<JournalEntry.Note> notes = new ArrayList<>();
  private LineageStore store;

  @BeforeEach
  void setUp() throws IOException {
    root = Files.createDirectories(dir.resolve("build"));
    Path tools = Files.createDirectories(dir.resolve("tools"));
    ld = Files.copy(Path.of("/bin/true"), tools.resolve("ld"));
    Files.writeString(ld, "x", StandardOpenOption.APPEND); // its own digest, vouched below
    verifier = new BinaryVerifier(ReferenceStore.empty(), CLOCK, BinaryVerifier.Options.defaults());
    table = new ProcessTable(1024, new DropLedger());
    store =
        new LineageStore(
            new LineageTrust(List.of(root)),
            Toolchains.of(List.of("sha256:" + verifier.verify(ld).sha256())),
            table,
            new PipelineMetrics(new SimpleMeterRegistry()),
            id -> marked.add(id),
            LineageStore.BuildFollower.NONE,
            notes::add,
            CLOCK);
    // make (10) → cc (11) → ld (12); the linker's executable is a vouched toolchain.
    table.started(entry(10, 1, "/usr/bin/make", null));
    table.started(entry(11, 10, "/usr/bin/cc", null));
    table.started(entry(12, 11, ld.toString(), BinaryVerifier.identity(ld)));
    store.decide(12, "exec", check(ld));
  }

  private static ProcessTable.Entry entry(int pid, int ppid, String exe, FileIdentity id) {
    return new ProcessTable.Entry(pid, ppid, exe, id, 0, "x", null);
  }

  private ExecutableCheck check(Path file) throws IOException {
    return ExecutableCheck.of(verifier.verify(file));
  }

  private Path output(String name) throws IOException {
    return Files.copy(Path.of("/bin/true"), root.resolve(name));
  }

  private static ToolchainWriteEvent write(
      int tgid, Path file, FileIdentity id, ToolchainWriteEvent.Phase phase) {
    return new ToolchainWriteEvent(
        1,
        new TaskContext(tgid, tgid, 0, 0, 0, "ld"),
        phase,
        new ExecutableFile(
            new FileIdentity(id.dev(), id.inode(), id.ctimeNanos(), id.size()),
            1,
            0100755,
            0xef53,
            false,
            false,
            phase == ToolchainWriteEvent.Phase.OPENED ? file.toString() : "",
            false,
            0),
        null);
  }

  private void linked(int tgid, Path file) throws IOException {
    FileIdentity id = BinaryVerifier.identity(file);
    store.written(write(tgid, file, id, ToolchainWriteEvent.Phase.OPENED));
    store.written(write(tgid, file, id, ToolchainWriteEvent.Phase.DONE));
  }

  @Test
  void onlyAVouchedOrVerifiedToolchainIsMarkedAndOnlyOnce() throws IOException {
    assertThat(marked).containsExactly(BinaryVerifier.identity(ld));
    store.decide(12, "exec", check(ld));
    // A file named like a toolchain whose verdict is UNKNOWN is not one.
    Path gcc = Files.copy(Path.of("/bin/true"), dir.resolve("tools").resolve("gcc"));
    store.decide(13, "exec", check(gcc));
    assertThat(marked).hasSize(1);
    assertThat(store.counts()).containsEntry("toolchain_executables", 1L);
  }

  @Test
  void aVerifiedBuildRootIsFollowedInTheKernelAndItsRunningProcessesToo() throws Exception {
    Path make = Files.copy(Path.of("/bin/true"), dir.resolve("tools").resolve("make"));
    String sha = verifier.verify(make).sha256();
    InTotoStatement statement =
        InTotoStatement.of(
            List.of(new InTotoStatement.Subject("make", Map.of("sha256", sha))), "t", null);
    BinaryVerifier trusting =
        new BinaryVerifier(
            ReferenceStore.builder()
                .add(
                    new Reference(
                        make.toString(),
                        sha,
                        Map.of(),
                        Map.of(),
                        new ReferenceSource(Path.of("make.json"), statement, sha, null, false)))
                .build(),
            CLOCK,
            new BinaryVerifier.Options(Set.of(Scope.DISK_HASH), ElfHeader.hostMachine()));
    ExecutableCheck verified = ExecutableCheck.of(trusting.verify(make));
    assertThat(verified.verification().verdict()).isEqualTo(Verdict.VERIFIED);
    List<FileIdentity> roots = new ArrayList<>();
    List<Integer> pids = new ArrayList<>();
    LineageStore builds =
        new LineageStore(
            new LineageTrust(List.of(root)),
            Toolchains.of(List.of()),
            table,
            new PipelineMetrics(new SimpleMeterRegistry()),
            id -> true,
            new LineageStore.BuildFollower() {
              @Override
              public boolean followExecsOf(FileIdentity buildRoot) {
                return roots.add(buildRoot);
              }

              @Override
              public void follow(int pid) {
                pids.add(pid);
              }
            },
            notes::add,
            CLOCK);

    builds.decide(40, "running process", verified);
    builds.decide(41, "exec", verified);
    builds.decide(42, "executable mapping", verified);
    builds.decide(43, "exec", check(make)); // the same file, not verified: no build root

    assertThat(roots).containsExactly(BinaryVerifier.identity(make));
    assertThat(pids).containsExactly(40, 41);
  }

  @Test
  void anOutputLinkedInsideTheRootIsTrustedWithItsChainAndJournaledOnce() throws IOException {
    Path hello = output("hello");
    linked(12, hello);

    ExecutableCheck first = store.decide(20, "exec", check(hello));
    ExecutableCheck again = store.decide(21, "exec", check(hello));

    BinaryVerification v = first.verification();
    assertThat(v.verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(v.scope(Scope.LINEAGE).orElseThrow().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(v.scope(Scope.DISK_HASH).orElseThrow().status()).isEqualTo(ScopeStatus.NOT_VERIFIED);
    assertThat(again.verification().verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(notes).hasSize(1);
    JournalEntry.Note note = notes.get(0);
    assertThat(note.topic()).isEqualTo("lineage");
    assertThat(note.summary()).contains("not a signature").contains("make → cc → ld");
    assertThat(note.detail()).containsEntry("outcome", "TRUSTED").containsEntry("pid", 20);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> chain = (List<Map<String, Object>>) note.detail().get("chain");
    assertThat(chain)
        .extracting(s -> s.get("exe"))
        .containsExactly("/usr/bin/make", "/usr/bin/cc", ld.toString());
    assertThat(chain.get(2)).containsEntry("toolchain", true);
    assertThat(chain.get(0)).containsEntry("toolchain", false);
    assertThat(store.counts()).containsEntry("trusted", 2L).containsEntry("files", 1L);
  }

  @Test
  void aLaterWriteVoidsTheLineage() throws IOException {
    Path hello = output("hello");
    linked(12, hello);
    Files.write(hello, new byte[] {0}, StandardOpenOption.APPEND);

    ExecutableCheck c = store.decide(20, "exec", check(hello));

    assertThat(c.verification().verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(c.verification().scope(Scope.LINEAGE).orElseThrow().reason())
        .contains("changed by something else");
    assertThat(notes)
        .singleElement()
        .satisfies(n -> assertThat(n.detail()).containsEntry("outcome", "CHANGED_SINCE_WRITTEN"));
  }

  @Test
  void aCopyHasNoLineageAndAFinalIdentityWithoutItsOpeningIsIgnored() throws IOException {
    Path hello = output("hello");
    linked(12, hello);
    Path copy = Files.copy(hello, root.resolve("hello-copy"));
    Path orphan = output("orphan");
    store.written(
        write(12, orphan, BinaryVerifier.identity(orphan), ToolchainWriteEvent.Phase.DONE));

    assertThat(store.decide(20, "exec", check(copy)).verification().verdict())
        .isEqualTo(Verdict.UNKNOWN);
    assertThat(store.decide(21, "exec", check(orphan)).verification().verdict())
        .isEqualTo(Verdict.UNKNOWN);
    assertThat(store.counts()).containsEntry("no_lineage", 2L).containsEntry("files", 1L);
  }

  @Test
  void outsideTheRootsNothingIsRecordedOrDecided() throws IOException {
    Path elsewhere = Files.copy(Path.of("/bin/true"), dir.resolve("elsewhere"));
    linked(12, elsewhere);

    ExecutableCheck given = check(elsewhere);
    assertThat(store.decide(20, "exec", given)).isSameAs(given);
    assertThat(notes).isEmpty();
    assertThat(store.counts()).doesNotContainKey("files");
  }

  @Test
  void toolchainNames() {
    Toolchains t = Toolchains.of(List.of("my-cc"));
    assertThat(t.named("/usr/bin/x86_64-linux-gnu-gcc-12")).isTrue();
    assertThat(t.named("/usr/bin/x86_64-linux-gnu-ld.bfd")).isTrue();
    assertThat(t.named("/usr/lib/gcc/x86_64-linux-gnu/12/collect2")).isTrue();
    assertThat(t.named("/usr/lib/gcc/x86_64-linux-gnu/12/lto-wrapper")).isTrue();
    assertThat(t.named("/usr/bin/clang-14")).isTrue();
    assertThat(t.named("/usr/lib/go-1.19/pkg/tool/linux_amd64/link")).isTrue();
    assertThat(t.named("/opt/bin/my-cc")).isTrue();
    assertThat(t.named("/usr/bin/link")).as("coreutils, not Go's linker").isFalse();
    assertThat(t.named("/usr/bin/cp")).isFalse();
    assertThat(t.named("/tmp/evilgcc")).isFalse();
    assertThat(Toolchains.buildRoot("/usr/bin/make")).isTrue();
    assertThat(Toolchains.buildRoot("/usr/bin/sh")).isFalse();
    assertThatThrownBy(() -> Toolchains.of(List.of("/usr/bin/cc")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Toolchains.of(List.of("sha256:zz")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
