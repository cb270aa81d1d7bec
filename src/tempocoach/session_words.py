"""What the session says between reps: set announcements, the focus line, hold summaries."""

from __future__ import annotations

from tempocoach.coach.cues import cue_library
from tempocoach.coach.focus import FocusKind, FocusPlan, decide_focus
from tempocoach.events import Phase
from tempocoach.exercises import get_exercise
from tempocoach.plan import PlannedSet
from tempocoach.session_runner import SetRun


def _spoken_tempo(tempo: str) -> str:
    return " ".join("X" if c == "X" else c for c in tempo) if len(tempo) == 4 else tempo


def focus_plan_for(planned: PlannedSet, load_percent: float | None) -> FocusPlan:
    """The coach's focus policy, with the protocol's focus override (mixed: internal down, external up)."""
    plan = planned.plan
    overrides: dict[Phase | str, FocusKind | str] | None = None
    if plan.focus in ("internal", "external"):
        overrides = {phase: plan.focus for phase in Phase}
    elif plan.focus == "mixed":
        overrides = {phase: FocusKind.INTERNAL for phase in Phase}
        overrides[Phase.CONCENTRIC] = FocusKind.EXTERNAL
    return decide_focus(load_percent, plan.exercise, overrides=overrides)


def focus_line(planned: PlannedSet, load_percent: float | None) -> str:
    """One sentence telling the lifter where to put their attention in this set."""
    plan = planned.plan
    if plan.cue:
        return plan.cue
    exercise = get_exercise(plan.exercise)
    focus = focus_plan_for(planned, load_percent)
    library = cue_library()
    if plan.is_timed:  # a hold is one long pause: use the squeeze cue
        hold_kind = focus.for_phase(Phase.TOP_PAUSE).kind
        return _sentence(library.focus_cues(exercise, hold_kind, Phase.TOP_PAUSE)[-1])
    down = library.focus_cues(exercise, focus.for_phase(Phase.ECCENTRIC).kind, Phase.ECCENTRIC)[0]
    up = library.focus_cues(exercise, focus.for_phase(Phase.CONCENTRIC).kind, Phase.CONCENTRIC)[0]
    return f"{_sentence(down)} {_sentence(up)}" if down != up else _sentence(down)


def _sentence(cue: str) -> str:
    cue = cue.strip()
    return cue[:1].upper() + cue[1:] + ("" if cue.endswith((".", "!", "?")) else ".")


def announcement(planned: PlannedSet, total: int, load_text: str | None) -> str:
    plan = planned.plan
    name = get_exercise(plan.exercise).name
    head = f"Set {planned.position + 1} of {total}: {name}"
    if plan.is_timed:
        what = f"{plan.kind.replace('-', ' ')}, hold {plan.duration_s:g} seconds"
    else:
        what = f"{plan.reps} reps, tempo {_spoken_tempo(plan.tempo or '')}"
    load = f", {load_text}" if load_text and load_text != "bodyweight" else ""
    return f"{head}. {what}{load}."


def hold_summary(run: SetRun, duration_s: float) -> str:
    held = f"Held {min(run.hold_s, duration_s):.0f} of {duration_s:g} seconds"
    if not run.moved_s or run.moved_s < 0.1:
        return f"{held}, still throughout."
    return f"{held}; you moved for {run.moved_s:.1f} seconds."
