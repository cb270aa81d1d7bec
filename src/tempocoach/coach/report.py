"""Post-set adherence report: per rep and phase, actual vs target duration and a verdict.

Pure: takes a SetRecord, returns a SetReport (data, text, JSON-ready dict). Files are written by
the caller; the table and figure live in report_render.py.

Verdicts (see ReportSettings for the numbers):
- a timed phase (target > 0) is "ok" within max(0.25 s, 20% of target) of the target, else
  "too fast" (shorter) or "too slow" (longer);
- a pause with target > 0 held for less than 30% of its target or less than 0.15 s is
  "pause skipped" (checked before the tolerance);
- an explosive (X) phase is "ok" unless it took longer than explosive_limit_s ("too slow");
- a 0-s target is "ok" when at most the tolerance long, else "too slow" (the lifter lingered).
A phase absent from a rep counts as zero-length, so a skipped 1-s pause is reported as skipped.

Time under tension is the sum of every phase of every rep, pauses included, so it equals the time
from the first rep's start to the last rep's end when reps follow each other. Top pauses count by
default (they are part of the prescribed tempo); ReportSettings.top_pause_in_tut=False leaves
them out for lifters who rest at lockout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tempocoach.errors import CatalogError, TempoCodeError
from tempocoach.events import CONCENTRIC_FIRST, ECCENTRIC_FIRST, Phase, PhaseSpan, Rep, SetRecord
from tempocoach.exercises import get_exercise
from tempocoach.tempo import TempoCode, parse_tempo

Verdict = Literal["ok", "too fast", "too slow", "pause skipped"]
VERDICTS: tuple[Verdict, ...] = ("ok", "too fast", "too slow", "pause skipped")
PAUSES = (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE)
# Float slack so a duration exactly at the tolerance edge counts as inside it.
_EDGE_S = 1e-9
# Phases shorter than this on average are left out of the consistency score (CV of ~0 is noise).
_MIN_MEAN_FOR_CV_S = 0.15

PHASE_PLURALS = {
    Phase.ECCENTRIC: "eccentrics",
    Phase.BOTTOM_PAUSE: "bottom pauses",
    Phase.CONCENTRIC: "concentrics",
    Phase.TOP_PAUSE: "top pauses",
}


@dataclass(frozen=True)
class ReportSettings:
    """How strictly the report judges a phase."""

    tolerance_min_s: float = 0.25
    tolerance_fraction: float = 0.20
    explosive_limit_s: float = 1.2
    pause_skip_fraction: float = 0.30
    pause_skip_min_s: float = 0.15
    top_pause_in_tut: bool = True
    well_kept_adherence: float = 0.85

    def tolerance_s(self, target_s: float) -> float:
        return max(self.tolerance_min_s, self.tolerance_fraction * target_s)


def judge_phase(phase: Phase, duration_s: float, target_s: float | None, settings: ReportSettings) -> Verdict:
    """The verdict for one phase; target None means explosive (X)."""
    if target_s is None:
        return "too slow" if duration_s > settings.explosive_limit_s + _EDGE_S else "ok"
    if phase in PAUSES and target_s > 0:
        skip_below_s = max(settings.pause_skip_fraction * target_s, settings.pause_skip_min_s)
        if duration_s < skip_below_s - _EDGE_S:
            return "pause skipped"
    error_s = duration_s - target_s
    if abs(error_s) <= settings.tolerance_s(target_s) + _EDGE_S:
        return "ok"
    return "too fast" if error_s < 0 else "too slow"


@dataclass(frozen=True)
class PhaseReport:
    name: Phase
    start_s: float
    end_s: float
    duration_s: float
    target_s: float | None
    explosive: bool
    verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


@dataclass(frozen=True)
class RepReport:
    index: int
    start_s: float
    end_s: float
    phases: list[PhaseReport]
    set_number: int = 1  # a recording that held several sets: which one

    def phase(self, name: Phase) -> PhaseReport | None:
        return next((p for p in self.phases if p.name is name), None)


@dataclass(frozen=True)
class SetSummary:
    """Set-level scores.

    adherence: share of phases judged "ok", over every phase with a target (X phases count).
    consistency: 1 - mean coefficient of variation (population std / mean) of each timed phase's
    duration across reps, clipped to [0, 1]. Timed phases are those with a target > 0 whose mean
    is at least 0.15 s; for an all-X/0 tempo every phase averaging 0.15 s or more is used. None when
    fewer than two reps or no phase qualifies. mean_duration_s / target_s are keyed by phase name.
    """

    reps: int
    adherence: float
    time_under_tension_s: float
    consistency: float | None
    mean_duration_s: dict[str, float]
    target_s: dict[str, float | None]
    main_deviation: str


@dataclass(frozen=True)
class SetReport:
    exercise: str
    tempo: str
    placement: str
    reps: list[RepReport]
    summary: SetSummary
    summary_text: str
    transcript: list[tuple[float, str]] = field(default_factory=list)
    source: str = ""
    settings: ReportSettings = field(default_factory=ReportSettings)

    @property
    def sets(self) -> int:
        """How many sets the recording held (analyze reads a whole session as several)."""
        return set_count(self.reps)

    def phase_order(self) -> tuple[Phase, ...]:
        first = self.reps[0].phases[0].name if self.reps and self.reps[0].phases else None
        return _phase_order(self.exercise, first)

    def to_json(self) -> dict[str, Any]:
        """The Analysis JSON of DESIGN.md (times in s, 3 decimals); see report_json."""
        from tempocoach.coach.report_json import report_to_json

        return report_to_json(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> SetReport:
        from tempocoach.coach.report_json import report_from_json

        return report_from_json(data)


def from_json(data: dict[str, Any]) -> SetReport:
    """Re-read a report written by SetReport.to_json (the logbook and history use this)."""
    return SetReport.from_json(data)


def build_report(record: SetRecord, settings: ReportSettings | None = None) -> SetReport:
    settings = settings or ReportSettings()
    tempo = _parse_record_tempo(record.tempo)
    first = record.reps[0].phases[0].phase if record.reps and record.reps[0].phases else None
    order = _phase_order(record.exercise, first)
    reps = [_rep_report(rep, order, tempo, settings) for rep in record.reps]
    summary = summarize(reps, order, tempo, settings)
    return SetReport(
        exercise=record.exercise,
        tempo=str(tempo),
        placement=record.placement,
        reps=reps,
        summary=summary,
        summary_text=summary_sentences(record.exercise, reps, order, tempo, summary, settings),
        transcript=[(float(t), str(text)) for t, text in record.transcript],
        source=record.source,
        settings=settings,
    )


def _parse_record_tempo(code: str) -> TempoCode:
    try:
        return parse_tempo(code)
    except TempoCodeError as exc:
        raise TempoCodeError(f"set record: {exc}; record the set with a valid --tempo") from exc


def _phase_order(exercise: str, first_phase: Phase | None) -> tuple[Phase, ...]:
    """The exercise's phase order; for an unknown exercise, guess from the phase reps start with."""
    try:
        return get_exercise(exercise).phase_order
    except CatalogError:
        concentric_first = first_phase in (Phase.CONCENTRIC, Phase.TOP_PAUSE)
        return CONCENTRIC_FIRST if concentric_first else ECCENTRIC_FIRST


