package dev.veriruntime.ingest.kernel;

import jnr.ffi.Pointer;

/**
 * An attachment of one program ({@code struct bpf_link}). Closing detaches it; idempotent. Not
 * thread-safe: close from the owner.
 */
public final class BpfLink implements AutoCloseable {
  private final NativeLibraries libs;
  private final String program;
  private Pointer link;

  BpfLink(NativeLibraries libs, String program, Pointer link) {
    this.libs = libs;
    this.program = program;
    this.link = link;
  }

  public String program() {
    return program;
  }

  public boolean isAttached() {
    return link != null;
  }

  @Override
  public void close() {
    if (link != null) {
      libs.bpf.bpf_link__destroy(link);
      link = null;
    }
  }
}
