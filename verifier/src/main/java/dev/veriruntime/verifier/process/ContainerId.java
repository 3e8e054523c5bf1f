package dev.veriruntime.verifier.process;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The container a process runs in, as its {@code /proc/PID/cgroup} names it: the 64-hex-digit id
 * that Docker, containerd, CRI-O and Podman put in the cgroup path ({@code
 * /system.slice/docker-ID.scope}, {@code /kubepods/.../cri-containerd-ID.scope}, {@code
 * /docker/ID}, {@code /libpod-ID.scope}). A label for filtering, not an identity: a process can
 * move between cgroups. Stateless.
 */
public final class ContainerId {
  private static final Pattern ID = Pattern.compile("(?:^|[/-])([0-9a-f]{64})(?:\\.scope)?(?:/|$)");

  private ContainerId() {}

  /**
   * The first 12 hex digits of the container id in {@code cgroupFile} (the whole file's text), as
   * {@code docker ps} shows them; empty for a process of the host.
   */
  public static Optional<String> fromCgroup(String cgroupFile) {
    for (String line : cgroupFile.split("\n")) {
      // "hierarchy-ID:controllers:path"; the path may itself contain ':'.
      int first = line.indexOf(':');
      int second = first < 0 ? -1 : line.indexOf(':', first + 1);
      if (second < 0) {
        continue;
      }
      Matcher m = ID.matcher(line.substring(second + 1));
      if (m.find()) {
        return Optional.of(m.group(1).substring(0, 12));
      }
    }
    return Optional.empty();
  }
}
