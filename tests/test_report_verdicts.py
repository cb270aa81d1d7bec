"""Per-phase verdicts: tolerance edges, explosive phases, 0-s and skipped pauses, absent phases."""

from __future__ import annotations

import pytest

from tempocoach.coach.report import ReportSettings, build_report, judge_phase
from tempocoach.errors import TempoCodeError
from tempocoach.events import Phase, PhaseSpan, Rep, SetRecord

DEFAULT = ReportSettings()


def rep_from(index: int, start_s: float, durations: list[tuple[Phase, float]]) -> Rep:
    spans, t = [], start_s
    for phase, duration_s in durations:
        spans.append(PhaseSpan(phase, t, t + duration_s))
        t += duration_s
    return Rep(index, tuple(spans))


@pytest.mark.parametrize(
    ("duration_s", "verdict"),
    [
        (3.0, "ok"),
        (2.4, "ok"),  # exactly 20% of 3 s short: inside
        (3.6, "ok"),
        (2.39, "too fast"),
        (3.61, "too slow"),
    ],
)
def test_timed_phase_tolerance_is_twenty_percent_of_a_long_target(duration_s: float, verdict: str) -> None:
    assert judge_phase(Phase.ECCENTRIC, duration_s, 3.0, DEFAULT) == verdict


@pytest.mark.parametrize(
    ("duration_s", "verdict"), [(0.75, "ok"), (1.25, "ok"), (0.74, "too fast"), (1.26, "too slow")]
)
def test_short_target_uses_the_quarter_second_floor(duration_s: float, verdict: str) -> None:
    assert judge_phase(Phase.CONCENTRIC, duration_s, 1.0, DEFAULT) == verdict


def test_tolerance_settings_change_the_edges() -> None:
    strict = ReportSettings(tolerance_min_s=0.1, tolerance_fraction=0.05)
    assert strict.tolerance_s(3.0) == pytest.approx(0.15)
    assert judge_phase(Phase.ECCENTRIC, 2.8, 3.0, strict) == "too fast"
    assert judge_phase(Phase.ECCENTRIC, 2.8, 3.0, DEFAULT) == "ok"


@pytest.mark.parametrize(
    ("duration_s", "verdict"), [(0.3, "ok"), (1.2, "ok"), (1.21, "too slow"), (4.0, "too slow")]
)
def test_explosive_phase_is_ok_unless_slower_than_the_limit(duration_s: float, verdict: str) -> None:
    assert judge_phase(Phase.CONCENTRIC, duration_s, None, DEFAULT) == verdict


def test_explosive_limit_is_a_setting() -> None:
    assert judge_phase(Phase.CONCENTRIC, 1.0, None, ReportSettings(explosive_limit_s=0.8)) == "too slow"


@pytest.mark.parametrize(
    ("duration_s", "verdict"), [(0.0, "ok"), (0.25, "ok"), (0.26, "too slow"), (1.5, "too slow")]
)
def test_zero_second_pause_flags_lingering(duration_s: float, verdict: str) -> None:
    assert judge_phase(Phase.TOP_PAUSE, duration_s, 0.0, DEFAULT) == verdict


@pytest.mark.parametrize(
    ("target_s", "duration_s", "verdict"),
    [
        (1.0, 0.29, "pause skipped"),  # under 30% of target
        (1.0, 0.30, "too fast"),  # held long enough to count, still short
        (1.0, 0.75, "ok"),
        (0.4, 0.14, "pause skipped"),  # under the 0.15 s floor (30% would be 0.12 s)
        (0.4, 0.15, "ok"),  # 0.25 s tolerance of 0.4 s
        (2.0, 0.0, "pause skipped"),
        (2.0, 1.0, "too fast"),
        (2.0, 2.5, "too slow"),
    ],
)
def test_pause_with_a_target_is_skipped_when_barely_held(
    target_s: float, duration_s: float, verdict: str
) -> None:
    assert judge_phase(Phase.BOTTOM_PAUSE, duration_s, target_s, DEFAULT) == verdict


def test_short_movement_phase_is_too_fast_not_skipped() -> None:
    # "pause skipped" is only for pauses; a rushed eccentric is just too fast.
    assert judge_phase(Phase.ECCENTRIC, 0.1, 3.0, DEFAULT) == "too fast"


def test_build_report_judges_every_phase_of_every_rep() -> None:
    reps = [
        rep_from(1, 1.0, [(Phase.ECCENTRIC, 3.1), (Phase.BOTTOM_PAUSE, 1.0), (Phase.CONCENTRIC, 0.7)]),
        rep_from(2, 7.0, [(Phase.ECCENTRIC, 1.9), (Phase.BOTTOM_PAUSE, 0.1), (Phase.CONCENTRIC, 1.6)]),
    ]
    report = build_report(SetRecord("back-squat", "3-1-X-0", "bar", reps))
    assert report.tempo == "31X0"
    verdicts = [[(p.name.value, p.verdict) for p in rep.phases] for rep in report.reps]
    assert verdicts == [
        [("eccentric", "ok"), ("bottom_pause", "ok"), ("concentric", "ok"), ("top_pause", "ok")],
        [
            ("eccentric", "too fast"),
            ("bottom_pause", "pause skipped"),
            ("concentric", "too slow"),
            ("top_pause", "ok"),
        ],
    ]
    concentric = report.reps[0].phase(Phase.CONCENTRIC)
    assert concentric is not None and concentric.explosive and concentric.target_s is None


def test_absent_pause_is_placed_where_it_belongs_and_judged() -> None:
    # Concentric-first lift (deadlift): concentric, top pause, eccentric, bottom pause.
    rep = rep_from(1, 2.0, [(Phase.CONCENTRIC, 1.0), (Phase.ECCENTRIC, 2.0)])
    report = build_report(SetRecord("deadlift", "2120", "bar", [rep]))
    phases = report.reps[0].phases
    assert [p.name.value for p in phases] == ["concentric", "top_pause", "eccentric", "bottom_pause"]
    top, bottom = phases[1], phases[3]
    assert (top.start_s, top.end_s, top.verdict) == (3.0, 3.0, "ok")
    assert (bottom.start_s, bottom.duration_s, bottom.verdict) == (5.0, 0.0, "pause skipped")
    assert report.reps[0].start_s == 2.0 and report.reps[0].end_s == 5.0


def test_unknown_exercise_takes_the_phase_order_from_the_reps() -> None:
    rep = rep_from(1, 0.0, [(Phase.CONCENTRIC, 1.0), (Phase.TOP_PAUSE, 0.5), (Phase.ECCENTRIC, 2.0)])
    report = build_report(SetRecord("garage-contraption", "2110", "wrist", [rep]))
    assert [p.name.value for p in report.reps[0].phases] == [
        "concentric",
        "top_pause",
        "eccentric",
        "bottom_pause",
    ]
    assert report.summary_text.startswith("1 rep of garage contraption")


def test_bad_tempo_in_record_raises_a_tempocoach_error() -> None:
    with pytest.raises(TempoCodeError, match="set record"):
        build_report(SetRecord("back-squat", "3Q1X", "bar", []))
