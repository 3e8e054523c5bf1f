package dev.veriruntime.sinks.syslog;

import java.nio.file.Path;

/** The sink contract over a unix stream socket with octet counting. */
class SyslogUnixStreamSinkTest extends SyslogSinkContract {
  @Override
  SyslogReceiver newReceiver(Path dir) throws Exception {
    return SyslogReceiver.unixStream(dir);
  }

  @Override
  protected void breakDownstream() throws Exception {
    receiver.await(1, timeout()); // the first event's connection is accepted and tracked
    receiver.close(); // peer closed (EPIPE), socket file removed (reconnect fails)
  }
}
