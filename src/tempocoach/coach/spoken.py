"""Words built from data: the tempo read aloud and the short spoken summary after a set."""

from __future__ import annotations

from collections import Counter

from tempocoach.coach.cues import CueLibrary, Deviation, cue_library
from tempocoach.coach.report import PhaseReport, SetReport
from tempocoach.errors import CatalogError
from tempocoach.events import Phase
from tempocoach.exercises import get_exercise
from tempocoach.tempo import TempoCode

_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
# Below this adherence the tempo "drifted"; from the report's well_kept_adherence up it was on point.
MIXED_ADHERENCE = 0.6


def spoken_tempo(tempo: TempoCode) -> str:
    """'31X0' -> 'three one X zero' (numbers past ten as digits)."""
    words = []
    for phase in Phase:
        target = tempo.target_s(phase)
        if target is None:
            words.append("X")
        elif float(target).is_integer() and target <= 10:
            words.append(_DIGITS[int(target)])
        else:
            words.append(f"{target:g}")
    return " ".join(words)


def post_set_summary(report: SetReport, library: CueLibrary | None = None) -> str:
    """Reps, how the tempo went, and one thing to fix (or none), in a few spoken sentences."""
    lib = library or cue_library()
    templates = lib.summary
    summary = report.summary
    if summary.reps == 0:
        return templates.no_reps
    parts = [templates.one_rep if summary.reps == 1 else templates.reps.format(reps=summary.reps)]
    well_kept = report.settings.well_kept_adherence
    if summary.adherence >= well_kept:
        parts.append(templates.tempo_good)
    elif summary.adherence >= MIXED_ADHERENCE:
        parts.append(templates.tempo_mixed)
    else:
        parts.append(templates.tempo_poor)
    fix = None if summary.adherence >= well_kept else _one_fix(report, lib)
    parts.append(templates.fix.format(fix=fix) if fix else templates.no_fix)
    return " ".join(parts)


def _one_fix(report: SetReport, library: CueLibrary) -> str | None:
    """The correction phrase for the phase that was off on the most reps (ties: the larger error)."""
    bad: dict[Phase, list[PhaseReport]] = {}
    for rep in report.reps:
        for phase_report in rep.phases:
            if not phase_report.ok:
                bad.setdefault(phase_report.name, []).append(phase_report)
    if not bad:
        return None
    tolerance = report.settings.tolerance_s

    def weight(item: tuple[Phase, list[PhaseReport]]) -> tuple[int, float]:
        errors = [abs(p.duration_s - (p.target_s or 0.0)) / tolerance(p.target_s or 0.0) for p in item[1]]
        return len(item[1]), sum(errors) / len(errors)

    phase, reports = max(bad.items(), key=weight)
    verdict = Counter(p.verdict for p in reports).most_common(1)[0][0]
    slow = verdict == "too slow"
    pause = phase in (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE)
    deviation: Deviation = ("long" if slow else "short") if pause else ("slow" if slow else "fast")
    try:
        exercise = get_exercise(report.exercise)
    except CatalogError:
        return None
    return library.correction(exercise, phase, deviation)
