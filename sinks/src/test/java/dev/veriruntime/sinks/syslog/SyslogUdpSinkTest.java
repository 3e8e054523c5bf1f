package dev.veriruntime.sinks.syslog;

import java.nio.file.Path;

/** The sink contract over UDP. Failures are not tested: UDP gives the sender no feedback. */
class SyslogUdpSinkTest extends SyslogSinkContract {
  @Override
  SyslogReceiver newReceiver(Path dir) throws Exception {
    return SyslogReceiver.udp();
  }
}
