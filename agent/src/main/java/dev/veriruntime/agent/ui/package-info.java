/**
 * The trust-chain web view ({@link dev.veriruntime.agent.ui.UiServer}, served by {@code watch
 * --ui-port N} on 127.0.0.1 only, with a token, read only) and the self-contained incident report
 * ({@link dev.veriruntime.agent.ui.ReportPage}, written by {@code veriruntime report}); see
 * docs/ui.md.
 *
 * <p>A client of the Core API (ListRuntimeState, VerifyProcess, GetEvidence, Health) that takes
 * live events through one more sink of the Sink SPI ({@link dev.veriruntime.agent.ui.EventFanOut})
 * and reads them only through {@link dev.veriruntime.agent.ui.LiveEvents}. It must never depend on
 * {@code ingest}, {@code pipeline}, {@code verifier}, {@code cli} or the daemon's own classes: it
 * shows the verdict JSON, it does not recompute it ({@code ArchitectureTest} in cli/).
 */
package dev.veriruntime.agent.ui;
