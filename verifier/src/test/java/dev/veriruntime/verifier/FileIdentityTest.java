package dev.veriruntime.verifier;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FileIdentityTest {

  @Test
  void glibcDeviceNumbersConvertToTheKernelEncoding() {
    // 254:0 (dm-0): glibc 0xfe00; 8:1 (sda1): 0x0801; 0:27 (tmpfs): 0x1b.
    assertThat(FileIdentity.kernelDev(0xfe00L)).isEqualTo(254L << 20);
    assertThat(FileIdentity.kernelDev(0x0801L)).isEqualTo((8L << 20) | 1);
    assertThat(FileIdentity.kernelDev(0x1bL)).isEqualTo(27);
    // makedev(259, 70000): major bits 8-19 and 32-43, minor bits 0-7 and 20-31.
    long stDev = ((259L & 0xfff) << 8) | (70000L & 0xff) | ((70000L & ~0xffL) << 12);
    FileIdentity id = FileIdentity.fromStat(stDev, 1, 0, 0);
    assertThat(id.dev()).isEqualTo((259L << 20) | 70000);
    assertThat(id.major()).isEqualTo(259);
    assertThat(id.minor()).isEqualTo(70000);
  }

  @Test
  void agreesWithStatOnThisHostsFileSystems() throws Exception {
    // stat prints st_dev as the number user space sees (%d) and its major and minor (%Hd, %Ld):
    // the one conversion must turn the first into the kernel encoding of the other two.
    for (String path : List.of("/", "/proc/self/status", "/dev/null", "/tmp", "/sys/kernel")) {
      if (!Files.exists(Path.of(path))) {
        continue;
      }
      String[] f = stat(path).trim().split(" ");
      long stDev = Long.parseLong(f[0]);
      long major = Long.parseLong(f[1]);
      long minor = Long.parseLong(f[2]);
      assertThat(FileIdentity.kernelDev(stDev))
          .as(path)
          .isEqualTo(FileIdentity.kernelDev(major, minor));
      assertThat(FileIdentity.fromStat(stDev, 0, 0, 0).major()).as(path).isEqualTo((int) major);
      assertThat(FileIdentity.fromStat(stDev, 0, 0, 0).minor()).as(path).isEqualTo((int) minor);
    }
  }

  private static String stat(String path) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("stat", "-c", "%d %Hd %Ld", path).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }
}
