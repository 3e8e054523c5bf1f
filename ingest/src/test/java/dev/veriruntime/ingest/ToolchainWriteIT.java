package dev.veriruntime.ingest;

import static dev.veriruntime.ingest.testing.HostFiles.exec;
import static dev.veriruntime.ingest.testing.HostFiles.identity;
import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.ingest.event.ExecEvent;
import dev.veriruntime.ingest.event.ToolchainWriteEvent;
import dev.veriruntime.ingest.record.WireFormat;
import dev.veriruntime.ingest.testing.KernelTests;
import dev.veriruntime.ingest.testing.RecordedEvents;
import dev.veriruntime.verifier.FileIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;

/**
 * Build lineage against the real kernel: a process whose executable is in the toolchain map is
 * marked at exec, and the regular files it opens for writing are reported when opened and, with
 * their final identity, when it exits; other processes' writes are not. The "toolchain" is a
 * private copy of /bin/sh, so compilers run by other tests on this host never match. Needs root and
 * a BPF-capable kernel.
 */
class ToolchainWriteIT {
  static final Duration WAIT = Duration.ofSeconds(10);
  @TempDir Path dir;
  Probe probe;
  Disposable reading;
  final RecordedEvents events = new RecordedEvents();

  @BeforeEach
  void load() {
    KernelTests.assumeKernel();
    probe =
        Probe.load(
            ProbeSpec.veriRuntime(),
            new ProbeSettings(
                ProcessHandle.current().pid(),
                ProbeSettings.DEFAULT_RING_BUFFER_BYTES,
                Map.of(WireFormat.Config.TRACE_LINEAGE_SYMBOL, 1L)));
    reading =
        EventSource.live(probe)
            .subscribe(
                e -> {
                  if (e instanceof ToolchainWriteEvent || e instanceof ExecEvent) {
                    events.accept(e);
                  }
                });
  }

  @AfterEach
  void close() {
    if (reading != null) {
      reading.dispose();
    }
    if (probe != null) {
      probe.close();
    }
  }

  @Test
  void aToolchainProcesssOutputsAreReportedWithTheirFinalIdentity() throws Exception {
    Path toolchain = Files.copy(Path.of("/bin/sh").toRealPath(), dir.resolve("fake-ld"));
    toolchain.toFile().setExecutable(true);
    assertThat(probe.markToolchain(identity(toolchain))).isTrue();
    Path out = dir.resolve("a.out");
    Path input = dir.resolve("input");
    Files.writeString(input, "source");

    // Written, closed, then chmod-ed by a child before the writer exits, as ld does.
    long linker =
        exec(
            toolchain.toString(),
            "-c",
            "echo linked > " + out + "; cat " + input + " >/dev/null; chmod 755 " + out);
    FileIdentity finalIdentity = identity(out);

    List<ToolchainWriteEvent> writes = await(e -> e.task().tgid() == linker, 2);
    assertThat(writes)
        .extracting(ToolchainWriteEvent::phase)
        .containsExactly(ToolchainWriteEvent.Phase.OPENED, ToolchainWriteEvent.Phase.DONE);
    ToolchainWriteEvent opened = writes.get(0);
    assertThat(opened.file().path()).isEqualTo(out.toString());
    assertThat(opened.file().identity().inode()).isEqualTo(finalIdentity.inode());
    assertThat(opened.writerExecutable()).isEqualTo(identity(toolchain));
    ToolchainWriteEvent done = writes.get(1);
    assertThat(done.file().identity())
        .as("final identity, after the chmod")
        .isEqualTo(finalIdentity);
    assertThat(done.file().path()).isEmpty();
    assertThat(execs(e -> e.task().tgid() == linker)).isNotEmpty();

    // The same executable unmarked, and an ordinary shell: their writes are not reported. A
    // marked marker run afterwards proves the ring has caught up.
    long ordinary = exec("/bin/sh", "-c", "echo x > " + dir.resolve("plain"));
    assertThat(probe.unmarkToolchain(identity(toolchain))).isTrue();
    long unmarked = exec(toolchain.toString(), "-c", "echo x > " + dir.resolve("after"));
    assertThat(probe.markToolchain(identity(toolchain))).isTrue();
    long marker = exec(toolchain.toString(), "-c", "echo x > " + dir.resolve("marker"));
    await(e -> e.task().tgid() == marker, 2);
    assertThat(writes(e -> e.task().tgid() == ordinary)).as("not a toolchain").isEmpty();
    assertThat(writes(e -> e.task().tgid() == unmarked)).as("unmarked").isEmpty();
    assertThat(writes(e -> e.task().tgid() == linker))
        .as("the read-only open of the input is not a write")
        .hasSize(2);
  }

  /**
   * A toolchain process remembers up to {@code VR_TOOLCHAIN_SLOTS} (8) of the files it opened for
   * writing, and its end looks those up; one that opened more makes its end visit every pending
   * file instead. Either way every file's final identity is reported once.
   */
  @ParameterizedTest(name = "{0} files")
  @ValueSource(ints = {3, 12})
  void everyFileOfAWriterIsReportedDoneAsFewOrAsManyAsItWrote(int files) throws Exception {
    Path toolchain = Files.copy(Path.of("/bin/sh").toRealPath(), dir.resolve("fake-as"));
    toolchain.toFile().setExecutable(true);
    assertThat(probe.markToolchain(identity(toolchain))).isTrue();
    StringBuilder script = new StringBuilder();
    for (int i = 0; i < files; i++) {
      script.append("echo ").append(i).append(" > ").append(dir.resolve("out" + i)).append("; ");
    }
    long writer = exec(toolchain.toString(), "-c", script.toString());

    List<ToolchainWriteEvent> writes = await(e -> e.task().tgid() == writer, 2 * files);
    Map<Long, FileIdentity> done = new HashMap<>();
    for (ToolchainWriteEvent w : writes) {
      if (w.phase() == ToolchainWriteEvent.Phase.DONE) {
        assertThat(done.put(w.file().identity().inode(), w.file().identity()))
            .as("reported done once")
            .isNull();
      }
    }
    for (int i = 0; i < files; i++) {
      FileIdentity id = identity(dir.resolve("out" + i));
      assertThat(done.get(id.inode())).as("out%d", i).isEqualTo(id);
    }
  }

  private List<ExecEvent> execs(Predicate<ExecEvent> which) {
    return events.of(ExecEvent.class, which);
  }

  private List<ToolchainWriteEvent> writes(Predicate<ToolchainWriteEvent> which) {
    return events.of(ToolchainWriteEvent.class, which);
  }

  private List<ToolchainWriteEvent> await(Predicate<ToolchainWriteEvent> which, int count)
      throws InterruptedException {
    return events.await(ToolchainWriteEvent.class, which, count, WAIT);
  }
}
