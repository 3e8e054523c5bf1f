package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fleet summary} without a broker: refusals are one line with their exit code. */
class FleetSummaryCommandTest {

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    }
  }

  @Test
  void anUnreachableBrokerIsOneLineAndExit60() throws IOException {
    CliRun run =
        CliRun.of("fleet", "summary", "--kafka", "127.0.0.1:" + closedPort(), "--timeout", "2s")
            .refused(ExitCodes.KAFKA_UNAVAILABLE);
    assertThat(run.err()).contains("cannot read from Kafka at 127.0.0.1:");
  }

  @Test
  void anUnreadableConsumerConfigIsExit10(@TempDir Path dir) {
    CliRun.of(
            "fleet",
            "summary",
            "--kafka",
            "127.0.0.1:9",
            "--consumer-config",
            dir.resolve("missing.properties").toString())
        .refused(ExitCodes.INPUT_UNREADABLE);
  }

  @Test
  void theBootstrapIsRequired() {
    CliRun run = CliRun.of("fleet", "summary");
    assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
  }
}
