package dev.veriruntime.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

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
  void countsTheChildrenByTheirCommandName() {
    assertThat(ExecOracle.PROGRAM)
        .contains("tracepoint:sched:sched_process_exec", "strncmp(comm, \"child-\", 6)");
  }

  @Test
  void runsBpftraceInAPrivateMountNamespaceWithItsOwnTracefs() {
    assertThat(ExecOracle.COMMAND)
        .startsWith("unshare", "-m", "--propagation", "private", "sh", "-c")
        .endsWith(ExecOracle.PROGRAM);
    String script = ExecOracle.COMMAND.get(6);
    assertThat(script)
        .contains("mount -t tracefs tracefs /sys/kernel/tracing")
        .endsWith("exec bpftrace -f json -e \"$0\"");
  }
}
