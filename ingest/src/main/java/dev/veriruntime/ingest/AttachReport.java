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
    return programs.stream().filter(ProgramAttachment::failed).toList();
  }

  /** Programs left unattached because another one does their work ({@code STANDBY}). */
  public List<ProgramAttachment> standby() {
    return programs.stream().filter(p -> p.status() == ProgramAttachment.Status.STANDBY).toList();
  }

  /**
   * One line for a log: "all 4 programs attached" or what failed, what is missing and the command
   * that fixes it, e.g. {@code 3 of 4 programs attached; not attached: vr_sys_exit
   * (tp_btf/sys_exit): EPERM (Operation not permitted): the BPF privilege is missing ...; fix: run
   * as root ...}. Programs on standby are not counted.
   */
  public String summary() {
    int wanted = programs.size() - standby().size();
    if (failed().isEmpty()) {
      return "all " + wanted + " programs attached";
    }
    return attached().size()
        + " of "
        + wanted
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
                (p.attached() ? "attached  " : p.failed() ? "refused   " : "standby   ")
                    + p.program()
                    + " ("
                    + p.section()
                    + ")"
                    + (p.attached()
                        ? " id "
                            + p.kernelId()
                            + " tag "
                            + p.tag()
                            + (p.attachPoints().size() > 1
                                ? " on " + String.join(", ", p.attachPoints())
                                : "")
                        : ": "
                            + (p.failed() ? p.status() + " " : "")
                            + p.error()
                            + (p.remedy().isEmpty() ? "" : ": " + p.remedy())))
        .collect(Collectors.joining("\n"));
  }
}
