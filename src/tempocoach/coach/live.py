"""The live coach: turns PhaseEvents into timed Cues (counts, phase calls, focus cues, corrections).

Pure and synchronous: the caller passes events and sample timestamps, never a wall clock.

How a phase is coached ("down, two, three, hold, drive" for 31X0):
- When a phase starts (event.start_s, reported event.detected_s - start_s late) the coach lays out
  that phase's call at its start (the call stands in for "one"), a count per further second of its
  target, and the calls of the phases that follow on the tempo's schedule: "hold" at eccentric start
  + 3 s, "drive" 1 s later: the calls tell the lifter when to move on. Counts of a later phase wait
  until that phase is seen to start. Prediction stops after an explosive (X) phase, whose end the
  lifter decides, and at the first phase of the next rep (only its call: the go signal).
- Each new phase event re-anchors: pending predictions are withdrawn and laid out again from the
  real start, so counts follow the lifter. Anything whose moment has passed (a count can be heard
  at most count_slack_s late) is dropped, never spoken late.
- Cues leave early by the output latency (see schedule.py) so they are heard on time.
Focus cues: on rep 1 and every focus_every_reps-th rep after, one cue from the focus plan,
alternating between the eccentric and the concentric; a concentric too short to hold it (X) is
cued at the start of the same rep's eccentric. Corrections: see corrections.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tempocoach.coach.corrections import CorrectionPlanner, PendingCorrection
from tempocoach.coach.cues import CueLibrary, cue_library
from tempocoach.coach.focus import FocusPlan
from tempocoach.coach.report import ReportSettings
from tempocoach.coach.schedule import PRIORITY, Cue, CueKind, CueScheduler, speech_duration_s
from tempocoach.coach.spoken import post_set_summary, spoken_tempo
from tempocoach.events import Phase, PhaseEvent
from tempocoach.exercises import Exercise, get_exercise
from tempocoach.tempo import TempoCode, parse_tempo

# Tone pitches (Hz): one per phase for calls, a higher tick for counts.
PHASE_CALL_TONE_HZ: dict[Phase, float] = {
    Phase.ECCENTRIC: 392.0,
    Phase.BOTTOM_PAUSE: 329.6,
    Phase.CONCENTRIC: 587.3,
    Phase.TOP_PAUSE: 493.9,
}
COUNT_TONE_HZ = 1000.0
TONE_DURATION_S = 0.12


class CoachMode(StrEnum):
    VOICE = "voice"  # everything spoken
    TONES = "tones"  # calls and counts as tones, no words
    VOICE_TONES = "voice+tones"  # counts as tones, calls, focus and corrections spoken
    QUIET = "quiet"  # focus cues only

    @property
    def speaks_calls(self) -> bool:
        return self in (CoachMode.VOICE, CoachMode.VOICE_TONES)

    @property
    def speaks_counts(self) -> bool:
        return self is CoachMode.VOICE

    @property
    def has_tones(self) -> bool:
        return self in (CoachMode.TONES, CoachMode.VOICE_TONES)

    @property
    def speaks_focus(self) -> bool:
        return self is not CoachMode.TONES

    @property
    def speaks_lines(self) -> bool:
        return self.speaks_calls


@dataclass(frozen=True)
class CoachSettings:
    output_latency_s: float = 0.0
    speech_rate_wpm: float = 170.0
    lookahead_s: float = 0.1  # how far ahead tick() commits cues (about one BLE batch)
    pad_s: float = 0.1  # silence after each spoken cue
    count_slack_s: float = 0.08  # a count heard later than this is dropped
    call_slack_s: float = 0.25
    focus_slack_s: float = 1.0
    correction_slack_s: float = 1.5
    focus_every_reps: int = 3
    report: ReportSettings = field(default_factory=ReportSettings)  # the shared tolerance rule


@dataclass
class _Anchor:
    rep_index: int
    phase: Phase
    start_s: float


class LiveCoach:
    def __init__(
        self,
        exercise: Exercise | str,
        tempo: TempoCode | str,
        focus_plan: FocusPlan,
        mode: CoachMode | str = CoachMode.VOICE,
        settings: CoachSettings | None = None,
        *,
        planned_reps: int | None = None,
        library: CueLibrary | None = None,
        phrase_durations_s: Mapping[str, float] | None = None,
    ) -> None:
        """phrase_durations_s: measured lengths of pre-rendered phrases (else estimated from words)."""
        self.phrase_durations_s = dict(phrase_durations_s or {})
        self.exercise = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
        self.tempo = tempo if isinstance(tempo, TempoCode) else parse_tempo(tempo)
        self.focus_plan = focus_plan
        self.mode = CoachMode(mode)
        self.settings = settings or CoachSettings()
        self.planned_reps = planned_reps
        self.library = library or cue_library()
        self.calls = self.library.calls_for(self.exercise)
        self.scheduler = CueScheduler(self.settings.output_latency_s, self.settings.lookahead_s)
        self.corrections = CorrectionPlanner(
            self.exercise, self.tempo, self.library, self.settings.report, planned_reps
        )
        self._anchor: _Anchor | None = None
        self._now_s = -math.inf
        self.spoken: list[Cue] = []

    # ------------------------------------------------------------ inputs

    def start(self, now_s: float) -> list[Cue]:
        """The line before the set (spoken modes only)."""
        self._now_s = max(self._now_s, now_s)
        if self.mode.speaks_lines:
            name = self.exercise.name
            tempo = spoken_tempo(self.tempo)
            if self.planned_reps:
                text = self.library.lines.start[0].format(exercise=name, reps=self.planned_reps, tempo=tempo)
            else:
                text = self.library.lines.start_open[0].format(exercise=name, tempo=tempo)
            self._offer(now_s, text, "start", None, 0, math.inf, "start")
        return self.tick(now_s)

    def finish(self, now_s: float) -> list[Cue]:
        """The set is over: withdraw predictions, say the end line."""
        self._now_s = max(self._now_s, now_s)
        self.scheduler.cancel(lambda c: c.kind not in ("start", "end"))
        self._anchor = None
        if self.mode.speaks_lines:
            self._offer(now_s, self.library.lines.end[0], "end", None, 0, math.inf, "end")
        return self.tick(now_s)

    def on_event(self, event: PhaseEvent) -> list[Cue]:
        self._now_s = max(self._now_s, event.detected_s)
        if event.kind == "phase" and event.phase is not None:
            self._anchor = _Anchor(event.rep_index, event.phase, event.start_s)
        elif event.kind == "rep" and event.rep is not None:
            self.corrections.on_rep(event.rep)
        if self._anchor is not None:
            self._lay_out(self._anchor)
        return self.tick(event.detected_s)

    def tick(self, now_s: float) -> list[Cue]:
        """Cues to hand to the player now (each says when it must be heard)."""
        self._now_s = max(self._now_s, now_s)
        released = self.scheduler.release(self._now_s)
        for cue in released:
            if cue.kind == "correction":
                self.corrections.spoken(cue.text, cue.rep_index)
        self.spoken.extend(released)
        return released

    # ------------------------------------------------------------ layout

    def _lay_out(self, anchor: _Anchor) -> None:
        """Withdraw pending in-set cues and lay them out again from the latest real phase start."""
        self.scheduler.cancel(lambda c: c.kind not in ("start", "end", "summary"))
        if self.planned_reps is not None and anchor.rep_index > self.planned_reps:
            return  # the set is done: a movement after it is most likely the walk back to the rack
        order = self.exercise.phase_order
        rep, i, t_s = anchor.rep_index, order.index(anchor.phase), anchor.start_s
        while True:
            phase = order[i]
            target_s = self.tempo.target_s(phase)
            next_rep = rep != anchor.rep_index
            if target_s is None or target_s > 0:
                predicted = (rep, phase) != (anchor.rep_index, anchor.phase)
                self._phase_cues(rep, phase, t_s, target_s, predicted=predicted, next_rep=next_rep)
            if target_s is None or next_rep:
                break
            t_s += target_s
            i += 1
            if i == len(order):
                i, rep = 0, rep + 1
                if self.planned_reps is not None and rep > self.planned_reps:
                    break

    def _phase_cues(
        self,
        rep: int,
        phase: Phase,
        start_s: float,
        target_s: float | None,
        *,
        predicted: bool,
        next_rep: bool,
    ) -> None:
        """Call, correction and focus at a phase's (real or predicted) start; counts only once it is real."""
        explosive = target_s is None
        call = self.calls.call(phase, explosive)
        slack = self.settings
        if self.mode.speaks_calls:
            self._offer(
                start_s, call, "phase_call", phase, rep, start_s + slack.call_slack_s, f"{rep}:{phase}:call"
            )
        elif self.mode is CoachMode.TONES:
            self._tone(
                start_s,
                PHASE_CALL_TONE_HZ[phase],
                "phase_call",
                phase,
                rep,
                start_s + slack.call_slack_s,
                f"{rep}:{phase}:call",
            )
        correction = self.corrections.pending
        if correction is not None and self.mode.speaks_calls:
            self._place_correction(correction, rep, phase, start_s)
        if next_rep:
            return
        if self.mode.speaks_focus:
            self._place_focus(rep, phase, start_s)
        if predicted:
            return  # counts follow the lifter: laid out when the phase is seen to start
        whole_s = 0 if target_s is None else math.ceil(target_s - 1e-9)
        for k in range(1, whole_s):
            at_s = start_s + k
            slot = f"{rep}:{phase}:count{k + 1}"
            word = self.library.count(k + 1)
            if self.mode.speaks_counts and word is not None:
                self._offer(at_s, word, "count", phase, rep, at_s + slack.count_slack_s, slot)
            elif self.mode.has_tones:
                self._tone(at_s, COUNT_TONE_HZ, "count", phase, rep, at_s + slack.count_slack_s, slot)

    def _has_room(self, phase: Phase, text: str) -> bool:
        target_s = self.tempo.target_s(phase)
        call_s = self._duration(self.calls.call(phase))
        return target_s is not None and target_s >= call_s + self._duration(text)

    def _place_correction(
        self, correction: PendingCorrection, rep: int, phase: Phase, start_s: float
    ) -> None:
        """Said at the first phase of the target rep, up to the one it is about, that has room for it."""
        if correction.rep_index != rep:
            return
        order = self.exercise.phase_order
        if order.index(phase) > order.index(correction.phase):
            return
        if phase is not correction.phase and not self._has_room(phase, correction.text):
            return
        expires_s = start_s + self.settings.correction_slack_s
        self._offer(start_s, correction.text, "correction", phase, rep, expires_s, f"{rep}:correction")

    def _place_focus(self, rep: int, phase: Phase, start_s: float) -> None:
        every = max(1, self.settings.focus_every_reps)
        if (rep - 1) % every != 0:
            return
        focus_number = (rep - 1) // every
        about = (Phase.ECCENTRIC, Phase.CONCENTRIC)[focus_number % 2]
        text = self.focus_text(about, focus_number)
        said_in = about if about is Phase.ECCENTRIC or self._has_room(about, text) else Phase.ECCENTRIC
        if phase is said_in:
            self._offer(
                start_s, text, "focus", phase, rep, start_s + self.settings.focus_slack_s, f"{rep}:focus"
            )

    def focus_text(self, phase: Phase, variant: int = 0) -> str:
        kind = self.focus_plan.for_phase(phase).kind
        options = self.library.focus_cues(self.exercise, kind, phase)
        return options[variant // 2 % len(options)]

    # ------------------------------------------------------------ cue construction

    def _duration(self, text: str) -> float:
        measured = self.phrase_durations_s.get(text)
        if measured is not None:
            return measured + self.settings.pad_s
        return speech_duration_s(text, self.settings.speech_rate_wpm, self.settings.pad_s)

    def _offer(
        self,
        at_s: float,
        text: str,
        kind: CueKind,
        phase: Phase | None,
        rep: int,
        expires_s: float,
        slot: str,
    ) -> None:
        cue = Cue(
            at_s=at_s,
            text=text,
            kind=kind,
            priority=PRIORITY[kind],
            phase=phase,
            rep_index=rep,
            expires_s=expires_s,
            duration_s=self._duration(text),
            slot=slot,
        )
        self.scheduler.offer(cue, self._now_s)

    def _tone(
        self, at_s: float, tone_hz: float, role: str, phase: Phase, rep: int, expires_s: float, slot: str
    ) -> None:
        cue = Cue(
            at_s=at_s,
            text="",
            kind="tone",
            priority=PRIORITY[role],
            phase=phase,
            rep_index=rep,
            tone_hz=tone_hz,
            expires_s=expires_s,
            duration_s=TONE_DURATION_S + 0.05,
            slot=slot,
        )
        self.scheduler.offer(cue, self._now_s)


def phrases_for_set(
    exercise: Exercise | str,
    tempo: TempoCode | str,
    focus_plan: FocusPlan,
    mode: CoachMode | str = CoachMode.VOICE,
    *,
    planned_reps: int | None = None,
    library: CueLibrary | None = None,
) -> set[str]:
    """Every phrase a set may speak (the post-set summary aside), so the audio layer can pre-render."""
    coach = LiveCoach(exercise, tempo, focus_plan, mode, planned_reps=planned_reps, library=library)
    lib, ex, code, how = coach.library, coach.exercise, coach.tempo, coach.mode
    phrases: set[str] = set()
    for phase in Phase:
        target_s = code.target_s(phase)
        if target_s == 0:
            continue
        if how.speaks_calls:
            phrases.add(coach.calls.call(phase, target_s is None))
        if how.speaks_counts and target_s is not None:
            phrases.update(w for k in range(2, math.ceil(target_s - 1e-9) + 1) if (w := lib.count(k)))
    if how.speaks_focus:
        for phase in (Phase.ECCENTRIC, Phase.CONCENTRIC):
            phrases.update(lib.focus_cues(ex, focus_plan.for_phase(phase).kind, phase))
    if how.speaks_calls:
        phrases.update(lib.all_corrections(ex))
    if how.speaks_lines:
        for cue in coach.start(0.0) + coach.finish(0.0):
            phrases.add(cue.text)
    return phrases


__all__ = [
    "CoachMode",
    "CoachSettings",
    "Cue",
    "LiveCoach",
    "phrases_for_set",
    "post_set_summary",
]
