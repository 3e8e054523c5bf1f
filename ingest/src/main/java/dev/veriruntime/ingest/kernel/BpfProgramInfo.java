package dev.veriruntime.ingest.kernel;

/**
 * What the kernel says about a loaded program ({@code struct bpf_prog_info}): its system-wide id,
 * its {@code bpf_prog_type}, and its tag (hex of the kernel's 8-byte hash of the instructions),
 * which self-integrity checks compare with {@code bpftool prog show}.
 *
 * @param program the name in the object
 * @param id kernel program id
 * @param type {@code enum bpf_prog_type} value
 * @param tag 16 hex characters
 * @param kernelName the (16-byte truncated) name the kernel stores
 */
public record BpfProgramInfo(String program, int id, int type, String tag, String kernelName) {}
