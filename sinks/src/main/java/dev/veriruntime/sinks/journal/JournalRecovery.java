package dev.veriruntime.sinks.journal;

import java.time.Instant;

/**
 * What start-up found and repaired after an unclean stop: a torn or unconfirmed tail that was cut,
 * or records that the signed head says were durable but are gone. The pipeline turns this into a
 * VERIFICATION_DEGRADED "partial loss" event; the journal also records it as a {@code recovery}
 * record, so the loss is in the evidence itself.
 *
 * @param time when start-up noticed it
 * @param file the journal file concerned
 * @param offset where the cut was made (file size after the cut)
 * @param bytesCut how many bytes were removed (0 if nothing was cut)
 * @param lastGoodSeq sequence number of the last record kept
 * @param reason one line, human-readable
 */
public record JournalRecovery(
    Instant time, String file, long offset, long bytesCut, long lastGoodSeq, String reason) {}
