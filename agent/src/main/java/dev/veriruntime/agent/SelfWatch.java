package dev.veriruntime.agent;

import dev.veriruntime.ingest.Probe;
import dev.veriruntime.ingest.event.WatchReason;
import dev.veriruntime.verifier.FileIdentity;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Has the probe report at once every open for writing and truncation of a file the agent runs from
 * (reason {@link WatchReason#SELF}): the classify stage turns it into a SELF_INTEGRITY_FAILURE
 * naming the writer. Files are matched by device and inode; the set is taken at start, and a file
 * the package manager replaced is added by {@link #watchToo} (its new inode). The periodic {@link
 * SelfIntegrityMonitor} stays the backstop (a rename over the file, or a write through a descriptor
 * opened before the watch, is not seen here).
 */
final class SelfWatch {
  /** Watching nothing: no probe, or no file could be watched. */
  static final SelfWatch NONE = new SelfWatch(null, List.of());

  private final Probe probe;
  private final List<FileIdentity> files;

  SelfWatch(Probe probe, List<FileIdentity> files) {
    this.probe = probe;
    this.files = new java.util.concurrent.CopyOnWriteArrayList<>(files);
  }

  /**
   * Watches {@code paths}; one that cannot be stat'ed or watched is named on {@code err}.
   *
   * @return what is watched
   */
  static SelfWatch start(Probe probe, List<Path> paths, PrintStream err) {
    List<FileIdentity> ids = new ArrayList<>();
    for (Path p : paths) {
      try {
        Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino");
        ids.add(FileIdentity.fromStat((Long) a.get("dev"), (Long) a.get("ino"), 0, 0));
      } catch (IOException | RuntimeException e) {
        err.println("veriruntime: cannot watch own file " + p + " for writes: " + e.getMessage());
      }
    }
    SelfWatch watch = new SelfWatch(probe, ids);
    if (!watch.rewatch()) {
      err.println(
          "veriruntime: this probe cannot watch files: own files checked periodically only");
      return NONE;
    }
    err.println("veriruntime: watching " + ids.size() + " own file(s) for writes: " + paths);
    return watch;
  }

  /**
   * Watches {@code path} as it is now too (a new inode of an own file, after a package upgrade).
   *
   * @return whether the probe watches it
   */
  boolean watchToo(Path path) {
    if (probe == null) {
      return false;
    }
    try {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
      FileIdentity id = FileIdentity.fromStat((Long) a.get("dev"), (Long) a.get("ino"), 0, 0);
      if (!covers(id)) {
        files.add(id);
      }
      return probe.watchWrites(id, 0, EnumSet.of(WatchReason.SELF));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Whether {@code file} (by device and inode) is one of the agent's own. */
  boolean covers(FileIdentity file) {
    for (FileIdentity f : files) {
      if (f.dev() == file.dev() && f.inode() == file.inode()) {
        return true;
      }
    }
    return false;
  }

  /** Number of files watched. */
  int size() {
    return files.size();
  }

  /**
   * (Re)asks the probe to watch every file, after its watches were cleared.
   *
   * @return false when the probe has no watched-file map
   */
  boolean rewatch() {
    if (probe == null) {
      return false;
    }
    for (FileIdentity f : files) {
      if (!probe.watchWrites(f, 0, EnumSet.of(WatchReason.SELF))) {
        return false;
      }
    }
    return true;
  }

  /** {@code reasons} plus {@link WatchReason#SELF} when {@code file} is the agent's own. */
  Set<WatchReason> with(FileIdentity file, Set<WatchReason> reasons) {
    if (!covers(file)) {
      return reasons;
    }
    EnumSet<WatchReason> all = EnumSet.copyOf(reasons);
    all.add(WatchReason.SELF);
    return all;
  }
}
