package dev.veriruntime.api;

import java.util.Set;

/**
 * Who may call the API socket, decided from the kernel's SO_PEERCRED of each connection: its
 * effective uid, or its effective primary gid. Supplementary groups are not part of SO_PEERCRED and
 * are not consulted; put API users in the allowed group as their primary group, or allow their uid.
 * Immutable.
 *
 * @param uids allowed effective uids
 * @param gids allowed effective primary gids
 */
public record PeerPolicy(Set<Integer> uids, Set<Integer> gids) {

  public PeerPolicy {
    uids = Set.copyOf(uids);
    gids = Set.copyOf(gids);
  }

  /** Root only: the default. */
  public static PeerPolicy rootOnly() {
    return new PeerPolicy(Set.of(0), Set.of());
  }

  /** Root, plus peers whose primary gid is one of {@code gids}. */
  public static PeerPolicy rootAndGroups(Set<Integer> gids) {
    return new PeerPolicy(Set.of(0), gids);
  }

  public boolean allows(int uid, int gid) {
    return uids.contains(uid) || gids.contains(gid);
  }
}
