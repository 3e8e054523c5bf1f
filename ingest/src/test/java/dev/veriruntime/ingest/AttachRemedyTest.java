package dev.veriruntime.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The one-line remedies of refused programs name what is missing and the command that fixes it. */
class AttachRemedyTest {

  @Test
  void aTracepointWithoutTracefsNamesTheMountCommand() {
    assertThat(AttachRemedy.remedy("tp/sched/sched_process_exit", 2, false))
        .isEqualTo("tracefs is not mounted; fix: mount -t tracefs nodev /sys/kernel/tracing");
    assertThat(AttachRemedy.remedy("tp/sched/sched_process_exit", 2, true)).isEmpty();
  }

  @Test
  void aMissingPrivilegeNamesTheCapabilities() {
    assertThat(AttachRemedy.remedy("tp_btf/sys_enter", 1, false))
        .contains("CAP_BPF and CAP_PERFMON")
        .contains("run as root");
  }

  @Test
  void aMissingRawTracepointNamesTheKernelConfiguration() {
    assertThat(AttachRemedy.remedy("tp_btf/sys_exit", 2, false))
        .contains("'sys_exit'")
        .contains("CONFIG_FTRACE_SYSCALLS=y");
    assertThat(AttachRemedy.remedy("tp_btf/sched_process_exit", 3, true))
        .contains("CONFIG_TRACEPOINTS=y");
  }

  @Test
  void optionalAcceleratorsNeedNoAction() {
    assertThat(AttachRemedy.remedy("fentry/do_exit", 1, false)).isEmpty();
    assertThat(AttachRemedy.remedy("lsm/bprm_check_security", 1, false)).isEmpty();
  }

  @Test
  void theSummaryIsOneLineWithTheRemedy() {
    AttachReport report =
        new AttachReport(
            java.util.List.of(
                new ProgramAttachment(
                    "vr_exec",
                    "tp_btf/sched_process_exec",
                    ProgramAttachment.Status.ATTACHED,
                    true,
                    0,
                    "",
                    7,
                    "0123456789abcdef",
                    "",
                    java.util.List.of("sched_process_exec")),
                new ProgramAttachment(
                    "vr_raw",
                    "tp_btf/sys_exit",
                    ProgramAttachment.Status.STANDBY,
                    false,
                    0,
                    "the per-syscall tracepoints are attached instead",
                    0,
                    "",
                    "",
                    java.util.List.of()),
                new ProgramAttachment(
                    "vr_old",
                    "tp/sched/sched_process_exit",
                    ProgramAttachment.Status.ATTACH_REFUSED,
                    false,
                    2,
                    "ENOENT (No such file or directory)",
                    8,
                    "fedcba9876543210",
                    AttachRemedy.remedy("tp/sched/sched_process_exit", 2, false),
                    java.util.List.of())));
    assertThat(report.summary())
        .doesNotContain("\n")
        .isEqualTo(
            "1 of 2 programs attached; not attached: vr_old (tp/sched/sched_process_exit): ENOENT"
                + " (No such file or directory): tracefs is not mounted; fix: mount -t tracefs"
                + " nodev /sys/kernel/tracing");
    // A program on standby is neither wanted nor failed; the description says why it waits.
    assertThat(report.failed()).extracting(ProgramAttachment::program).containsExactly("vr_old");
    assertThat(report.describe())
        .contains(
            "standby   vr_raw (tp_btf/sys_exit): the per-syscall tracepoints are attached instead")
        .contains("refused   vr_old (tp/sched/sched_process_exit): ATTACH_REFUSED ENOENT");
  }
}
