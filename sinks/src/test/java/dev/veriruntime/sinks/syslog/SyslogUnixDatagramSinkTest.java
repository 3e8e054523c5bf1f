package dev.veriruntime.sinks.syslog;

import java.nio.file.Path;

/** The sink contract over a unix datagram socket, /dev/log style. */
class SyslogUnixDatagramSinkTest extends SyslogSinkContract {
  @Override
  SyslogReceiver newReceiver(Path dir) {
    return SyslogReceiver.unixDatagram(dir);
  }

  @Override
  protected void breakDownstream() throws Exception {
    receiver.await(1, timeout()); // the first event's connection is accepted and tracked
    receiver.close(); // socket file removed: sends fail
  }
}
