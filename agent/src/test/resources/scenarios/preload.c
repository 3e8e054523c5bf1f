/* Scenario library for LD_PRELOAD: one exported function, so it has code that gets mapped. */
int veriruntime_scenario_preloaded(int x) {
  return x * 3 + 1;
}
