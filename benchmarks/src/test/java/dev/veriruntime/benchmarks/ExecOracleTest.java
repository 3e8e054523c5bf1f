package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExecOracleTest {
  @Test
  void readsBothCountsFromBpftraceJsonOutput() {
    String output =
        """
        {"type": "attached_probes", "data": {"probes": 2}}
        {"type": "printf", "data": "ready\\n"}


        {"type": "map", "data": {"@all": 32}}
        {"type": "map", "data": {"@storm": 20}}
        """;
    assertThat(ExecOracle.parse(output)).isEqualTo(new ExecOracle.Counts(32, 20));
  }

  @Test
  void aMapThatNeverCountedIsZero() {
    assertThat(ExecOracle.parse("{\"type\": \"map\", \"data\": {\"@all\": 7}}\nnot json\n"))
        .isEqualTo(new ExecOracle.Counts(7, 0));
  }

  @Test
  void countsTheChildrenByTheirRunsPrefix() {
    String prefix = ExecOracle.childPrefix(new java.util.Random(1));
    assertThat(prefix).matches("child[0-9a-f]{4}-");
    assertThat(ExecOracle.program(prefix))
        .contains("tracepoint:sched:sched_process_exec", "strncmp(comm, \"" + prefix + "\", 10)");
  }

  @Test
  void runsBpftraceInAPrivateMountNamespaceWithItsOwnTracefs() {
    List<String> command = ExecOracle.command("child0001-");
    assertThat(command)
        .startsWith("unshare", "-m", "--propagation", "private", "sh", "-c")
        .endsWith(ExecOracle.program("child0001-"));
    assertThat(command.get(6))
        .contains("mount -t tracefs tracefs /sys/kernel/tracing")
        .endsWith("exec bpftrace -f json -e \"$0\"");
  }
}
