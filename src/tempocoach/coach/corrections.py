"""Which correction, if any, the coach gives after a rep; rationed so it helps rather than nags.

A finished rep is judged phase by phase with the report's own rule (coach.report.judge_phase:
within max(0.25 s, 20% of target) is ok), so the live coach and the post-set report never disagree.
Rationing:
- at most one correction per rep, aimed at the next rep;
- none said in the last planned rep, nor after it (when the planned rep count is known);
- never the same words twice in a row: if the worst deviation would repeat the last correction
  spoken, the next worst different one is used, else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tempocoach.coach.cues import CueLibrary, Deviation
from tempocoach.coach.report import ReportSettings, judge_phase
from tempocoach.events import Phase, Rep
from tempocoach.exercises import Exercise
from tempocoach.tempo import TempoCode

_PAUSES = (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE)


@dataclass(frozen=True)
class PendingCorrection:
    rep_index: int  # the rep it is to be said in
    phase: Phase  # the phase it is about
    text: str
    severity: float


@dataclass(frozen=True)
class PhaseDeviation:
    phase: Phase
    deviation: Deviation
    severity: float  # error in units of the tolerance; larger is worse


def rep_deviations(rep: Rep, tempo: TempoCode, settings: ReportSettings) -> list[PhaseDeviation]:
    """The phases of `rep` the report would not call ok, worst first."""
    found: list[PhaseDeviation] = []
    for phase in Phase:
        duration_s = rep.duration_of(phase)
        target_s = tempo.target_s(phase)
        verdict = judge_phase(phase, duration_s, target_s, settings)
        if verdict == "ok":
            continue
        if target_s is None:
            severity = (duration_s - settings.explosive_limit_s) / settings.tolerance_min_s
        else:
            severity = abs(duration_s - target_s) / settings.tolerance_s(target_s)
        slow = verdict == "too slow"
        if phase in _PAUSES:
            deviation: Deviation = "long" if slow else "short"
        else:
            deviation = "slow" if slow else "fast"
        found.append(PhaseDeviation(phase, deviation, severity))
    return sorted(found, key=lambda d: -d.severity)


class CorrectionPlanner:
    def __init__(
        self,
        exercise: Exercise,
        tempo: TempoCode,
        library: CueLibrary,
        settings: ReportSettings,
        planned_reps: int | None,
    ) -> None:
        self.exercise = exercise
        self.tempo = tempo
        self.library = library
        self.settings = settings
        self.planned_reps = planned_reps
        self.pending: PendingCorrection | None = None
        self.last_spoken: str | None = None
        self.spoken_in_reps: list[int] = []

    def on_rep(self, rep: Rep) -> PendingCorrection | None:
        """Judge a finished rep; keep at most one correction for the next rep."""
        target_rep = rep.index + 1
        self.pending = None
        if self.planned_reps is not None and target_rep >= self.planned_reps:
            return None
        for dev in rep_deviations(rep, self.tempo, self.settings):
            text = self.library.correction(self.exercise, dev.phase, dev.deviation)
            if text != self.last_spoken:
                self.pending = PendingCorrection(target_rep, dev.phase, text, dev.severity)
                break
        return self.pending

    def spoken(self, text: str, rep_index: int) -> None:
        self.last_spoken = text
        self.spoken_in_reps.append(rep_index)
        if self.pending is not None and self.pending.rep_index == rep_index:
            self.pending = None
