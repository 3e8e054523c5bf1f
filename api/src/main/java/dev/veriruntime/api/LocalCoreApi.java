package dev.veriruntime.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.ApiException.Code;
import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.regex.Pattern;

/**
 * The Core API in-process, backed by plain Java operations so it can be wired to the verifiers
 * without this package depending on their types. The daemon serves one of these over its socket; a
 * CLI command with no daemon running calls one directly. Both print the same JSON.
 *
 * <pre>{@code
 * CoreApi api = LocalCoreApi.builder()
 *     .verifyProcess(pid -> processVerifier.verify(pid))
 *     .verifyBinary(target -> binaryVerifier.verify(Path.of(target)))
 *     .evidence(ref -> journal.evidence(ref))      // Optional.empty() means NOT_FOUND
 *     .runtimeState(registry::snapshot)
 *     .health(daemon::health)
 *     .build();
 * }</pre>
 *
 * <p>Arguments are validated here, once, so the socket and the CLI refuse the same inputs with the
 * same message. A backing operation may return any Jackson-serializable value (a record, a map, a
 * {@code JsonNode}) or an {@link Optional}; it may throw anything, which is mapped to a {@link
 * Code}:
 *
 * <ul>
 *   <li>{@link ApiException}: unchanged;
 *   <li>{@code null}, an empty {@code Optional}, {@link NoSuchFileException}, {@link
 *       FileNotFoundException}, {@link NoSuchElementException}: {@code NOT_FOUND};
 *   <li>{@link IllegalArgumentException}: {@code BAD_REQUEST};
 *   <li>{@link RejectedExecutionException}: {@code UNAVAILABLE} (overloaded);
 *   <li>a type registered with {@link Builder#errorCode}: its code, before the rules below;
 *   <li>anything else: {@code INTERNAL}, naming the exception.
 * </ul>
 *
 * An operation not given to the builder answers {@code UNAVAILABLE}. Thread safe if the backing
 * operations are.
 */
public final class LocalCoreApi implements CoreApi {

  /** One backing operation; may throw anything (see the class comment for the mapping). */
  @FunctionalInterface
  public interface Operation<A> {
    Object apply(A argument) throws Exception;
  }

  /** A backing operation without argument. */
  @FunctionalInterface
  public interface Query {
    Object get() throws Exception;
  }

  /** Longest path accepted: PATH_MAX. */
  static final int MAX_PATH = 4096;

  private static final Pattern IDENTITY = Pattern.compile("[0-9]{1,20}:[0-9]{1,20}");

  /** Event ids and decimal sequence numbers; nothing that could be a path. */
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private final Operation<Integer> verifyProcess;
  private final Operation<String> verifyBinary;
  private final Operation<String> evidence;
  private final Query runtimeState;
  private final Query health;
  private final Map<Class<? extends Exception>, Code> codes;

  private LocalCoreApi(Builder b) {
    this.codes = new LinkedHashMap<>(b.codes);
    this.verifyProcess = b.verifyProcess;
    this.verifyBinary = b.verifyBinary;
    this.evidence = b.evidence;
    this.runtimeState = b.runtimeState;
    this.health = b.health;
  }

  public static Builder builder() {
    return new Builder();
  }

  @Override
  public JsonNode verifyProcess(int pid) throws ApiException {
    if (pid <= 0) {
      throw new ApiException(Code.BAD_REQUEST, "pid must be a positive integer, got " + pid);
    }
    return call(
        "verifyProcess",
        "process " + pid,
        verifyProcess == null ? null : () -> verifyProcess.apply(pid));
  }

  @Override
  public JsonNode verifyBinary(String target) throws ApiException {
    validateTarget(target);
    return call(
        "verifyBinary", target, verifyBinary == null ? null : () -> verifyBinary.apply(target));
  }

  @Override
  public JsonNode getEvidence(String ref) throws ApiException {
    if (ref == null || !REF.matcher(ref).matches()) {
      throw new ApiException(
          Code.BAD_REQUEST,
          "evidence reference must be an event id or a sequence number (letters, digits, . _ : -; at most 128), got "
              + quote(ref));
    }
    return call(
        "getEvidence", "evidence " + ref, evidence == null ? null : () -> evidence.apply(ref));
  }

  @Override
  public JsonNode listRuntimeState() throws ApiException {
    return call("listRuntimeState", "runtime state", runtimeState);
  }