def _rep_report(rep: Rep, order: tuple[Phase, ...], tempo: TempoCode, settings: ReportSettings) -> RepReport:
    spans = list(rep.phases)
    present = {s.phase for s in spans}
    if spans:
        # A missing phase becomes a zero-length span where it should have been.
        cursor_s = spans[0].start_s
        for phase in order:
            span = next((s for s in spans if s.phase is phase), None)
            if span is None:
                spans.append(PhaseSpan(phase, cursor_s, cursor_s))
            else:
                cursor_s = span.end_s
    rank = {phase: i for i, phase in enumerate(order)}
    spans.sort(key=lambda s: (s.start_s, s.phase in present, rank[s.phase]))
    phases = [_phase_report(s, tempo, settings) for s in spans]
    start_s = phases[0].start_s if phases else 0.0
    end_s = phases[-1].end_s if phases else 0.0
    return RepReport(index=rep.index, start_s=start_s, end_s=end_s, phases=phases,
                     set_number=rep.set_number)


def _phase_report(span: PhaseSpan, tempo: TempoCode, settings: ReportSettings) -> PhaseReport:
    target_s = tempo.target_s(span.phase)
    duration_s = max(0.0, span.duration_s)
    return PhaseReport(
        name=span.phase,
        start_s=span.start_s,
        end_s=span.end_s,
        duration_s=duration_s,
        target_s=target_s,
        explosive=target_s is None,
        verdict=judge_phase(span.phase, duration_s, target_s, settings),
    )


