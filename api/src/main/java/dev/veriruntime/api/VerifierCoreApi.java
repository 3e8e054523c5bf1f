package dev.veriruntime.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiException.Code;
import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.process.NotAUserProcessException;
import dev.veriruntime.verifier.process.ProcessGoneException;
import dev.veriruntime.verifier.process.ProcessState;
import dev.veriruntime.verifier.process.ProcessVerifier;
import dev.veriruntime.verifier.process.RuntimeState;
import dev.veriruntime.verifier.process.RuntimeStateRegistry;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Core API over the real verifiers: what the daemon serves and what a CLI command runs when no
 * daemon is up.
 *
 * <pre>{@code
 * LocalCoreApi api = VerifierCoreApi.create(processVerifier, binaryVerifier, daemonState::snapshot, journal::evidence, daemon::health);
 * }</pre>
 *
 * <ul>
 *   <li>VerifyProcess: {@code ProcessVerifier.verify(pid)}; a process that is gone is {@code
 *       NOT_FOUND}, a kernel thread {@code BAD_REQUEST}.
 *   <li>VerifyBinary by path: {@code BinaryVerifier.verify(path)}; a missing file is {@code
 *       NOT_FOUND}, a directory or device {@code BAD_REQUEST}.
 *   <li>VerifyBinary by {@code DEV:INODE}: Linux cannot open a file by inode, so the identity is
 *       looked up among the executables of the runtime state; the first process still running it is
 *       verified through {@code /proc/PID/exe} (the exact inode, even if its path was replaced),
 *       else its path with the full recorded identity as the expected one. Unknown identities are
 *       {@code NOT_FOUND}.
 *   <li>ListRuntimeState: the {@link StateSource}'s {@link RuntimeState}, as {@link
 *       VerdictJson#state}.
 *   <li>GetEvidence and Health: the given operations; {@code null} leaves them {@code UNAVAILABLE}.
 * </ul>
 *
 * Verdicts have the shape of {@link VerdictJson} (docs/api.md). Thread safe when the verifiers and
 * operations are.
 */
public final class VerifierCoreApi {
  private static final Path PROC = Path.of("/proc");

  /** Where ListRuntimeState comes from: the daemon's live table, or a one-off listing. */
  @FunctionalInterface
  public interface StateSource {
    RuntimeState snapshot() throws IOException;

    /** The processes a registry holds, each as re-attested (no parent known), nothing counted. */
    static StateSource of(RuntimeStateRegistry registry) {
      return () ->
          RuntimeState.listing(
              registry.snapshot().stream().map(v -> ProcessState.reattested(v, 0, null)).toList(),
              0,
              0);
    }
  }

  /**
   * The daemon's open incidents, for ListRuntimeState: each a JSON object with at least {@code
   * pid}, {@code type} (the event type), {@code exe} and {@code sha256}. Thread safe.
   */
  @FunctionalInterface
  public interface OpenIncidents {
    List<ObjectNode> list();
  }

  private VerifierCoreApi() {}

  /** Without incidents (no daemon): the state lists verdicts only. */
  public static LocalCoreApi create(
      ProcessVerifier processes,
      BinaryVerifier binaries,
      StateSource state,
      LocalCoreApi.Operation<String> evidence,
      LocalCoreApi.Query health) {
    return create(processes, binaries, state, evidence, health, null);
  }

