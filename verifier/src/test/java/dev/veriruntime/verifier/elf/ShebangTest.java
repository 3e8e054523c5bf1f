package dev.veriruntime.verifier.elf;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ShebangTest {
  private static Optional<Shebang> parse(String s) {
    return Shebang.parse(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void interpreterAndItsSingleArgument() {
    assertThat(parse("#!/bin/sh\necho hi\n")).contains(new Shebang("/bin/sh", Optional.empty()));
    assertThat(parse("#! /usr/bin/env python3 -u -W x\n"))
        .contains(new Shebang("/usr/bin/env", Optional.of("python3 -u -W x")));
    assertThat(parse("#!/bin/bash\t-e  \r\n"))
        .contains(new Shebang("/bin/bash", Optional.of("-e")));
  }

  @Test
  void notAScript() {
    assertThat(parse("")).isEmpty();
    assertThat(parse("#")).isEmpty();
    assertThat(parse("#!   \n/bin/sh")).isEmpty();
    assertThat(parse("\u007fELF")).isEmpty();
  }

  @Test
  void onlyTheFirstLineWithinTheKernelLimitCounts() {
    String longName = "/" + "a".repeat(400);
    Shebang s = parse("#!" + longName + "\n").orElseThrow();
    assertThat(s.interpreter()).hasSize(Shebang.MAX_LINE - 2);
  }

  @Test
  void hostMachineFromOsArch() {
    assertThat(ElfHeader.machineForArch("amd64")).isEqualTo(ElfHeader.EM_X86_64);
    assertThat(ElfHeader.machineForArch("aarch64")).isEqualTo(ElfHeader.EM_AARCH64);
    assertThat(ElfHeader.machineForArch("sparc")).isEqualTo(-1);
  }
}
