package dev.veriruntime.ingest.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.veriruntime.ingest.testing.KernelTests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The libbpf binding against a committed test-only object (src/test/c/ringbuf_fixture.bpf.c). */
class BpfObjectTest {
  static final String FIXTURE = "ringbuf_fixture.bpf.o";

  static byte[] fixture() throws IOException {
    try (InputStream in = BpfObjectTest.class.getResourceAsStream(FIXTURE)) {
      return in.readAllBytes();
    }
  }

  @Test
  void opensWithoutPrivilegeAndListsPrograms() throws IOException {
    try (BpfObject object = BpfObject.open("fixture", fixture())) {
      assertThat(object.programNames()).containsExactly("fixture_exec", "fixture_optional_fentry");
      assertThat(object.sectionName("fixture_exec")).isEqualTo("raw_tp/sched_process_exec");
      assertThat(object.hasMap("events")).isTrue();
      assertThat(object.hasMap(".rodata")).isTrue();
      assertThat(object.hasMap("nope")).isFalse();
      assertThat(object.valueSize(".rodata")).isEqualTo(16);
    }
  }

  @Test
  void rejectsGarbage() {
    assertThatThrownBy(() -> BpfObject.open("garbage", new byte[] {1, 2, 3}))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("cannot open BPF object 'garbage'");
  }

  @Test
  void namesTheRefusedProgramWhenLoadFails() throws IOException {
    KernelTests.assumeKernel();
    try (BpfObject object = BpfObject.open("fixture", fixture())) {
      assertThatThrownBy(object::load)
          .isInstanceOfSatisfying(
              BpfLoadException.class,
              e -> {
                assertThat(e.failedProgram()).contains("fixture_optional_fentry");
                assertThat(e.errno()).isPositive();
              });
    }
  }

  @Test
  void loadsAttachesAndReadsRecordsWithRodataSettings() throws Exception {
    KernelTests.assumeKernel();
    try (BpfObject object = BpfObject.open("fixture", fixture())) {
      object.setAutoload("fixture_optional_fentry", false);
      byte[] rodata = new byte[16];
      ByteBuffer.wrap(rodata)
          .order(ByteOrder.LITTLE_ENDIAN)
          .putInt(0, (int) ProcessHandle.current().pid())
          .putLong(8, 0x5eed_cafe_f00dL);
      object.setInitialValue(".rodata", rodata);
      object.setMaxEntries("events", 1 << 16);
      object.load();
      BpfProgramInfo info = object.programInfo("fixture_exec");
      assertThat(info.id()).isPositive();
      assertThat(info.tag()).hasSize(16);
      assertThat(info.kernelName()).isEqualTo("fixture_exec");
      List<long[]> seen = new ArrayList<>();
      try (BpfLink link = object.attach("fixture_exec");
          BpfRingBuffer ring =
              new BpfRingBuffer(
                  object.mapFd("events"),
                  record -> {
                    seen.add(
                        new long[] {
                          record.getLong(0),
                          record.getLong(8),
                          record.getInt(16),
                          record.remaining()
                        });
                    return true;
                  })) {
        Process child = new ProcessBuilder("/bin/true").start();
        long childPid = child.pid();
        child.waitFor();
        for (int i = 0; i < 50 && seen.stream().noneMatch(r -> r[2] == childPid); i++) {
          ring.poll(100);
        }
        assertThat(seen)
            .anySatisfy(
                r -> {
                  assertThat(r[2]).isEqualTo(childPid);
                  assertThat(r[1]).isEqualTo(0x5eed_cafe_f00dL);
                  assertThat(r[3]).isEqualTo(40);
                });
        assertThat(BpfMaps.sumPerCpu(object.mapFd("lost"), 0, 1, 0)).isZero();
        assertThat(BpfMaps.lookupPerCpu(object.mapFd("lost"), 0, 1).length)
            .isEqualTo(BpfMaps.possibleCpus());
      }
    }
  }

  @Test
  void releaseEndsAWaitAtOnceAndEveryLaterOne() throws Exception {
    KernelTests.assumeKernel();
    try (BpfObject object = BpfObject.open("fixture", fixture())) {
      object.setAutoload("fixture_optional_fentry", false);
      object.load();
      BpfRingBuffer ring = new BpfRingBuffer(object.mapFd("events"), record -> true);
      long[] waited = new long[1];
      Thread poller =
          new Thread(
              () -> {
                long start = System.nanoTime();
                ring.poll(60_000);
                waited[0] = System.nanoTime() - start;
              });
      poller.start();
      Thread.sleep(200);
      ring.release();
      poller.join(30_000);
      assertThat(poller.isAlive()).as("poll still waiting 30 s after release").isFalse();
      assertThat(waited[0]).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(30));

      long start = System.nanoTime();
      assertThat(ring.poll(60_000)).isZero();
      assertThat(System.nanoTime() - start)
          .isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(30));
      ring.close();
      ring.release(); // after close: nothing, and no descriptor written
    }
  }
}
