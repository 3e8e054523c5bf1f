package dev.veriruntime.verifier.reference;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.HexFormat;
import java.util.Locale;

/** The JSON mapper and the shape checks shared by the statement and envelope readers. */
final class Json {
  /**
   * Duplicate keys are refused: two parsers that pick different duplicates could otherwise read
   * different subjects from one signed payload.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

  private static final java.util.regex.Pattern SOURCE =
      java.util.regex.Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]");

  private Json() {}

  static String requireText(JsonNode node, String field, String where) throws ReferenceException {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual()) {
      throw malformed(
          where + ": field '" + field + "' is " + (v == null ? "missing" : "not a string"));
    }
    return v.asText();
  }

  static JsonNode requireObject(JsonNode node, String field, String where)
      throws ReferenceException {
    JsonNode v = node.get(field);
    if (v == null || !v.isObject()) {
      throw malformed(
          where + ": field '" + field + "' is " + (v == null ? "missing" : "not an object"));
    }
    return v;
  }

  /** A SHA-256 digest in lowercase hex; upper-case input is accepted and normalised. */
  static String requireSha256(String value, String where) throws ReferenceException {
    String v = value.toLowerCase(Locale.ROOT);
    if (v.length() != 64 || !v.chars().allMatch(c -> HexFormat.isHexDigit(c))) {
      throw malformed(where + ": '" + abbreviate(value) + "' is not a hex SHA-256 digest");
    }
    return v;
  }

  static String describe(JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String msg =
        e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
    int nl = msg.indexOf('\n');
    if (nl >= 0) {
      msg = msg.substring(0, nl);
    }
    // Jackson names the source as "[Source: REDACTED ...]": keep only the position it carries.
    msg = SOURCE.matcher(msg).replaceAll("line $1, column $2");
    return loc == null
        ? msg
        : msg + " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  static ReferenceException malformed(String message) {
    return new ReferenceException(ReferenceException.Kind.MALFORMED, message);
  }
}
