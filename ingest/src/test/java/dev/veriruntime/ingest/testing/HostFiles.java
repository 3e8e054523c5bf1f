package dev.veriruntime.ingest.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What kernel tests ask of the host: run a command, read a file's kernel identity. */
public final class HostFiles {
  private HostFiles() {}

  /** Runs {@code command} to completion (30 s at most), asserts exit 0, returns its pid. */
  public static long exec(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(command), output).isZero();
    return p.pid();
  }

  /** The identity the probe reports for {@code file}, read with stat. */
  public static FileIdentity identity(Path file) throws IOException {
    Map<String, Object> stat = Files.readAttributes(file, "unix:dev,ino,ctime,size");
    return FileIdentity.fromStat(
        (Long) stat.get("dev"),
        (Long) stat.get("ino"),
        ((FileTime) stat.get("ctime")).to(TimeUnit.NANOSECONDS),
        (Long) stat.get("size"));
  }
}