def phases_by_name(reps: list[RepReport], order: tuple[Phase, ...]) -> dict[Phase, list[PhaseReport]]:
    grouped: dict[Phase, list[PhaseReport]] = {phase: [] for phase in order}
    for rep in reps:
        for p in rep.phases:
            grouped.setdefault(p.name, []).append(p)
    return grouped


def summarize(
    reps: list[RepReport], order: tuple[Phase, ...], tempo: TempoCode, settings: ReportSettings
) -> SetSummary:
    grouped = phases_by_name(reps, order)
    all_phases = [p for rep in reps for p in rep.phases]
    adherence = sum(p.ok for p in all_phases) / len(all_phases) if all_phases else 0.0
    tut_s = sum(
        p.duration_s for p in all_phases if settings.top_pause_in_tut or p.name is not Phase.TOP_PAUSE
    )
    return SetSummary(
        reps=len(reps),
        adherence=adherence,
        time_under_tension_s=tut_s,
        consistency=_consistency(grouped, tempo, len(reps)),
        mean_duration_s={p.value: float(np.mean([x.duration_s for x in g])) for p, g in grouped.items() if g},
        target_s={p.value: tempo.target_s(p) for p in grouped},
        main_deviation=describe_main_deviation(grouped, adherence, settings),
    )


def _consistency(grouped: dict[Phase, list[PhaseReport]], tempo: TempoCode, rep_count: int) -> float | None:
    if rep_count < 2:
        return None
    means = {p: float(np.mean([x.duration_s for x in g])) for p, g in grouped.items() if len(g) >= 2}
    usable = [p for p, m in means.items() if m >= _MIN_MEAN_FOR_CV_S]
    timed = [p for p in usable if (tempo.target_s(p) or 0.0) > 0]
    chosen = timed or usable
    if not chosen:
        return None
    cvs = [float(np.std([x.duration_s for x in grouped[p]])) / means[p] for p in chosen]
    return float(np.clip(1.0 - float(np.mean(cvs)), 0.0, 1.0))


def format_seconds(value_s: float) -> str:
    """3.0 -> "3", 2.14 -> "2.1": how a coach would say it."""
    text = f"{value_s:.1f}"
    return text[:-2] if text.endswith(".0") else text


def set_count(reps: list[RepReport]) -> int:
    """How many sets these reps came from (1 unless a recording held several)."""
    return max((rep.set_number for rep in reps), default=1)


def amount(value_s: float, unit: str) -> str:
    """format_seconds with its unit: "1.4 seconds", "1 second", "3 s"."""
    text = format_seconds(value_s)
    return f"{text}{unit[:-1]}" if text == "1" and unit.endswith("seconds") else f"{text}{unit}"


def on_reps(count: int, total: int) -> str:
    """'on 4 of 6 reps', 'on all 6 reps', 'on both reps', 'on the one rep'."""
    if count != total:
        return f"on {count} of {total} reps"
    return {1: "on the one rep", 2: "on both reps"}.get(total, f"on all {total} reps")


