package dev.veriruntime.sinks.syslog;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An RFC 5424 message parsed by the tests, independently of the encoder. */
record SyslogMessage(
    int pri,
    int version,
    String timestamp,
    String host,
    String app,
    String procId,
    String msgId,
    String sdId,
    Map<String, String> params,
    String msg) {

  private static final Pattern HEADER =
      Pattern.compile(
          "<(\\d{1,3})>(\\d) (\\S+) (\\S+) (\\S+) (\\S+) (\\S+) \\[(\\S+)((?: \\w+=\"(?:[^\"\\\\]|\\\\.)*\")*)\\](?: (.*))?",
          Pattern.DOTALL);
  private static final Pattern PARAM = Pattern.compile(" (\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  static SyslogMessage parse(String raw) {
    Matcher m = HEADER.matcher(raw);
    if (!m.matches()) {
      throw new IllegalArgumentException("not RFC 5424: " + raw);
    }
    Map<String, String> params = new LinkedHashMap<>();
    Matcher p = PARAM.matcher(m.group(9));
    while (p.find()) {
      params.put(p.group(1), p.group(2).replaceAll("\\\\(.)", "$1"));
    }
    return new SyslogMessage(
        Integer.parseInt(m.group(1)),
        Integer.parseInt(m.group(2)),
        m.group(3),
        m.group(4),
        m.group(5),
        m.group(6),
        m.group(7),
        m.group(8),
        params,
        m.group(10) == null ? "" : m.group(10));
  }
}
