package dev.veriruntime.verifier.process;

import dev.veriruntime.verifier.Scope;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a process verification intends and tolerates. Exceptions are granted only by verified
 * identity, the SHA-256 of the executable or library as read through the kernel, never by name or
 * path: a JIT runtime renamed or copied elsewhere keeps its allowance, and another binary placed at
 * its path does not get it.
 *
 * @param allowAnonymousExec executables (SHA-256, lowercase hex) whose processes may hold anonymous
 *     executable memory, such as JIT runtimes
 * @param allowedLibraries libraries (SHA-256) that may be mapped though outside the executable's
 *     dependency closure (plug-ins loaded with dlopen, a sanctioned LD_PRELOAD)
 * @param intendedScopes the scopes a verification checks and reports; those left out do not appear
 *     in the coverage
 * @param acceptVerifiedDlopen whether a library loaded at run time (dlopen: outside the dependency
 *     closure and not brought by a preload list) is accepted when the library itself is VERIFIED (a
 *     reference or the package database vouches for its bytes): plug-in loading by JVMs, NSS, PAM
 *     and iconv is then not drift, while an unknown or failed library still is. Preloaded libraries
 *     are never accepted this way. {@link #defaults()} is strict (false).
 */
public record ProcessPolicy(
    Set<String> allowAnonymousExec,
    Set<String> allowedLibraries,
    Set<Scope> intendedScopes,
    boolean acceptVerifiedDlopen) {

  public ProcessPolicy {
    allowAnonymousExec = normalize(allowAnonymousExec);
    allowedLibraries = normalize(allowedLibraries);
    if (intendedScopes.isEmpty()) {
      throw new IllegalArgumentException("a policy must intend at least one scope");
    }
    intendedScopes = Set.copyOf(intendedScopes);
  }

  /** A strict policy: every library outside the dependency closure needs its digest allowed. */
  public ProcessPolicy(
      Set<String> allowAnonymousExec, Set<String> allowedLibraries, Set<Scope> intendedScopes) {
    this(allowAnonymousExec, allowedLibraries, intendedScopes, false);
  }

  /**
   * The six reference scopes, no exceptions. {@link Scope#LINEAGE} is not among them: it is an
   * alternative to a reference that only a lineage root enables, never a scope every process must
   * pass.
   */
  public static ProcessPolicy defaults() {
    return new ProcessPolicy(Set.of(), Set.of(), EnumSet.complementOf(EnumSet.of(Scope.LINEAGE)));
  }

  public ProcessPolicy withAnonymousExecAllowedFor(String executableSha256) {
    Set<String> s = new java.util.HashSet<>(allowAnonymousExec);
    s.add(executableSha256);
    return new ProcessPolicy(s, allowedLibraries, intendedScopes, acceptVerifiedDlopen);
  }

  public ProcessPolicy withLibraryAllowed(String librarySha256) {
    Set<String> s = new java.util.HashSet<>(allowedLibraries);
    s.add(librarySha256);
    return new ProcessPolicy(allowAnonymousExec, s, intendedScopes, acceptVerifiedDlopen);
  }

  public ProcessPolicy withIntendedScopes(Set<Scope> scopes) {
    return new ProcessPolicy(allowAnonymousExec, allowedLibraries, scopes, acceptVerifiedDlopen);
  }

  /** The same policy, accepting libraries loaded at run time that are themselves VERIFIED. */
  public ProcessPolicy withVerifiedDlopenAccepted(boolean accept) {
    return new ProcessPolicy(allowAnonymousExec, allowedLibraries, intendedScopes, accept);
  }

  public boolean intends(Scope scope) {
    return intendedScopes.contains(scope);
  }

  private static Set<String> normalize(Set<String> digests) {
    for (String d : digests) {
      if (!d.matches("(?i)[0-9a-f]{64}")) {
        throw new IllegalArgumentException("not a SHA-256 hex digest: " + d);
      }
    }
    return digests.stream()
        .map(d -> d.toLowerCase(Locale.ROOT))
        .collect(Collectors.toUnmodifiableSet());
  }
}
