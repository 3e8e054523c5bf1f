package dev.veriruntime.ingest;

/**
 * What is missing when the kernel refuses a program, and the command that fixes it, in words an
 * operator can act on. Pure: the facts about the host are parameters, so it is tested without a
 * kernel.
 */
final class AttachRemedy {
  static final String MOUNT_TRACEFS = "mount -t tracefs nodev /sys/kernel/tracing";

  private static final int EPERM = 1;
  private static final int ENOENT = 2;
  private static final int ESRCH = 3;
  private static final int EACCES = 13;
  private static final int EINVAL = 22;
  private static final int EOPNOTSUPP = 95;
  private static final int ENOTSUPP = 524;

  private AttachRemedy() {}

  /**
   * The remedy for one refused program, or an empty string when no action of the operator helps (an
   * optional accelerator this kernel does not offer).
   *
   * @param section the program's ELF section, e.g. {@code tp_btf/sys_enter}
   * @param errno positive errno of the refusal
   * @param tracefsMounted whether {@code /sys/kernel/tracing/events} exists
   */
  static String remedy(String section, int errno, boolean tracefsMounted) {
    String kind = section.contains("/") ? section.substring(0, section.indexOf('/')) : section;
    String hook = section.substring(section.indexOf('/') + 1);
    boolean optional = kind.equals("fentry") || kind.equals("fexit") || kind.equals("lsm");
    if (optional) {
      return "";
    }
    if ((kind.equals("tp") || kind.equals("tracepoint")) && errno == ENOENT && !tracefsMounted) {
      return "tracefs is not mounted; fix: " + MOUNT_TRACEFS;
    }
    if (errno == EPERM || errno == EACCES) {
      return "the BPF privilege is missing (or kernel lockdown forbids it, see"
          + " /sys/kernel/security/lockdown); fix: run as root, or grant CAP_BPF and CAP_PERFMON"
          + " (setcap cap_bpf,cap_perfmon+ep on the java binary, or AmbientCapabilities= in the"
          + " systemd unit)";
    }
    if ((kind.equals("tp_btf") || kind.equals("raw_tp") || kind.equals("raw_tracepoint"))
        && (errno == ENOENT || errno == ESRCH || errno == EINVAL)) {
      String config =
          hook.equals("sys_enter") || hook.equals("sys_exit")
              ? "CONFIG_FTRACE_SYSCALLS=y"
              : "CONFIG_TRACEPOINTS=y";
      return "this kernel has no raw tracepoint '"
          + hook
          + "' in its BTF; fix: a kernel built with CONFIG_DEBUG_INFO_BTF=y and "
          + config;
    }
    if (errno == EOPNOTSUPP || errno == ENOTSUPP) {
      return "this kernel does not support attaching " + kind + " programs";
    }
    return "";
  }
}
