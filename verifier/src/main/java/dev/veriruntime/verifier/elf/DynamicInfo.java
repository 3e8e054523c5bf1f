package dev.veriruntime.verifier.elf;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the dynamic section says about linking, with string values resolved through the dynamic
 * string table. Empty ({@link #NONE}) for a file without {@code PT_DYNAMIC} (static executables).
 *
 * @param entries every entry up to (not including) {@code DT_NULL}, in file order
 * @param needed {@code DT_NEEDED} library names in load order
 * @param soname {@code DT_SONAME}
 * @param rpath {@code DT_RPATH} split on ':'
 * @param runpath {@code DT_RUNPATH} split on ':'
 * @param textRelocations {@code DT_TEXTREL} present, or {@code DF_TEXTREL} set in {@code DT_FLAGS}
 * @param flags {@code DT_FLAGS} (0 when absent)
 * @param flags1 {@code DT_FLAGS_1} (0 when absent)
 */
public record DynamicInfo(
    List<DynamicEntry> entries,
    List<String> needed,
    Optional<String> soname,
    List<String> rpath,
    List<String> runpath,
    boolean textRelocations,
    long flags,
    long flags1) {

  public static final DynamicInfo NONE =
      new DynamicInfo(List.of(), List.of(), Optional.empty(), List.of(), List.of(), false, 0, 0);

  public DynamicInfo {
    entries = List.copyOf(entries);
    needed = List.copyOf(needed);
    Objects.requireNonNull(soname, "soname");
    rpath = List.copyOf(rpath);
    runpath = List.copyOf(runpath);
  }

  /** True when the file has a dynamic section at all. */
  public boolean present() {
    return !entries.isEmpty();
  }
}
