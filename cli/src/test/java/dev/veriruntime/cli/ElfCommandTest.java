package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.hash.Sha256;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ElfCommandTest {
  /** The JVM running this test: an ELF executable that exists wherever the test runs. */
  private static final Path JAVA = Path.of(ProcessHandle.current().info().command().orElseThrow());

  @TempDir Path tmp;

  @Test
  void jsonDescribesHeaderSegmentsSectionsAndDynamicEntries() throws Exception {
    ElfFile expected = ElfReader.full().read(JAVA);
    CliRun run = CliRun.of("elf", JAVA.toString(), "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    JsonNode json = run.json();
    assertThat(json.get("sha256").asText()).isEqualTo(Sha256.hex(JAVA));
    assertThat(json.at("/header/class").asText()).isEqualTo(expected.header().className());
    assertThat(json.at("/header/type").asText()).isEqualTo(expected.header().typeName());
    assertThat(json.at("/header/entry").asText())
        .isEqualTo("0x" + Long.toHexString(expected.header().entry()));
    assertThat(json.get("interpreter").asText()).isEqualTo(expected.interpreter().orElseThrow());
    assertThat(json.get("buildId").asText()).isEqualTo(expected.buildId().orElseThrow());
    assertThat(json.get("segments")).hasSize(expected.programHeaders().size());
    assertThat(json.get("sections")).hasSize(expected.sections().size());
    JsonNode text = null;
    for (JsonNode s : json.get("sections")) {
      if (s.get("name").asText().equals(".text")) {
        text = s;
      }
    }
    assertThat(text).isNotNull();
    assertThat(text.get("sha256").asText()).isEqualTo(expected.sectionDigests().get(".text"));
    assertThat(json.at("/dynamic/needed").isArray()).isTrue();
    assertThat(json.at("/dynamic/needed").get(0).asText())
        .isEqualTo(expected.dynamic().needed().get(0));
    assertThat(json.at("/dynamic/entries").size()).isEqualTo(expected.dynamic().entries().size());
    assertThat(json.at("/checks/ELF_HEADER/status").asText()).isEqualTo("VERIFIED");
    assertThat(json.at("/checks/ELF_SECTIONS/status").asText()).isEqualTo("VERIFIED");
  }

  @Test
  void textOutputIsHumanReadable() {
    CliRun run = CliRun.of("elf", JAVA.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith(JAVA + ": ELF64 little-endian")
        .contains("interpreter /lib")
        .contains("Segments (")
        .contains("Sections (")
        .containsPattern("\\.text +PROGBITS +0x[0-9a-f]+ +0x[0-9a-f]+ +[0-9a-f]{64}")
        .contains("ELF_HEADER   VERIFIED");
  }

  @Test
  void missingFile() {
    CliRun run =
        CliRun.of("elf", tmp.resolve("nope").toString(), "--json")
            .refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(run.err()).contains("no such file");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void directory() {
    CliRun run = CliRun.of("elf", tmp.toString()).refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(run.err()).contains("is a directory");
  }

  @Test
  void fifoIsRefusedWithoutBlocking() throws Exception {
    Path fifo = tmp.resolve("fifo");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assumeTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo unavailable");
    CliRun run = CliRun.of("elf", fifo.toString()).refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(run.err()).contains("not a regular file");
  }

  @Test
  void unreadableFile() throws Exception {
    Path file = tmp.resolve("secret");
    Files.write(file, Files.readAllBytes(JAVA));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
    assumeTrue(!Files.isReadable(file), "running as root: permissions do not apply");
    CliRun run = CliRun.of("elf", file.toString()).refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(run.err()).contains("permission denied");
  }

  @Test
  void notElf() throws Exception {
    Path file = Files.writeString(tmp.resolve("text"), "hello world\n");
    CliRun run = CliRun.of("elf", file.toString(), "--json").refused(ExitCodes.INPUT_MALFORMED);
    assertThat(run.err()).contains("not an ELF file: magic 68 65 6c 6c");
  }

  @Test
  void scriptNamesItsInterpreter() throws Exception {
    Path file = Files.writeString(tmp.resolve("script"), "#!/usr/bin/env python3 -u\nprint(1)\n");
    CliRun run = CliRun.of("elf", file.toString()).refused(ExitCodes.INPUT_MALFORMED);
    assertThat(run.err()).contains("#! script run by /usr/bin/env");
  }

  @Test
  void truncatedElf() throws Exception {
    byte[] head = Arrays.copyOf(Files.readAllBytes(JAVA), 100);
    Path file = Files.write(tmp.resolve("truncated"), head);
    CliRun run = CliRun.of("elf", file.toString()).refused(ExitCodes.INPUT_MALFORMED);
    assertThat(run.err()).contains("past end of file (size 100)");
  }
}
