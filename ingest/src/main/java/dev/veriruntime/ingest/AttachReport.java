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
                        : ": " + p.status() + " " + p.error()))
        .collect(Collectors.joining("\n"));
  }
}