def describe_main_deviation(
    grouped: dict[Phase, list[PhaseReport]], adherence: float, settings: ReportSettings, unit: str = " s"
) -> str:
    """The single most telling deviation of the set, in plain words."""
    phases = {p: g for p, g in grouped.items() if g}
    if not phases:
        return "no reps were detected"
    on_target = f"{round(100 * adherence)}% of phases on target"
    worst, reports = max(phases.items(), key=lambda item: _severity(item[1], settings))
    bad = [r for r in reports if not r.ok]
    if not bad or adherence >= settings.well_kept_adherence:
        return f"tempo kept well: {on_target}"
    n, k = len(reports), len(bad)
    plural = PHASE_PLURALS[worst]
    mean_s = float(np.mean([r.duration_s for r in reports]))
    target_s = reports[0].target_s
    if target_s is None:
        limit = amount(settings.explosive_limit_s, unit)
        return (
            f"{plural} were not explosive {on_reps(k, n)}: "
            f"{amount(mean_s, unit)} on average against a {limit} limit"
        )
    skipped = sum(r.verdict == "pause skipped" for r in reports)
    if skipped * 2 >= k:
        return f"{plural} were skipped {on_reps(skipped, n)}"
    if target_s == 0:
        return (
            f"{plural} lingered {on_reps(k, n)}, {amount(mean_s, unit)} on average "
            "where the tempo has none"
        )
    fast = sum(r.verdict == "too fast" for r in reports)
    slow = sum(r.verdict == "too slow" for r in reports)
    if abs(mean_s - target_s) > settings.tolerance_s(target_s):
        off = fast if mean_s < target_s else slow
        return (
            f"{plural} averaged {amount(mean_s, unit)} against {amount(target_s, unit)}, "
            f"too {'fast' if mean_s < target_s else 'slow'} {on_reps(off, n)}"
        )
    if fast == 0 or slow == 0:
        # Off in one direction on some reps only: say how far those reps were off.
        verdict = "too fast" if slow == 0 else "too slow"
        off_mean_s = float(np.mean([r.duration_s for r in reports if r.verdict == verdict]))
        return (
            f"{plural} were {verdict} {on_reps(k, n)}, {amount(off_mean_s, unit)} "
            f"against {amount(target_s, unit)}"
        )
    return (
        f"{plural} were uneven against {amount(target_s, unit)}: "
        f"{fast} too fast and {slow} too slow of {n} reps"
    )


def _severity(reports: list[PhaseReport], settings: ReportSettings) -> tuple[int, float]:
    """Most off-target reps first; ties go to the larger mean error relative to the tolerance."""
    bad = sum(not r.ok for r in reports)
    target_s = reports[0].target_s
    mean_s = float(np.mean([r.duration_s for r in reports]))
    if target_s is None:
        error = max(0.0, mean_s - settings.explosive_limit_s) / settings.tolerance_min_s
    else:
        error = abs(mean_s - target_s) / settings.tolerance_s(target_s)
    return bad, error


def summary_sentences(
    exercise: str,
    reps: list[RepReport],
    order: tuple[Phase, ...],
    tempo: TempoCode,
    summary: SetSummary,
    settings: ReportSettings,
) -> str:
    """Two or three plain sentences, written to be read aloud as well as printed."""
    if not reps:
        return "No reps were detected in this set."
    name = exercise_display_name(exercise).lower()
    rep_word = "rep" if len(reps) == 1 else "reps"
    sets = set_count(reps)
    over_sets = f" over {sets} sets" if sets > 1 else ""
    first = (
        f"{len(reps)} {rep_word} of {name}{over_sets}, "
        f"{round(100 * summary.adherence)}% of phases on target, "
        f"{amount(summary.time_under_tension_s, ' seconds')} under tension."
    )
    deviation = describe_main_deviation(phases_by_name(reps, order), summary.adherence, settings, " seconds")
    if deviation.startswith("tempo kept well"):
        deviation = "tempo kept well"  # the first sentence already gives the share on target
    sentences = [first, deviation[0].upper() + deviation[1:] + "."]
    if summary.consistency is not None:
        sentences.append(_consistency_sentence(summary.consistency))
    return " ".join(sentences)


def _consistency_sentence(consistency: float) -> str:
    percent = round(100 * consistency)
    if consistency >= 0.9:
        return f"Rep to rep the timing was very consistent ({percent}%)."
    if consistency >= 0.75:
        return f"Rep to rep the timing was fairly consistent ({percent}%)."
    return f"The timing changed a lot from rep to rep ({percent}% consistency)."


def exercise_display_name(exercise: str) -> str:
    """The catalogue's name ("Back squat"), or the id made readable for an unknown exercise."""
    try:
        return get_exercise(exercise).name
    except CatalogError:
        text = exercise.replace("-", " ").replace("_", " ")
        return text[:1].upper() + text[1:]
