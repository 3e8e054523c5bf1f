package dev.veriruntime.agent;

import dev.veriruntime.pipeline.Classifier;
import dev.veriruntime.sinks.SecurityEvent;
import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a package-database reload that changed one of the agent's own packaged files (the JVM,
 * {@code libjvm.so}, {@code libbpf.so}: a JVM upgrade by dpkg) means for the running agent, decided
 * at the reload instead of at the next periodic self-integrity check:
 *
 * <ul>
 *   <li>the package database vouches for the new bytes: one {@code VERIFICATION_DEGRADED} saying
 *       the package upgraded the file and that the agent still runs the previous version, which no
 *       record describes any more, until it is restarted (an upgrade, not tampering); the new file
 *       is watched for writes from now on;
 *   <li>the new bytes differ from the new record: {@code SELF_INTEGRITY_FAILURE} at once;
 *   <li>the file can no longer be checked (removed with its package): {@code VERIFICATION_DEGRADED}
 *       naming why.
 * </ul>
 *
 * The files are those the agent ran from at start ({@link SelfIntegrity#packagedFiles}). Called on
 * the package watcher's thread, one reload at a time.
 */
final class OwnFileUpgrades implements Function<PackageDatabase.Changes, List<SecurityEvent>> {
  /** The {@code details.check} of these events. */
  static final String CHECK = "package-upgrade";

  private final SelfIntegrity self;
  private final Map<String, Path> packaged;
  private final SelfWatch watch;
  private final Classifier classifier;

  /**
   * @param packaged component to file, as the agent started ({@link SelfIntegrity#packagedFiles})
   */
  OwnFileUpgrades(
      SelfIntegrity self, Map<String, Path> packaged, SelfWatch watch, Classifier classifier) {
    this.self = self;
    this.packaged = Map.copyOf(packaged);
    this.watch = watch;
    this.classifier = classifier;
  }

  @Override
  public List<SecurityEvent> apply(PackageDatabase.Changes changes) {
    List<SecurityEvent> out = new ArrayList<>();
    packaged.forEach(
        (component, file) -> {
          if (!changes.affects(file.toString())) {
            return;
          }
          SelfIntegrity.Check c = self.checkPackaged(component, file);
          Map<String, Object> facts =
              Map.of("component", component, "check", CHECK, "file", file.toString());
          if (c.failed()) {
            out.add(
                classifier.selfIntegrity(
                    component + " " + file + ": " + c.reason() + " (after a package upgrade)",
                    facts));
          } else if (c.ok()) {
            watch.watchToo(file);
            out.add(
                classifier.degraded(
                    null,
                    "agent "
                        + component
                        + " "
                        + file
                        + " was upgraded by its package ("
                        + c.reason()
                        + "); the running agent still runs the previous version, which no"
                        + " package record describes now: restart it",
                    facts));
          } else {
            out.add(
                classifier.degraded(
                    null,
                    "agent " + component + " " + file + " changed by a package: " + c.reason(),
                    facts));
          }
        });
    return out;
  }
}
