package dev.veriruntime.verifier.elf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What binutils {@code readelf -W -S -l -d -n} says about a file: the oracle for cross-checks. */
record Readelf(
    List<Sec> sections,
    List<Seg> segments,
    String interpreter,
    List<String> needed,
    String soname,
    String runpath,
    String buildId) {

  record Sec(int index, String name, String type, long address, long offset, long size) {}

  record Seg(
      String type,
      long offset,
      long vaddr,
      long paddr,
      long filesz,
      long memsz,
      String flags,
      long align) {}

  private static final Pattern SECTION =
      Pattern.compile(
          "^\\s*\\[\\s*(\\d+)\\] (.*?)\\s+(\\S+|SYMTAB SECTION INDICES)\\s+([0-9a-f]{8,16})"
              + " ([0-9a-f]{6,}) ([0-9a-f]{6,}) [0-9a-f]{2} .*$");
  private static final Pattern SEGMENT =
      Pattern.compile(
          "^\\s+(\\S+)\\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)"
              + " (.{3}) (?:0x)?([0-9a-f]+)$"); // readelf prints an alignment of 0 without 0x
  private static final Pattern INTERP =
      Pattern.compile("\\[Requesting program interpreter: (.*)\\]");
  private static final Pattern DYN =
      Pattern.compile("^\\s*0x[0-9a-f]+ \\((NEEDED|SONAME|RUNPATH)\\)\\s+[^\\[]*\\[(.*)\\]$");
  private static final Pattern BUILD_ID = Pattern.compile("Build ID: ([0-9a-f]+)");

  static boolean available() {
    try {
      Process p = new ProcessBuilder("readelf", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  static Readelf of(Path file) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("readelf", "-W", "-S", "-l", "-d", "-n", file.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("readelf timed out on " + file);
    }
    List<Sec> sections = new ArrayList<>();
    List<Seg> segments = new ArrayList<>();
    List<String> needed = new ArrayList<>();
    String interp = null;
    String soname = null;
    String runpath = null;
    String buildId = null;
    boolean inSections = false;
    boolean inSegments = false;
    for (String line : out.split("\n")) {
      if (line.startsWith("Section Headers:")) {
        inSections = true;
        continue;
      }
      if (line.startsWith("Program Headers:")) {
        inSegments = true;
        continue;
      }
      if (line.isBlank() || line.startsWith("Key to Flags")) {
        inSections = false;
        inSegments = false;
      }
      Matcher m;
      if (inSections && (m = SECTION.matcher(line)).matches()) {
        sections.add(
            new Sec(
                Integer.parseInt(m.group(1)),
                m.group(2).strip(),
                m.group(3),
                Long.parseUnsignedLong(m.group(4), 16),
                Long.parseUnsignedLong(m.group(5), 16),
                Long.parseUnsignedLong(m.group(6), 16)));
      } else if (inSegments && (m = SEGMENT.matcher(line)).matches()) {
        segments.add(
            new Seg(
                m.group(1),
                Long.parseUnsignedLong(m.group(2), 16),
                Long.parseUnsignedLong(m.group(3), 16),
                Long.parseUnsignedLong(m.group(4), 16),
                Long.parseUnsignedLong(m.group(5), 16),
                Long.parseUnsignedLong(m.group(6), 16),
                m.group(7),
                Long.parseUnsignedLong(m.group(8), 16)));
      } else if ((m = INTERP.matcher(line)).find()) {
        interp = m.group(1);
      } else if ((m = DYN.matcher(line)).matches()) {
        switch (m.group(1)) {
          case "NEEDED" -> needed.add(m.group(2));
          case "SONAME" -> soname = m.group(2);
          default -> runpath = m.group(2);
        }
      } else if (buildId == null && (m = BUILD_ID.matcher(line)).find()) {
        buildId = m.group(1);
      }
    }
    return new Readelf(sections, segments, interp, needed, soname, runpath, buildId);
  }
}
