package dev.veriruntime.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The Core API: five read-only, side-effect-free operations, reachable in-process ({@link
 * LocalCoreApi}), over the daemon's Unix domain socket ({@link ApiServer} / {@link ApiClient}) and
 * from the command line ({@link CoreApis#forCli}).
 *
 * <p>Results are JSON trees so that every form prints the same bytes: {@link LocalCoreApi}
 * normalizes its results exactly as the socket does, and {@link ApiServer} only forwards them.
 * Implementations are thread safe. Every failure is an {@link ApiException} whose {@link
 * ApiException.Code} is the same in every form.
 */
public interface CoreApi {

  /**
   * Verify a live process: its executable, mappings and code in memory.
   *
   * @throws ApiException {@code BAD_REQUEST} when {@code pid <= 0}; {@code NOT_FOUND} when no such
   *     process exists (or it exited while being read)
   */
  JsonNode verifyProcess(int pid) throws ApiException;

  /**
   * Verify a binary on disk. {@code target} is either an absolute path ({@code /usr/bin/ls}) or a
   * kernel identity {@code DEV:INODE}, both decimal, DEV in the kernel encoding of {@code
   * FileIdentity.dev} ({@code major << 20 | minor}), e.g. {@code 8388609:1310722}.
   *
   * @throws ApiException {@code BAD_REQUEST} for a relative path or malformed identity; {@code
   *     NOT_FOUND} when nothing matches
   */
  JsonNode verifyBinary(String target) throws ApiException;

  /**
   * The evidence record an emitted event refers to.
   *
   * @throws ApiException {@code BAD_REQUEST} for a malformed reference; {@code NOT_FOUND} when the
   *     journal holds no such record
   */
  JsonNode getEvidence(String ref) throws ApiException;

  /** What the daemon currently knows about running processes and their verdicts. */
  JsonNode listRuntimeState() throws ApiException;

  /** Liveness and coverage of the daemon: probe attached, losses, sinks. */
  JsonNode health() throws ApiException;
}
