package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.Section;
import dev.veriruntime.verifier.reference.InTotoStatement;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyBinaryCommandTest {
  @TempDir Path dir;
  private Path bin;

  @BeforeEach
  void setUp() throws Exception {
    bin = dir.resolve("ls");
    Files.copy(Path.of("/usr/bin/ls"), bin);
    assertThat(
            CliRun.of(
                    "refs", "keygen", "--type", "ecdsa-p256", "--out", dir.resolve("ci").toString())
                .exitCode())
        .isZero();
  }

  private Path sign(Path subject) {
    Path out = dir.resolve("refs.dsse.json");
    CliRun run =
        CliRun.of(
            "refs",
            "sign",
            "--key",
            dir.resolve("ci.key").toString(),
            "--out",
            out.toString(),
            "--subject",
            subject.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    return out;
  }

  private CliRun verifyBinary(Path file, Path refs) {
    return CliRun.of(
        "verify-binary",
        file.toString(),
        "--refs",
        refs.toString(),
        "--trusted-key",
        dir.resolve("ci.pub").toString(),
        "--json");
  }

  @Test
  void signedReferenceIsVerified() {
    CliRun run = verifyBinary(bin, sign(bin));
    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(ExitCodes.OK);
    JsonNode json = run.json();
    assertThat(json.get("verdict").asText()).isEqualTo("VERIFIED");
    assertThat(json.get("path").asText()).isEqualTo(bin.toString());
    assertThat(json.get("sha256").asText()).hasSize(64);
    assertThat(json.get("coverage").fieldNames())
        .toIterable()
        .containsExactly("DISK_HASH", "ELF_HEADER", "ELF_SECTIONS", "SIGNATURE");
    json.get("coverage").forEach(s -> assertThat(s.get("status").asText()).isEqualTo("VERIFIED"));
    assertThat(json.get("reference").get("signedBy").asText()).hasSize(64);
    assertThat(json.get("findings").isArray()).isTrue();
  }

  @Test
  void unsignedReferenceIsDegraded() throws Exception {
    Path plain = dir.resolve("plain.json");
    InTotoStatement st = new ManifestBuilder(ManifestPredicate.TYPE).add(bin).build();
    Files.write(plain, st.toJsonBytes());
    CliRun run = verifyBinary(bin, plain);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.VERDICT_DEGRADED);
    JsonNode sig = run.json().get("coverage").get("SIGNATURE");
    assertThat(sig.get("status").asText()).isEqualTo("NOT_VERIFIED");
    assertThat(sig.get("reason").asText()).contains("from unsigned manifest " + plain);
  }

  @Test
  void flippedTextByteFailsAndNamesText() throws Exception {
    Path refs = sign(bin);
    Section text = ElfReader.create().read(bin).section(".text").orElseThrow();
    try (RandomAccessFile f = new RandomAccessFile(bin.toFile(), "rw")) {
      f.seek(text.offset() + 16);
      int b = f.read();
      f.seek(text.offset() + 16);
      f.write(~b);
    }
    CliRun run = verifyBinary(bin, refs);
    assertThat(run.exitCode()).isEqualTo(ExitCodes.VERDICT_FAILED);
    JsonNode json = run.json();
    assertThat(json.get("verdict").asText()).isEqualTo("FAILED");
    assertThat(json.get("coverage").get("DISK_HASH").get("status").asText()).isEqualTo("FAILED");
    assertThat(json.get("coverage").get("ELF_SECTIONS").get("reason").asText()).endsWith(": .text");
    assertThat(json.get("findings").findValuesAsText("type"))
        .contains("DIGEST_MISMATCH", "SECTION_MISMATCH");
    assertThat(
            json.get("findings").findValues("detail").stream().map(d -> d.path("section").asText()))
        .contains(".text");

    CliRun text2 =
        CliRun.of(
            "verify-binary",
            bin.toString(),
            "--refs",
            refs.toString(),
            "--trusted-key",
            dir.resolve("ci.pub").toString());
    assertThat(text2.out()).startsWith("FAILED  " + bin).contains("SECTION_MISMATCH");
  }

  @Test
  void noReferenceIsUnknown() {
    CliRun run = CliRun.of("verify-binary", bin.toString(), "--json");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.VERDICT_UNKNOWN);
    assertThat(run.json().get("verdict").asText()).isEqualTo("UNKNOWN");
    assertThat(run.json().get("reference").isNull()).isTrue();
  }

  @Test
  void shellScriptHasNotApplicableElfScopes() throws Exception {
    Path script = dir.resolve("run.sh");
    Files.writeString(script, "#!/bin/bash\nexit 0\n");
    CliRun run = verifyBinary(script, sign(script));
    assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
    JsonNode cov = run.json().get("coverage");
    assertThat(cov.get("DISK_HASH").get("status").asText()).isEqualTo("VERIFIED");
    assertThat(cov.get("ELF_HEADER").get("status").asText()).isEqualTo("NOT_APPLICABLE");
    assertThat(cov.get("ELF_SECTIONS").get("status").asText()).isEqualTo("NOT_APPLICABLE");
    assertThat(cov.get("ELF_HEADER").get("reason").asText()).contains("/bin/bash");
  }

  @Test
  void inputErrorsHaveTheirOwnExitCodes() throws Exception {
    Path refs = sign(bin);
    CliRun.of("verify-binary", dir.resolve("missing").toString())
        .refused(ExitCodes.INPUT_UNREADABLE);
    CliRun.of("verify-binary", dir.toString()).refused(ExitCodes.INPUT_UNREADABLE);
    assertThat(CliRun.of("verify-binary", "/dev/zero").refused(ExitCodes.INPUT_UNREADABLE).err())
        .contains("not a regular file");
    CliRun.of("verify-binary", RefsCommandTest.writeOnlySysfsFile().toString())
        .refused(ExitCodes.INPUT_UNREADABLE);
    CliRun.of("verify-binary", bin.toString(), "--refs", dir.resolve("nope.json").toString())
        .refused(ExitCodes.INPUT_UNREADABLE);
    Files.writeString(dir.resolve("bad.json"), "{\"payloadType\": 1}");
    CliRun.of("verify-binary", bin.toString(), "--refs", dir.resolve("bad.json").toString())
        .refused(ExitCodes.INPUT_MALFORMED);
    CliRun.of(
            "verify-binary",
            bin.toString(),
            "--refs",
            refs.toString(),
            "--trusted-key",
            bin.toString())
        .refused(ExitCodes.KEY_INVALID);
  }
}
