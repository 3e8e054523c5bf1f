package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContainerIdTest {
  private static final String ID =
      "3f4e5d6c7b8a91827364554637281900aabbccddeeff00112233445566778899";

  @Test
  void namesTheContainerOfTheCommonRuntimesAndNothingForTheHost() {
    assertThat(ContainerId.fromCgroup("0::/system.slice/docker-" + ID + ".scope\n"))
        .contains("3f4e5d6c7b8a");
    assertThat(
            ContainerId.fromCgroup("0::/kubepods/besteffort/pod1/cri-containerd-" + ID + ".scope"))
        .contains("3f4e5d6c7b8a");
    assertThat(ContainerId.fromCgroup("12:memory:/docker/" + ID + "\n11:cpu:/docker/" + ID))
        .contains("3f4e5d6c7b8a");
    assertThat(ContainerId.fromCgroup("0::/machine.slice/libpod-" + ID + ".scope/container"))
        .contains("3f4e5d6c7b8a");
    assertThat(ContainerId.fromCgroup("0::/user.slice/user-1000.slice/session-3.scope\n"))
        .isEmpty();
    assertThat(ContainerId.fromCgroup("0::/\n")).isEmpty();
    assertThat(ContainerId.fromCgroup("garbage")).isEmpty();
  }
}
