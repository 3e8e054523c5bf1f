package dev.veriruntime.agent.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiJson;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The static report is one file that names nothing outside itself. */
class ReportPageTest {

  private static JsonNode verdict() {
    ObjectNode v = ApiJson.mapper().createObjectNode();
    v.put("pid", 77)
        .put("verdict", "FAILED")
        .put("path", "/tmp/</script><b>x")
        .put("sha256", "ab".repeat(32));
    v.putObject("coverage")
        .putObject("MEMORY_CODE")
        .put("status", "FAILED")
        .put("reason", "1 mapping(s) modified in memory");
    v.putArray("findings")
        .addObject()
        .put("type", "CODE_MODIFIED")
        .put("scope", "MEMORY_CODE")
        .put("reason", "patched")
        .putObject("detail")
        .put("symbol", "patch_target");
    v.putArray("mappedFiles");
    return v;
  }

  @Test
  void everythingIsInlinedAndNothingIsFetched() {
    String html =
        ReportPage.render(
            verdict(),
            List.of(ApiJson.mapper().createObjectNode().put("seq", 5)),
            "",
            Instant.parse("2026-12-03T10:00:00Z"));
    assertThat(html)
        .doesNotContain("<script src", "<link", "src=\"http", "href=\"http", "url(http");
    assertThat(html).doesNotContain("sourceMappingURL");
    assertThat(html).contains("default-src 'none'");
    // The only absolute URL is the SVG namespace name, an identifier that is never fetched.
    Matcher urls = Pattern.compile("https?://[^\"' )<]*").matcher(html);
    while (urls.find()) {
      assertThat(urls.group()).isEqualTo("http://www.w3.org/2000/svg");
    }
    assertThat(html)
        .contains("dagre", "VeriRuntimeChain", "\"symbol\":\"patch_target\"", "\"seq\":5");
  }

  @Test
  void dataCannotCloseItsScriptElement() {
    String html = ReportPage.render(verdict(), List.of(), "none", Instant.EPOCH);
    int data = html.indexOf("id=\"report-data\">");
    int end = html.indexOf("</script>", data);
    assertThat(html.substring(data, end)).contains("\\u003c/script>\\u003cb>x");
    assertThat(html)
        .contains(
            "<title>VeriRuntime report: pid 77 /tmp/&lt;/script&gt;&lt;b&gt;x (FAILED)</title>");
  }
}
