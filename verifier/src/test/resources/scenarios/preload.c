/* Scenario library for LD_PRELOAD: one exported function, so it has code that gets mapped. */
int veriruntime_preloaded(int x) {
  return x * 2 + 1;
}
