"""Cues and the scheduler that keeps them from talking over each other.

Times are on the session (sample) clock. A Cue's at_s is when the lifter should HEAR it; emit_s =
at_s - output latency is when its sound must start. Nothing here reads a wall clock: the caller
passes `now_s` (the latest sample time) and gets back the cues whose sound starts within the next
`lookahead_s`; those are committed and handed to the player, the rest stay negotiable.

Rules:
- a cue is stale when it can no longer be heard by its expires_s (now + latency > expires_s): it is
  dropped, never played late;
- two cues never overlap (each has an estimated duration); when they would, the higher priority
  keeps its time and the other moves to the first gap that still meets its expiry, or is dropped;
- a cue already released is never repeated (its slot is remembered);
- a priority-0 cue (the line before the set) blocks nothing: the player cuts it for anything else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from tempocoach.events import Phase

CueKind = Literal["count", "phase_call", "focus", "correction", "start", "end", "summary", "tone"]

# Higher wins. A correction is rare and aimed at the next rep, so it outranks all; the phase call
# marks the moment the lifter must change direction; a focus cue comes once every few reps and is
# worth more than the counts it displaces (the calls on either side still keep the time); a count
# is the most redundant sound, so it yields first.
# The line before the set has priority 0: anything may cut it, and it blocks nothing.
PRIORITY: dict[str, int] = {
    "correction": 4,
    "start": 0,
    "end": 3,
    "summary": 3,
    "phase_call": 3,
    "focus": 2,
    "count": 1,
}


@dataclass(frozen=True)
class Cue:
    at_s: float
    text: str
    kind: CueKind
    priority: int
    phase: Phase | None
    rep_index: int
    tone_hz: float | None = None
    expires_s: float = math.inf
    duration_s: float = 0.3
    emit_s: float = 0.0
    slot: str = ""

    @property
    def end_s(self) -> float:
        return self.at_s + self.duration_s


def speech_duration_s(text: str, words_per_minute: float, pad_s: float) -> float:
    """Estimated time to say `text` at the speech rate, plus a pad of silence after it."""
    return max(1, len(text.split())) * 60.0 / words_per_minute + pad_s


class CueScheduler:
    """Pending cues, kept free of overlaps, released as their emit time comes within the lookahead."""

    def __init__(self, latency_s: float, lookahead_s: float) -> None:
        self.latency_s = latency_s
        self.lookahead_s = lookahead_s
        self._pending: list[Cue] = []
        self._released: set[str] = set()
        self._busy_until_s = -math.inf
        self.dropped: list[Cue] = []
        self.stale: list[Cue] = []  # the subset of `dropped` whose moment passed (not crowded out)

    @property
    def pending(self) -> list[Cue]:
        return list(self._pending)

    def was_released(self, slot: str) -> bool:
        return slot in self._released

    def cancel(self, predicate: Callable[[Cue], bool]) -> None:
        """Withdraw pending (not yet released) cues, e.g. predictions superseded by a real event."""
        self._pending = [c for c in self._pending if not predicate(c)]

    def offer(self, cue: Cue, now_s: float) -> bool:
        """Admit `cue` if it can still be heard in time without overlapping a stronger one."""
        if cue.slot and (cue.slot in self._released or any(c.slot == cue.slot for c in self._pending)):
            return False
        displaced: list[Cue] = []
        at_s = max(cue.at_s, now_s + self.latency_s)
        if at_s > cue.expires_s:
            self.stale.append(cue)
        while True:
            if at_s > cue.expires_s:
                self.dropped.append(cue)
                admitted = False
                break
            if at_s < self._busy_until_s:
                at_s = self._busy_until_s
                continue
            clash = next(
                (c for c in self._pending if at_s < c.end_s and c.at_s < at_s + cue.duration_s), None
            )
            if clash is None:
                self._pending.append(replace(cue, at_s=at_s, emit_s=at_s - self.latency_s))
                self._pending.sort(key=lambda c: c.at_s)
                admitted = True
                break
            if clash.priority >= cue.priority:
                at_s = clash.end_s
            else:
                self._pending.remove(clash)
                displaced.append(clash)
        for loser in displaced:
            self.offer(loser, now_s)
        return admitted

    def release(self, now_s: float) -> list[Cue]:
        """Cues whose sound starts by now + lookahead, committed in time order; stale ones dropped."""
        heard_now_s = now_s + self.latency_s
        out: list[Cue] = []
        while self._pending and self._pending[0].at_s <= heard_now_s + self.lookahead_s:
            cue = self._pending.pop(0)
            at_s = max(cue.at_s, heard_now_s, self._busy_until_s)
            if at_s > cue.expires_s:
                self.dropped.append(cue)
                if heard_now_s > cue.expires_s:
                    self.stale.append(cue)
                continue
            cue = replace(cue, at_s=at_s, emit_s=at_s - self.latency_s)
            if cue.priority > 0:
                self._busy_until_s = cue.end_s
            if cue.slot:
                self._released.add(cue.slot)
            out.append(cue)
        return out
