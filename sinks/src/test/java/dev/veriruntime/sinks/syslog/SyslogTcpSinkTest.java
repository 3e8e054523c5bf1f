package dev.veriruntime.sinks.syslog;

import java.nio.file.Path;

/**
 * The sink contract over TCP. The generic failure test is skipped: after the peer closes, the
 * kernel may still accept one write before the reset arrives; SyslogSinkTest covers TCP failures
 * with that allowance.
 */
class SyslogTcpSinkTest extends SyslogSinkContract {
  @Override
  SyslogReceiver newReceiver(Path dir) throws Exception {
    return SyslogReceiver.tcp();
  }
}
