package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.BinaryVerification;
import dev.veriruntime.verifier.Coverage;
import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.Scope;
import dev.veriruntime.verifier.ScopeResult;
import dev.veriruntime.verifier.ScopeStatus;
import dev.veriruntime.verifier.Verdict;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProcessStateTest {
  private static final Instant T0 = Instant.parse("2026-12-03T08:00:00Z");
  private static final FileIdentity ID = new FileIdentity(1, 2, 3, 4);
  private static final Set<Scope> EXEC = Set.of(Scope.DISK_HASH, Scope.ELF_HEADER);
  private static final Set<Scope> DEEP = Set.of(Scope.MEMORY_MAP, Scope.MEMORY_CODE);

  private static BinaryVerification binary(Verdict verdict) {
    return new BinaryVerification(
        verdict,
        "/usr/bin/x",
        "ab".repeat(32),
        ID,
        Coverage.of(ScopeResult.verified(Scope.DISK_HASH), ScopeResult.verified(Scope.ELF_HEADER)),
        List.of(),
        null,
        T0);
  }

  @Test
  void aVerifiedExecutableIsNotAVerifiedProcessUntilReattested() {
    ProcessState s =
        ProcessState.atExec(
            7,
            1,
            "/usr/bin/x",
            ID,
            binary(Verdict.VERIFIED),
            null,
            EXEC,
            DEEP,
            ProcessState.NOT_YET_REATTESTED,
            true);

    assertThat(s.verdict()).isEqualTo(Verdict.DEGRADED);
    assertThat(s.coverage().get(Scope.DISK_HASH).get().status()).isEqualTo(ScopeStatus.VERIFIED);
    assertThat(s.coverage().get(Scope.MEMORY_CODE).get())
        .isEqualTo(ScopeResult.notVerified(Scope.MEMORY_CODE, ProcessState.NOT_YET_REATTESTED));
    assertThat(s.reattested()).isFalse();
    assertThat(s.execCheckedAt()).isEqualTo(T0);
    assertThat(s.checkedAt()).isEqualTo(T0);
    assertThat(s.executable().sha256()).isEqualTo("ab".repeat(32));
  }

  @Test
  void withoutReattestationInPolicyTheExecTimeScopesAreAllThatIsIntended() {
    ProcessState s =
        ProcessState.atExec(
            7, 1, "/usr/bin/x", ID, binary(Verdict.VERIFIED), null, EXEC, Set.of(), "", true);
    assertThat(s.verdict()).isEqualTo(Verdict.VERIFIED);
    assertThat(s.coverage().results()).containsOnlyKeys(Scope.DISK_HASH, Scope.ELF_HEADER);
  }

  @Test
  void pendingAndUnknownExecutablesSayWhy() {
    ProcessState pending =
        ProcessState.atExec(7, 1, "/usr/bin/x", ID, null, "pending", EXEC, DEEP, "later", false);
    assertThat(pending.verdict()).as("unchecked, not unknown").isEqualTo(Verdict.DEGRADED);
    assertThat(pending.coverage().get(Scope.DISK_HASH).get().reason()).isEqualTo("pending");
    assertThat(pending.checkedAt()).isNull();
    assertThat(pending.executable().sha256()).isNull();
    assertThat(pending.tracked()).isFalse();

    ProcessState unknown =
        ProcessState.atExec(
            7, 1, "/usr/bin/x", ID, binary(Verdict.UNKNOWN), null, EXEC, DEEP, "later", true);
    assertThat(unknown.verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void reattestedProcessHasItsVerificationAndBothTimes() {
    ProcessVerification v =
        new ProcessVerification(
            7,
            100,
            Verdict.FAILED,
            new ProcessVerification.Executable("/usr/bin/x", ID, "ab".repeat(32)),
            Coverage.of(ScopeResult.failed(Scope.MEMORY_CODE, "patched")),
            List.of(),
            T0.plusSeconds(60),
            4096,
            true);
    ProcessState s = ProcessState.reattested(v, 1, T0);
    assertThat(s.verdict()).isEqualTo(Verdict.FAILED);
    assertThat(s.execCheckedAt()).isEqualTo(T0);
    assertThat(s.reattestedAt()).isEqualTo(T0.plusSeconds(60));
    assertThat(s.checkedAt()).isEqualTo(T0.plusSeconds(60));
    assertThat(s.startTicks()).isEqualTo(100);
    assertThat(s.incidents()).isEmpty();
    assertThat(ProcessState.reattested(v, 1, null).execCheckedAt()).isEqualTo(T0.plusSeconds(60));
  }
}
