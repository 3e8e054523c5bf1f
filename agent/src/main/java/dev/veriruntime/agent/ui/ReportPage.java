package dev.veriruntime.agent.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.api.ApiJson;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The static incident report of {@code veriruntime report --pid PID --html FILE}: one HTML file
 * with everything inlined (style, the layout library, the chain drawing, the data), and a
 * Content-Security-Policy of {@code default-src 'none'}, so opening it never fetches anything. It
 * shows the same chain as the live page (the same {@code chain.js}) and the evidence records.
 * Stateless; thread safe.
 */
public final class ReportPage {
  // A source-map comment would name a file the browser may try to fetch; it is only a comment.
  private static final Pattern SOURCE_MAP = Pattern.compile("(?m)^//# sourceMappingURL=.*$");

  private ReportPage() {}

  /**
   * The report's HTML.
   *
   * @param verdict the VerifyProcess answer (docs/api.md)
   * @param evidence the evidence records of the process's open incidents (GetEvidence answers)
   * @param evidenceNote why {@code evidence} is empty, shown when it is
   * @param generatedAt when the report was made
   */
  public static String render(
      JsonNode verdict, List<JsonNode> evidence, String evidenceNote, Instant generatedAt) {
    WebAssets assets = WebAssets.load();
    ObjectNode data = ApiJson.mapper().createObjectNode();
    data.set("verdict", verdict);
    ArrayNode records = data.putArray("evidence");
    evidence.forEach(records::add);
    data.put("evidenceNote", evidenceNote);
    data.put("generatedAt", generatedAt.toString());
    String title =
        "VeriRuntime report: pid "
            + verdict.path("pid").asText()
            + " "
            + verdict.path("path").asText("")
            + " ("
            + verdict.path("verdict").asText()
            + ")";
    return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src"
        + " 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
        + "<title>"
        + escape(title)
        + "</title>\n<style>\n"
        + assets.get("app.css").text()
        + "</style>\n</head>\n<body class=\"report\">\n<header><h1>"
        + escape(title)
        + "</h1><p>Generated "
        + escape(generatedAt.toString())
        + " by veriruntime report. Self-contained: this file fetches nothing.</p></header>\n"
        + "<main>\n<h2>Trust chain</h2>\n<div id=\"chain\"></div>\n<h2>Verification</h2>\n"
        + "<div id=\"details\"></div>\n<h2>Evidence records</h2>\n<section id=\"evidence\"></section>\n"
        + "</main>\n<script type=\"application/json\" id=\"report-data\">"
        + json(data)
        + "</script>\n"
        + script(assets.get("vendor/dagre.js").text())
        + script(assets.get("chain.js").text())
        + script(assets.get("report.js").text())
        + "<!-- vendor/dagre.js: @dagrejs/dagre 3.1.3 (npm), MIT licence:\n"
        + assets.get("vendor/dagre.LICENSE").text().replace("--", "- -")
        + "-->\n</body>\n</html>\n";
  }

  private static String script(String js) {
    String inline = SOURCE_MAP.matcher(js).replaceAll("").replace("</script", "<\\/script");
    return "<script>\n" + inline + "\n</script>\n";
  }

  /** JSON safe inside a script element: no {@code <} can end it early. */
  private static String json(JsonNode node) {
    try {
      return ApiJson.mapper().writeValueAsString(node).replace("<", "\\u003c");
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
