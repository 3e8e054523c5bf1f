package dev.veriruntime.ingest;

import java.util.List;
import java.util.stream.Collectors;

/** What a {@link Probe} attached and what the kernel refused, with the reason. Immutable. */
public record AttachReport(List<ProgramAttachment> programs) {
  public AttachReport {
    programs = List.copyOf(programs);
  }

  public List<ProgramAttachment> attached() {
    return programs.stream().filter(ProgramAttachment::attached).toList();
  }

  public List<ProgramAttachment> failed() {
    return programs.stream().filter(p -> !p.attached()).toList();
  }

  /**
   * One line for a log: "all 4 programs attached" or what failed, what is missing and the command
   * that fixes it, e.g. {@code 3 of 4 programs attached; not attached: vr_sys_exit
   * (tp_btf/sys_exit): EPERM (Operation not permitted): the BPF privilege is missing ...; fix: run
   * as root ...}.
   */
  public String summary() {
    if (failed().isEmpty()) {
      return "all " + programs.size() + " programs attached";
    }
    return attached().size()
        + " of "
        + programs.size()
        + " programs attached; not attached: "
        + failed().stream()
            .map(
                p ->
                    p.program()
                        + " ("
                        + p.section()
                        + "): "
                        + p.error()
                        + (p.remedy().isEmpty() ? "" : ": " + p.remedy()))
            .collect(Collectors.joining("; "));
  }

  /** Multi-line human summary, one program per line, e.g. for stderr. */
  public String describe() {
    return programs.stream()
        .map(
            p ->
                (p.attached() ? "attached  " : "refused   ")
                    + p.program()
                    + " ("
                    + p.section()
                    + ")"
                    + (p.attached()
                        ? " id " + p.kernelId() + " tag " + p.tag()
                        : ": "
                            + p.status()
                            + " "
                            + p.error()
                            + (p.remedy().isEmpty() ? "" : ": " + p.remedy())))
        .collect(Collectors.joining("\n"));
  }
}
