package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.BinaryVerifier;
import dev.veriruntime.verifier.Finding;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.reference.ReferenceStore;
import java.time.Clock;

/**
 * Runs VerifyProcess in a JVM started without privileges (see {@link UnprivilegedIT}) and prints
 * the verdict, each scope and each finding type, one per line.
 */
public final class UnprivilegedVerification {
  private UnprivilegedVerification() {}

  public static void main(String[] args) throws Exception {
    Clock clock = Clock.systemUTC();
    ProcessVerifier verifier =
        new ProcessVerifier(
            ExecutableVerifier.of(
                new BinaryVerifier(
                    ReferenceStore.empty(), clock, BinaryVerifier.Options.defaults())),
            ProcessPolicy.defaults(),
            clock);
    ProcessVerification v = verifier.verify(Integer.parseInt(args[0]));
    System.out.println("verdict " + v.verdict());
    for (ScopeResult r : v.coverage().results().values()) {
      System.out.println("scope " + r.scope() + " " + r.status() + " " + r.reason());
    }
    for (Finding f : v.findings()) {
      System.out.println("finding " + f.type() + " " + f.reason());
    }
  }
}
