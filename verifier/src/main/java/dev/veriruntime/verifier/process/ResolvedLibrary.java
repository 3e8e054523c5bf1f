package dev.veriruntime.verifier.process;

/**
 * A library the dynamic loader would load for an executable, with how it was found.
 *
 * @param name the {@code DT_NEEDED} name (or the interpreter's path, or a preload entry)
 * @param path where it was found, as the loader would open it (symbolic links not resolved)
 * @param kernelDev device of the file in the kernel's encoding
 * @param inode inode of the file
 * @param neededBy the path of the object that needs it ({@code PT_INTERP} / preload: the
 *     executable)
 * @param foundVia how it was found: {@code RPATH}, {@code LD_LIBRARY_PATH}, {@code RUNPATH}, {@code
 *     ld.so.conf}, {@code default directories}, {@code PT_INTERP}, {@code path} or a preload source
 */
public record ResolvedLibrary(
    String name, String path, long kernelDev, long inode, String neededBy, String foundVia) {}
