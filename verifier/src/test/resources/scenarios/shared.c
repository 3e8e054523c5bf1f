/* Scenario library, linked (DT_NEEDED) into libuser: one function it calls, and code it never runs
 * that starts with a marker, so a test can find and rewrite those bytes in the file on disk. */
__asm__(".text\n"
        ".globl veriruntime_scenario_unused\n"
        ".type veriruntime_scenario_unused, @function\n"
        "veriruntime_scenario_unused:\n"
        ".ascii \"VERIRUNTIME-SCENARIO-CODE-MARKER\"\n"
        "ret\n");

int veriruntime_scenario_shared(int x) {
  return x * 5 + 2;
}
