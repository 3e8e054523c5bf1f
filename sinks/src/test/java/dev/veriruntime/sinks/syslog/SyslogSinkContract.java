package dev.veriruntime.sinks.syslog;

import dev.veriruntime.sinks.Sink;
import dev.veriruntime.sinks.testing.SinkContractTest;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;

/** The sink contract over one syslog transport, against a real receiver socket. */
abstract class SyslogSinkContract extends SinkContractTest {
  @TempDir Path dir;
  SyslogReceiver receiver;
  private SyslogSink sink;

  abstract SyslogReceiver newReceiver(Path dir) throws Exception;

  @Override
  protected Sink newSink(int capacity, Scheduler scheduler) throws Exception {
    receiver = newReceiver(dir);
    sink = SyslogSink.open(receiver.target(), SyslogSink.AUTHPRIV, capacity, scheduler);
    return sink;
  }

  @Override
  protected Optional<List<String>> deliveredIds() throws Exception {
    // The receiver reads on its own thread: wait for what the sink says it handed over.
    return Optional.of(
        receiver.await(sink.stats().delivered(), timeout()).stream()
            .map(m -> SyslogMessage.parse(m).params().get("id"))
            .toList());
  }

  @AfterEach
  void closeReceiver() {
    if (receiver != null) {
      receiver.close();
    }
  }
}
