package dev.veriruntime.sinks.journal;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.veriruntime.sinks.SecurityEvent;
import java.time.Instant;
import java.util.Map;

/**
 * One line of the evidence journal. Every line carries its sequence number and the SHA-256 (hex) of
 * the previous line's bytes, and exactly one payload chosen by {@code kind}:
 *
 * <pre>{@code
 * {"seq":7,"prev":"5e1c…","kind":"event","event":{…SecurityEvent…}}
 * {"seq":8,"prev":"a03f…","kind":"checkpoint","checkpoint":{"time":"…","key":"<ed25519 pub hex>","sig":"<hex>"}}
 * {"seq":9,"prev":"77d2…","kind":"recovery","recovery":{"time":"…","file":"journal-000002.jsonl","offset":8812,"bytesCut":143,"reason":"…"}}
 * {"seq":10,"prev":"c4e0…","kind":"note","note":{"time":"…","topic":"lineage","summary":"…","detail":{…}}}
 * }</pre>
 *
 * A note is evidence that is not an alert (for example a build-lineage decision): recorded and
 * chained like an event, never sent to any other sink.
 *
 * <p>A record's hash is the SHA-256 of its line without the newline; the first record ever has
 * {@code prev} = 64 zeros. A checkpoint signs {@link JournalFormat#checkpointMessage} (its own seq
 * and prev), which commits to every record before it.
 */
@JsonPropertyOrder({"seq", "prev", "kind", "event", "checkpoint", "recovery", "note"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JournalEntry(
    long seq,
    String prev,
    String kind,
    SecurityEvent event,
    Checkpoint checkpoint,
    Recovery recovery,
    Note note) {

  public static final String EVENT = "event";
  public static final String CHECKPOINT = "checkpoint";
  public static final String RECOVERY = "recovery";
  public static final String NOTE = "note";

  /** An entry without a note (event, checkpoint or recovery). */
  public JournalEntry(
      long seq,
      String prev,
      String kind,
      SecurityEvent event,
      Checkpoint checkpoint,
      Recovery recovery) {
    this(seq, prev, kind, event, checkpoint, recovery, null);
  }

  /**
   * Evidence that is not an alert.
   *
   * @param topic what the note is about, e.g. {@code lineage}
   * @param summary one human-readable line
   * @param detail machine-readable facts: strings, numbers, booleans, lists or maps of them
   */
  @JsonPropertyOrder({"time", "topic", "summary", "detail"})
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record Note(Instant time, String topic, String summary, Map<String, Object> detail) {}

  /** A signature by the node key over this record's seq, prev and time. */
  @JsonPropertyOrder({"time", "key", "sig"})
  public record Checkpoint(Instant time, String key, String sig) {}

  /** A note, written at start-up, that a torn or unconfirmed tail was cut after a crash. */
  @JsonPropertyOrder({"time", "file", "offset", "bytesCut", "reason", "detail"})
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  public record Recovery(
      Instant time,
      String file,
      long offset,
      long bytesCut,
      String reason,
      Map<String, String> detail) {}
}
