"""Set-level scores, wording of the main deviation, and the Analysis JSON contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tempocoach.coach.report import ReportSettings, SetReport, build_report, from_json
from tempocoach.errors import DataFormatError
from tempocoach.events import Phase, PhaseSpan, Rep, SetRecord

E, B, C, T = Phase.ECCENTRIC, Phase.BOTTOM_PAUSE, Phase.CONCENTRIC, Phase.TOP_PAUSE


def squat_set(per_rep: list[dict[Phase, float]], tempo: str = "31X0", rest_s: float = 0.8) -> SetRecord:
    """Eccentric-first reps with the given phase durations, separated by rest."""
    reps, t = [], 1.0
    for index, durations in enumerate(per_rep, start=1):
        spans = []
        for phase in (E, B, C, T):
            if phase in durations:
                spans.append(PhaseSpan(phase, t, t + durations[phase]))
                t += durations[phase]
        reps.append(Rep(index, tuple(spans)))
        t += rest_s
    return SetRecord("back-squat", tempo, "bar", reps)


def test_adherence_counts_ok_phases_over_all_phases_including_x_and_zero_pauses() -> None:
    record = squat_set(
        [
            {E: 3.0, B: 1.0, C: 0.6},  # 4 ok (absent 0-s top pause is ok)
            {E: 2.0, B: 1.0, C: 0.6, T: 0.2},  # eccentric too fast: 3 ok
            {E: 3.0, B: 0.1, C: 1.5, T: 0.9},  # skipped, too slow X, lingered: 1 ok
        ]
    )
    summary = build_report(record).summary
    assert summary.reps == 3
    assert summary.adherence == pytest.approx(8 / 12)


def test_time_under_tension_sums_phases_and_leaves_out_rest_between_reps() -> None:
    record = squat_set([{E: 3.0, B: 1.0, C: 0.5, T: 0.5}] * 4, rest_s=2.0)
    assert build_report(record).summary.time_under_tension_s == pytest.approx(4 * 5.0)
    without_top = build_report(record, ReportSettings(top_pause_in_tut=False)).summary
    assert without_top.time_under_tension_s == pytest.approx(4 * 4.5)


def test_consistency_is_one_minus_mean_cv_of_timed_phases() -> None:
    eccentrics = [2.0, 3.0, 4.0]
    pauses = [1.0, 1.0, 1.0]
    record = squat_set(
        [{E: e, B: b, C: c} for e, b, c in zip(eccentrics, pauses, [0.4, 0.9, 0.5], strict=True)]
    )
    summary = build_report(record).summary
    cv_eccentric = float(np.std(eccentrics) / np.mean(eccentrics))
    # Only targets > 0 count: the X concentric and the 0-s top pause are left out.
    assert summary.consistency == pytest.approx(1 - (cv_eccentric + 0.0) / 2)


def test_consistency_is_perfect_for_identical_reps_and_undefined_for_one() -> None:
    assert build_report(squat_set([{E: 3.0, B: 1.0, C: 0.5}] * 5)).summary.consistency == pytest.approx(1.0)
    assert build_report(squat_set([{E: 3.0, B: 1.0, C: 0.5}])).summary.consistency is None


def test_consistency_is_clipped_at_zero() -> None:
    record = squat_set([{E: 0.2, B: 1.0}, {E: 9.0, B: 0.2}, {E: 0.2, B: 5.0}])
    assert build_report(record).summary.consistency == 0.0


def test_mean_duration_per_phase_against_target() -> None:
    summary = build_report(squat_set([{E: 2.0, B: 1.0, C: 0.5}, {E: 2.2, B: 0.8, C: 0.7}])).summary
    assert summary.mean_duration_s == pytest.approx(
        {"eccentric": 2.1, "bottom_pause": 0.9, "concentric": 0.6, "top_pause": 0.0}
    )
    assert summary.target_s == {"eccentric": 3.0, "bottom_pause": 1.0, "concentric": None, "top_pause": 0.0}


def test_main_deviation_names_rushed_eccentrics() -> None:
    report = build_report(squat_set([{E: 2.1, B: 1.0, C: 0.5}] * 6))
    assert report.summary.main_deviation == "eccentrics averaged 2.1 s against 3 s, too fast on all 6 reps"
    assert "Eccentrics averaged 2.1 seconds against 3 seconds" in report.summary_text


def test_spoken_summary_says_one_second_not_one_seconds() -> None:
    report = build_report(squat_set([{E: 3.0, B: 1.4, C: 0.5}] * 4))
    assert report.summary.main_deviation == "bottom pauses averaged 1.4 s against 1 s, too slow on all 4 reps"
    assert "Bottom pauses averaged 1.4 seconds against 1 second, too slow" in report.summary_text


def test_main_deviation_counts_skipped_pauses() -> None:
    reps = [{E: 3.0, B: 0.05, C: 0.5}] * 4 + [{E: 3.0, B: 1.0, C: 0.5}] * 2
    summary = build_report(squat_set(reps)).summary
    assert summary.main_deviation == "bottom pauses were skipped on 4 of 6 reps"


def test_main_deviation_praises_a_well_kept_set() -> None:
    reps = [{E: 3.0, B: 1.0, C: 0.5}] * 5 + [{E: 2.0, B: 1.0, C: 0.5}]
    summary = build_report(squat_set(reps)).summary
    assert summary.adherence == pytest.approx(23 / 24)
    assert summary.main_deviation == "tempo kept well: 96% of phases on target"


def test_main_deviation_for_slow_explosive_and_lingering_top() -> None:
    slow_x = build_report(squat_set([{E: 3.0, B: 1.0, C: 1.8}] * 3)).summary.main_deviation
    assert slow_x == "concentrics were not explosive on all 3 reps: 1.8 s on average against a 1.2 s limit"
    linger = build_report(squat_set([{E: 3.0, B: 1.0, C: 0.5, T: 1.5}] * 3)).summary.main_deviation
    assert linger == "top pauses lingered on all 3 reps, 1.5 s on average where the tempo has none"


def test_main_deviation_for_uneven_phase_with_a_good_mean() -> None:
    reps = [{E: e, B: 1.0, C: 0.5} for e in (2.0, 4.0, 2.0, 4.0)]
    deviation = build_report(squat_set(reps)).summary.main_deviation
    assert deviation == "eccentrics were uneven against 3 s: 2 too fast and 2 too slow of 4 reps"


def test_empty_set_reports_no_reps() -> None:
    report = build_report(SetRecord("back-squat", "31X0", "bar"))
    assert report.summary.reps == 0 and report.summary.adherence == 0.0
    assert report.summary_text == "No reps were detected in this set."
    assert report.to_json()["reps"] == []


def test_summary_text_is_two_or_three_sentences() -> None:
    text = build_report(squat_set([{E: 3.0, B: 1.0, C: 0.5}] * 3)).summary_text
    assert text.startswith("3 reps of back squat, 100% of phases on target, 13.5 seconds under tension.")
    assert text.count(". ") == 2 and text.endswith(".")


# --- JSON contract ---------------------------------------------------------------------------------


def contract_report() -> SetReport:
    record = squat_set([{E: 3.04321, B: 0.98765, C: 0.51234}, {E: 2.0, B: 0.1, C: 1.5, T: 0.4}])
    record.transcript = [(1.0, "three"), (4.02, "drive")]
    record.source = "set1.csv"
    return build_report(record)


def test_json_follows_the_analysis_contract() -> None:
    data = contract_report().to_json()
    assert {"tempo", "exercise", "placement", "reps", "summary"} <= set(data)
    assert (data["tempo"], data["exercise"], data["placement"]) == ("31X0", "back-squat", "bar")
    rep = data["reps"][0]
    assert set(rep) == {"index", "start", "end", "set", "phases"} and rep["index"] == 1
    eccentric, _bottom, concentric, _top = rep["phases"]
    assert {"name", "start", "end", "duration", "target", "verdict"} <= set(eccentric)
    assert eccentric == {
        "name": "eccentric",
        "start": 1.0,
        "end": 4.043,
        "duration": 3.043,
        "target": 3.0,
        "verdict": "ok",
        "explosive": False,
    }
    assert concentric["target"] is None and concentric["explosive"] is True
    summary = data["summary"]
    assert isinstance(summary["reps"], int) and summary["reps"] == 2
    assert isinstance(summary["adherence"], float) and isinstance(summary["time_under_tension"], float)
    assert summary["time_under_tension"] == pytest.approx(
        3.043 + 0.988 + 0.512 + 2.0 + 0.1 + 1.5 + 0.4, abs=2e-3
    )
    assert data["transcript"] == [[1.0, "three"], [4.02, "drive"]]
    json.dumps(data, allow_nan=False)  # plain JSON types only


def test_json_times_are_rounded_to_milliseconds() -> None:
    data = contract_report().to_json()
    times = [p[k] for rep in data["reps"] for p in rep["phases"] for k in ("start", "end", "duration")]
    assert all(round(t, 3) == t for t in times)


def test_transcript_is_absent_when_the_set_had_none() -> None:
    assert "transcript" not in build_report(squat_set([{E: 3.0}])).to_json()


def test_json_round_trip() -> None:
    original = contract_report()
    data = json.loads(json.dumps(original.to_json()))
    again = from_json(data)
    assert again.to_json() == data
    assert again.summary_text == original.summary_text
    assert [p.verdict for r in again.reps for p in r.phases] == [
        p.verdict for r in original.reps for p in r.phases
    ]
    assert again.reps[1].phases[1].name is Phase.BOTTOM_PAUSE
    assert again.settings == original.settings and again.source == "set1.csv"


def test_from_json_rejects_a_broken_file_with_a_useful_error() -> None:
    data = contract_report().to_json()
    del data["reps"][0]["phases"][0]["duration"]
    with pytest.raises(DataFormatError, match="duration"):
        from_json(data)
    data = contract_report().to_json()
    data["reps"][0]["phases"][0]["verdict"] = "great"
    with pytest.raises(DataFormatError, match="great"):
        from_json(data)


def test_rep_counts_read_naturally() -> None:
    both = build_report(squat_set([{E: 3.0, B: 0.0, C: 0.5}] * 2)).summary.main_deviation
    assert both == "bottom pauses were skipped on both reps"
    one = build_report(squat_set([{E: 3.0, B: 0.0, C: 0.5}])).summary.main_deviation
    assert one == "bottom pauses were skipped on the one rep"