  /**
   * @param evidence GetEvidence, for example {@code journal::evidence} (an empty Optional is
   *     NOT_FOUND); {@code null} when the journal is off
   * @param health Health; {@code null} when there is no daemon to report on
   * @param incidents the daemon's open incidents; {@code null} when nothing keeps them
   */
  public static LocalCoreApi create(
      ProcessVerifier processes,
      BinaryVerifier binaries,
      StateSource state,
      LocalCoreApi.Operation<String> evidence,
      LocalCoreApi.Query health,
      OpenIncidents incidents) {
    Objects.requireNonNull(processes, "processes");
    Objects.requireNonNull(binaries, "binaries");
    Objects.requireNonNull(state, "state");
    LocalCoreApi.Builder b =
        LocalCoreApi.builder()
            // Registration order matters: the specific IOExceptions before FileSystemException.
            .errorCode(ProcessGoneException.class, Code.NOT_FOUND)
            .errorCode(NotAUserProcessException.class, Code.BAD_REQUEST)
            .errorCode(NoSuchFileException.class, Code.NOT_FOUND)
            .errorCode(FileSystemException.class, Code.BAD_REQUEST)
            .verifyProcess(pid -> VerdictJson.process(processes.verify(pid)))
            .verifyBinary(target -> VerdictJson.binary(verifyBinary(binaries, state, target)))
            .runtimeState(
                () ->
                    incidents == null
                        ? VerdictJson.state(state.snapshot())
                        : withIncidents(VerdictJson.state(state.snapshot()), incidents.list()));
    if (evidence != null) {
      b.evidence(evidence);
    }
    if (health != null) {
      b.health(health);
    }
    return b.build();
  }

  /**
   * Puts each process's open incidents (possibly none) in its {@code incidents}, and lists a
   * process that has open incidents but is not in the state (it ended while being listed, or was
   * never seen) from its incidents, as not re-attested.
   */
  static ObjectNode withIncidents(ObjectNode state, List<ObjectNode> incidents) {
    Map<Integer, ArrayNode> byPid = new LinkedHashMap<>();
    for (ObjectNode i : incidents) {
      byPid.computeIfAbsent(i.path("pid").asInt(), p -> ApiJson.mapper().createArrayNode()).add(i);
    }
    ArrayNode processes = (ArrayNode) state.path("processes");
    for (JsonNode p : processes) {
      ArrayNode mine = byPid.remove(p.path("pid").asInt());
      ((ObjectNode) p).set("incidents", mine == null ? ApiJson.mapper().createArrayNode() : mine);
    }
    byPid.forEach(
        (pid, mine) -> {
          JsonNode first = mine.get(0);
          ObjectNode p = processes.addObject();
          p.put("pid", pid);
          p.put("verdict", verdictOf(first.path("type").asText()));
          p.set("path", first.path("exe"));
          p.set("sha256", first.path("sha256"));
          p.set("checkedAt", first.path("opened"));
          p.putObject("coverage");
          p.putArray("findings");
          p.put("reattested", false);
          p.put("tracked", false);
          p.set("incidents", mine);
        });
    return state;
  }

  /** The verdict an event type stands for, for a process known only by its incident. */
  private static String verdictOf(String eventType) {
    return switch (eventType) {
      case "UNKNOWN_EXECUTION" -> "UNKNOWN";
      case "VERIFICATION_DEGRADED" -> "DEGRADED";
      default -> "FAILED";
    };
  }

  private static BinaryVerification verifyBinary(
      BinaryVerifier binaries, StateSource state, String target) throws IOException, ApiException {
    if (target.startsWith("/")) {
      return binaries.verify(Path.of(target));
    }
    int colon = target.indexOf(':');
    long dev = Long.parseLong(target.substring(0, colon));
    long inode = Long.parseLong(target.substring(colon + 1));
    List<ProcessState> running =
        state.snapshot().processes().stream()
            .filter(v -> v.executable().identity() != null)
            .filter(
                v ->
                    v.executable().identity().dev() == dev
                        && v.executable().identity().inode() == inode)
            .toList();
    for (ProcessState v : running) {
      Path exe = PROC.resolve(Integer.toString(v.pid())).resolve("exe");
      try (FileChannel ch = FileChannel.open(exe, StandardOpenOption.READ)) {
        return binaries.verify(ch, exe, v.executable().path(), v.executable().identity());
      } catch (NoSuchFileException e) {
        // That process is gone; another may still run the same file.
      }
    }
    if (!running.isEmpty()) {
      FileIdentity expected = running.get(0).executable().identity();
      return binaries.verify(Path.of(running.get(0).executable().path()), expected);
    }
    throw new ApiException(
        Code.NOT_FOUND,
        "no executable with identity " + target + " in the runtime state (give a path instead)");
  }
}
