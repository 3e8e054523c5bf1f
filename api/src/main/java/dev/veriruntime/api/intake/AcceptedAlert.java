package dev.veriruntime.api.intake;

import java.time.Instant;

/**
 * An alert the intake accepted, waiting for its verification.
 *
 * @param alert the alert
 * @param target what to verify
 * @param receivedAt when the intake received it
 * @param receivedNanos {@link System#nanoTime()} then (or the intake's nano clock): for the latency
 *     from alert to verdict
 * @param peer who submitted it (the socket peer's uid and pid), for the journal
 */
public record AcceptedAlert(
    Alert alert, AlertTarget target, Instant receivedAt, long receivedNanos, String peer) {}
