package dev.veriruntime.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * A JVM of its own per case: what is logged while a process stops, after the JDK's shutdown hook
 * would have reset logging.
 */
class StopAwareLogManagerTest {
  private static final String LATE = "logged while the agent was stopping";

  @Test
  void whatIsLoggedDuringTheStopIsPrinted() throws Exception {
    String err = runChild(StopAwareLogManager.class.getName());
    assertThat(err).contains("INFO  StopAwareLogManagerTest: " + LATE);
  }

  @Test
  void withTheJdksOwnManagerItWasLost() throws Exception {
    // What the agent did before: the reset ran as the stop began.
    String err = runChild("java.util.logging.LogManager");
    assertThat(err).doesNotContain(LATE);
  }

  private static String runChild(String manager) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Djava.util.logging.manager=" + manager);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Stopping.class.getName());
    Process child =
        new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String err = new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(child.exitValue()).as(err).isZero();
    return err;
  }

  /**
   * A process that, like {@code watch}, stops in a shutdown hook of its own and logs as it does.
   */
  public static final class Stopping {
    public static void main(String[] args) {
      ConsoleLogging.install();
      CountDownLatch stopped = new CountDownLatch(1);
      StopAwareLogManager.holdResetUntil(stopped, Duration.ofSeconds(30));
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      Thread.sleep(1_500); // the stop's work; the JDK's reset has run by now
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    Logger.getLogger(StopAwareLogManagerTest.class.getName()).info(LATE);
                    stopped.countDown();
                  }));
    }
  }
}
