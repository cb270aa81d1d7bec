"""The report as people see it: the rich table and summary panel, and the PNG figure."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pytest
from matplotlib.image import imread
from rich.console import Console

from tempocoach.coach.report import build_report, from_json
from tempocoach.coach.report_render import render_figure, render_report, render_summary_panel, render_table
from tempocoach.events import MotionFrame, Phase, PhaseSpan, Rep, SetRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def squat_record(reps: int = 5, with_motion: bool = True, unit: str = "m") -> SetRecord:
    """Eccentric-first reps; rep 2 skips its bottom pause; a cosine-shaped motion signal to match."""
    depth = 0.5 if unit == "m" else 1.8
    spans_per_rep, segments, t = [], [], 1.0
    for index in range(1, reps + 1):
        bottom_s = 0.05 if index == 2 else 1.0
        spans = []
        for phase, duration_s, p0, p1 in (
            (Phase.ECCENTRIC, 3.0, 0.0, -depth),
            (Phase.BOTTOM_PAUSE, bottom_s, -depth, -depth),
            (Phase.CONCENTRIC, 0.6, -depth, 0.0),
        ):
            spans.append(PhaseSpan(phase, t, t + duration_s))
            segments.append((t, t + duration_s, p0, p1))
            t += duration_s
        spans_per_rep.append(Rep(index, tuple(spans), depth))
        t += 1.0
    motion = None
    if with_motion:
        t_s = np.arange(0.0, t + 1.0, 0.01)
        position = np.zeros_like(t_s)
        for t0, t1, p0, p1 in segments:
            inside = (t_s >= t0) & (t_s < t1)
            u = (t_s[inside] - t0) / (t1 - t0)
            position[inside] = p0 + (p1 - p0) * (1 - np.cos(np.pi * u)) / 2
        velocity = np.gradient(position, t_s)
        motion = MotionFrame(t_s, position, velocity, np.abs(velocity) < 0.02, unit)
    return SetRecord("back-squat", "31X0", "bar", spans_per_rep, motion=motion)


def printed(renderable: object, width: int = 120) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_table_has_a_row_per_rep_with_verdicts_and_a_mean_row() -> None:
    report = build_report(squat_record(reps=5, with_motion=False))
    text = printed(render_table(report))
    rows = [line for line in text.splitlines() if line.startswith("│")]
    rep_rows = [r for r in rows if r.split("│")[1].strip().isdigit()]
    assert [int(r.split("│")[1]) for r in rep_rows] == [1, 2, 3, 4, 5]
    assert "0.05 skipped" in rep_rows[1] and "3.00 ✓" in rep_rows[0]
    assert any(r.split("│")[1].strip() == "mean" for r in rows)
    assert "Back squat · tempo 31X0" in text and "X (≤1.2 s)" in text


def test_a_recording_of_several_sets_reports_each_rep_with_its_set() -> None:
    record = squat_record(reps=6, with_motion=False)
    record.reps[:] = [replace(rep, set_number=1 if rep.index <= 4 else 2) for rep in record.reps]
    report = build_report(record)
    assert report.sets == 2
    rows = [line.split("│") for line in printed(render_table(report)).splitlines() if line.startswith("│")]
    assert [(int(r[1]), int(r[2])) for r in rows if r[2].strip().isdigit()] == [
        (1, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6)]
    assert report.summary_text.startswith("6 reps of back squat over 2 sets,")
    data = report.to_json()
    assert [rep["set"] for rep in data["reps"]] == [1, 1, 1, 1, 2, 2] and data["summary"]["sets"] == 2
    assert [rep.set_number for rep in from_json(json.loads(json.dumps(data))).reps] == [1, 1, 1, 1, 2, 2]
    one_set = build_report(squat_record(reps=3, with_motion=False))
    assert "Set" not in printed(render_table(one_set)) and " sets" not in one_set.summary_text


def test_summary_panel_shows_scores_and_the_spoken_summary() -> None:
    report = build_report(squat_record(with_motion=False))
    text = printed(render_summary_panel(report), width=200)
    assert f"Adherence {round(100 * report.summary.adherence)}%" in text
    assert "Time under tension 22.1 s" in text
    # One skipped pause in 20 phases is 95% on target: the set is praised, not picked apart.
    assert "under tension. Tempo kept well. Rep to rep" in text
    assert "Set summary" in printed(render_report(report), width=200)


def decode(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return np.asarray(imread(io.BytesIO(png), format="png"))


@pytest.mark.parametrize("unit", ["m", "rad"])
def test_figure_with_motion_is_a_sensible_png(unit: str) -> None:
    record = squat_record(unit=unit)
    image = decode(render_figure(build_report(record), record))
    height, width = image.shape[:2]
    assert 600 <= width <= 2000 and 400 <= height <= 1500 and width > height
    # Not a blank canvas: many distinct colours (phase shading, bars, verdict strip).
    colours = np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50


def test_figure_without_motion_draws_a_timeline_that_differs_from_the_motion_plot() -> None:
    record = squat_record()
    report = build_report(record)
    with_motion = decode(render_figure(report, record))
    timeline = decode(render_figure(report, None))
    assert timeline.shape == with_motion.shape
    assert np.abs(timeline - with_motion).mean() > 0.01


def test_figure_of_an_empty_set_still_renders() -> None:
    record = SetRecord("deadlift", "2010", "bar")
    assert decode(render_figure(build_report(record), record)).shape[0] > 100
