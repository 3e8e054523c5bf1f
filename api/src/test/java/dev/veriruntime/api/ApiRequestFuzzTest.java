package dev.veriruntime.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.veriruntime.verifier.testing.InputBudget;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Jazzer target for the API's request routing ({@link ApiServer#route}): any request URI a client
 * on the socket sends must route to a Core API call or be refused with the declared {@link
 * ApiException} (NOT_FOUND, BAD_REQUEST), never another exception (which the server could only
 * answer as INTERNAL). The calls go to a {@link LocalCoreApi}, as in the daemon, whose backing
 * operations check what reaches them: only positive pids, absolute paths without NUL within
 * PATH_MAX, {@code DEV:INODE} identities and evidence references of the documented shape. Bounded
 * per input by {@link InputBudget}.
 *
 * <p>The input is the URI as it stands in the request line (bytes as ISO-8859-1, as netty's HTTP
 * decoder reads them). Seeds in {@code ApiRequestFuzzTestInputs/}: the routes of docs/api.md and
 * every crash found. The HTTP framing around it is {@link ApiHttpFuzzTest}'s.
 */
class ApiRequestFuzzTest {
  private static final Pattern IDENTITY = Pattern.compile("[0-9]{1,20}:[0-9]{1,20}");
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private static final CoreApi API =
      LocalCoreApi.builder()
          .verifyProcess(
              pid -> {
                assertThat(pid).isPositive();
                return Map.of("pid", pid);
              })
          .verifyBinary(
              target -> {
                if (target.startsWith("/")) {
                  assertThat(target.length()).isLessThanOrEqualTo(4096);
                  assertThat(target).doesNotContain("\0");
                } else {
                  assertThat(target).matches(IDENTITY);
                }
                return Map.of("target", target);
              })
          .evidence(
              ref -> {
                assertThat(ref).matches(REF);
                return Map.of("ref", ref);
              })
          .runtimeState(() -> Map.of("processes", 0))
          .health(() -> Map.of("status", "ok"))
          .build();

  @FuzzTest(maxDuration = "5m")
  void routeRequest(byte[] input) {
    String uri = new String(input, StandardCharsets.ISO_8859_1);
    InputBudget.of(input.length).run(() -> check(uri));
  }

  private static void check(String uri) {
    try {
      ApiServer.Call call = ApiServer.route(API, uri);
      assertThat(call.invoke()).isNotNull();
    } catch (ApiException declared) {
      assertThat(declared.code()).isIn(ApiException.Code.BAD_REQUEST, ApiException.Code.NOT_FOUND);
      assertThat(declared.getMessage()).isNotBlank();
    }
  }
}
