package dev.veriruntime.agent;

import dev.veriruntime.pipeline.IncidentBook;
import dev.veriruntime.sinks.EventType;
import java.util.Set;

/**
 * What re-attestation tells the incident book, and asks it: a pass that no longer finds a condition
 * resolves its incident ("condition cleared"); a process with an open incident is verified first in
 * a round. Thread-safe (the book is).
 */
final class IncidentFeedback implements Reattestation.PassListener {
  private final IncidentBook book;

  IncidentFeedback(IncidentBook book) {
    this.book = book;
  }

  @Override
  public void passed(int pid, Set<EventType> found) {
    book.checkPassed(pid, Reattestation.CHECK, found);
  }

  @Override
  public boolean urgent(int pid) {
    return book.hasOpenIncident(pid);
  }
}