  @Override
  public JsonNode health() throws ApiException {
    return call("health", "health", health);
  }

  static void validateTarget(String target) throws ApiException {
    if (target == null || target.isEmpty()) {
      throw new ApiException(
          Code.BAD_REQUEST, "binary target is missing: give an absolute path or DEV:INODE");
    }
    if (target.startsWith("/")) {
      if (target.length() > MAX_PATH || target.indexOf('\0') >= 0) {
        throw new ApiException(
            Code.BAD_REQUEST, "path is longer than " + MAX_PATH + " bytes or contains NUL");
      }
      return;
    }
    if (!IDENTITY.matcher(target).matches()) {
      throw new ApiException(
          Code.BAD_REQUEST,
          "binary target must be an absolute path or DEV:INODE (decimal), got " + quote(target));
    }
  }

  private static String quote(String s) {
    if (s == null) {
      return "nothing";
    }
    String shown = s.length() > 64 ? s.substring(0, 64) + "…" : s;
    return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
  }

  private JsonNode call(String operation, String subject, Query query) throws ApiException {
    if (query == null) {
      throw new ApiException(Code.UNAVAILABLE, operation + " is not available in this build");
    }
    Object result;
    try {
      result = query.get();
    } catch (ApiException e) {
      throw e;
    } catch (Exception e) {
      for (Map.Entry<Class<? extends Exception>, Code> mapped : codes.entrySet()) {
        if (mapped.getKey().isInstance(e)) {
          throw new ApiException(mapped.getValue(), subject + ": " + e.getMessage(), e);
        }
      }
      throw defaultMapping(operation, subject, e);
    }
    if (result instanceof Optional<?> optional) {
      result = optional.orElse(null);
    }
    if (result == null) {
      throw new ApiException(Code.NOT_FOUND, subject + ": not found");
    }
    try {
      return ApiJson.normalize(result);
    } catch (JsonProcessingException e) {
      throw new ApiException(
          Code.INTERNAL,
          operation + " returned a value that is not JSON: " + e.getOriginalMessage(),
          e);
    }
  }

  private static ApiException defaultMapping(String operation, String subject, Exception e) {
    if (e instanceof NoSuchFileException
        || e instanceof FileNotFoundException
        || e instanceof NoSuchElementException) {
      return new ApiException(Code.NOT_FOUND, subject + ": not found" + detail(e), e);
    }
    if (e instanceof IllegalArgumentException) {
      return new ApiException(Code.BAD_REQUEST, subject + ": " + e.getMessage(), e);
    }
    if (e instanceof RejectedExecutionException) {
      return new ApiException(Code.UNAVAILABLE, operation + " is overloaded, try again", e);
    }
    return new ApiException(Code.INTERNAL, operation + " failed: " + e, e);
  }

  private static String detail(Exception e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? "" : " (" + m + ")";
  }

  /** Collects the backing operations; any left out answers {@code UNAVAILABLE}. Not thread safe. */
  public static final class Builder {
    private Operation<Integer> verifyProcess;
    private Operation<String> verifyBinary;
    private Operation<String> evidence;
    private Query runtimeState;
    private Query health;
    private final Map<Class<? extends Exception>, Code> codes = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Map exceptions of {@code type} (and subtypes) thrown by a backing operation to {@code code},
     * before the default mapping; the first matching registration wins. For example the process
     * verifier's {@code ProcessGoneException}, an IOException, is {@code NOT_FOUND}.
     */
    public Builder errorCode(Class<? extends Exception> type, Code code) {
      codes.put(Objects.requireNonNull(type), Objects.requireNonNull(code));
      return this;
    }

    public Builder verifyProcess(Operation<Integer> op) {
      this.verifyProcess = Objects.requireNonNull(op);
      return this;
    }

    /** Receives a validated target: an absolute path or {@code DEV:INODE}. */
    public Builder verifyBinary(Operation<String> op) {
      this.verifyBinary = Objects.requireNonNull(op);
      return this;
    }

    public Builder evidence(Operation<String> op) {
      this.evidence = Objects.requireNonNull(op);
      return this;
    }

    public Builder runtimeState(Query q) {
      this.runtimeState = Objects.requireNonNull(q);
      return this;
    }

    public Builder health(Query q) {
      this.health = Objects.requireNonNull(q);
      return this;
    }

    public LocalCoreApi build() {
      return new LocalCoreApi(this);
    }
  }
}
