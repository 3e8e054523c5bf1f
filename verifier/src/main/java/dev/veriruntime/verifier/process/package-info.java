/**
 * VerifyProcess and ListRuntimeState: is the code a running process executes the code we intended?
 *
 * <p>Entry points: {@link dev.veriruntime.verifier.process.ProcessVerifier#verify(int)} for one
 * process now; {@link dev.veriruntime.verifier.process.RuntimeStateRegistry} for the last result of
 * every known process; {@link dev.veriruntime.verifier.process.ReattestationScheduler} (with {@link
 * dev.veriruntime.verifier.process.ReattestationPlanner} and resumable {@link
 * dev.veriruntime.verifier.process.CodeScan}s) to keep re-checking the code of long-running
 * processes under a byte-per-second budget.
 *
 * <p>Everything here is pure Java over {@code /proc}: {@code /proc/PID/exe} (the inode that runs),
 * {@code maps}, {@code map_files} (the inode each mapping maps), {@code mem} (through the {@link
 * dev.veriruntime.verifier.process.ProcessMemory} interface), {@code status}, {@code environ}, and
 * {@code /etc/ld.so.conf} for the loader's search path. No native code, no Reactor; time comes from
 * an injected {@link java.time.Clock}. Reading another process's maps, map_files and memory needs
 * ptrace-attach rights (root); without them the affected scopes are NOT_VERIFIED with the reason,
 * never VERIFIED.
 *
 * <pre>{@code
 * BinaryVerifier binaries = new BinaryVerifier(store, clock, BinaryVerifier.Options.defaults());
 * ProcessVerifier verifier =
 *     new ProcessVerifier(ExecutableVerifier.of(binaries), ProcessPolicy.defaults(), clock);
 * ProcessVerification v = verifier.verify(pid);
 * registry.record(v);
 * }</pre>
 */
package dev.veriruntime.verifier.process;
