package dev.veriruntime.ingest.event;

import java.util.Objects;

/**
 * The task that caused a kernel event, as the kernel saw it at that moment.
 *
 * @param pid kernel thread id
 * @param tgid process id (thread-group id)
 * @param uid real user id
 * @param gid real group id
 * @param cgroupId cgroup v2 id of the task ({@code bpf_get_current_cgroup_id()})
 * @param comm the task's command name (at most 15 bytes); not an identity, only a hint for humans
 */
public record TaskContext(int pid, int tgid, int uid, int gid, long cgroupId, String comm) {
  public TaskContext {
    Objects.requireNonNull(comm, "comm");
  }
}
