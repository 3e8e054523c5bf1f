package dev.veriruntime.sinks.journal;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;

/**
 * The journal's last durable position, rewritten (atomically, by rename) after every forced batch
 * and signed by the node key. It is what makes removing whole records from the end detectable: the
 * chain alone cannot tell a truncated journal from a short one.
 *
 * @param file name of the journal file holding record {@code seq}
 * @param offset size of that file once the record was forced
 * @param seq sequence number of the last durable record (0: none yet)
 * @param hash hash of that record ({@link JournalFormat#GENESIS} if none)
 * @param time when the head was written
 * @param key node public key, hex
 * @param sig Ed25519 signature of {@link JournalFormat#headMessage}, hex
 */
@JsonPropertyOrder({"file", "offset", "seq", "hash", "time", "key", "sig"})
public record JournalHead(
    String file, long offset, long seq, String hash, Instant time, String key, String sig) {}
