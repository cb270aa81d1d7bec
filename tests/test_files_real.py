"""Importers on the real recordings in ../shared (not in the repo: skipped when that folder is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.files import load_recording

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
WATCH = REAL / "applewatch-gym-kaggle"
FEATHER = REAL / "feather-barbell"
EXERMOTE = REAL / "exermote-arm"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="real recordings in ../shared are absent")


def labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def quasi_static(batch: ImuBatch, window: int, max_gyr_radps: float) -> np.ndarray:
    """Samples inside a window where the gyroscope stays below a rate: the wrist is (nearly) still."""
    rate = np.linalg.norm(batch.gyr_radps, axis=1)
    calm = np.flatnonzero(sliding_window_view(rate, window).max(axis=1) < max_gyr_radps)
    mask = np.zeros(len(batch), dtype=bool)
    for start in calm:
        mask[start:start + window] = True
    return mask


def raw_gravity_g(path: Path, t_s: np.ndarray) -> np.ndarray:
    with path.open(newline="") as fh:
        rows = {round(float(r["secondsElapsed"]), 3): r
                for r in csv.DictReader(fh) if r["wristMotion_gravityX"]}
    return np.array([[float(rows[round(t, 3)][f"wristMotion_gravity{a}"]) for a in "XYZ"] for t in t_s])


def test_apple_watch_at_rest_reads_one_g_against_gravity() -> None:
    checked = 0
    for path in sorted((WATCH / "data").glob("*_idle.csv")):
        batch, report = load_recording(path)
        assert report.empty_rows_dropped > 0  # the documented start-up rows
        still = quasi_static(batch, window=25, max_gyr_radps=0.3)
        if still.sum() < 25:
            continue
        magnitude = np.linalg.norm(batch.acc_mps2[still], axis=1)
        assert float(np.median(magnitude)) == pytest.approx(9.81, abs=0.3), path.name
        gravity = raw_gravity_g(path, batch.t_s[still])
        cos = np.sum(batch.acc_mps2[still] * gravity, axis=1) / magnitude / np.linalg.norm(gravity, axis=1)
        assert float(np.median(cos)) < -0.99, path.name  # specific force points up, gravity down
        checked += 1
    assert checked >= 15


def test_apple_watch_idle_file_keeps_the_active_span_as_a_gap() -> None:
    for row in labels(WATCH)[:5]:
        batch, report = load_recording(WATCH / "data" / row["idle_file"])
        active_s = float(row["active_end_s"]) - float(row["active_start_s"])
        assert report.gaps >= 1
        assert report.largest_gap_s == pytest.approx(active_s, abs=0.03)
        start_s, end_s = float(row["active_start_s"]), float(row["active_end_s"])
        inside = (batch.t_s > start_s + 0.02) & (batch.t_s < end_s - 0.02)
        assert not inside.any()


def test_feather_barbell_resends_detected_and_rate_plausible() -> None:
    rows = labels(FEATHER)
    assert len(rows) == 87
    for row in rows:
        batch, report = load_recording(FEATHER / "data" / row["file"])
        assert report.repeated_values > 0 and report.repeated_values_dropped
        assert report.samples == int(row["unique_changed_samples"]), row["file"]
        assert np.all(np.diff(batch.t_s) > 0)
        if not row["quality_flags"]:
            assert 20.0 <= report.effective_rate_hz <= 60.0, row["file"]
        if "gap>1s" in row["quality_flags"]:
            assert report.largest_gap_s == pytest.approx(float(row["max_gap_s"]), abs=0.01)


def test_exermote_iphone_files_load_at_ten_hz() -> None:
    for path in sorted((EXERMOTE / "data").glob("*.csv")):
        batch, report = load_recording(path)
        assert report.format == "exermote-iphone"
        assert report.median_rate_hz == pytest.approx(10.0, rel=0.05)
        assert len(batch) >= 2990 and report.duration_s == pytest.approx(300, abs=1)
        still = quasi_static(batch, window=10, max_gyr_radps=0.2)
        assert float(np.median(np.linalg.norm(batch.acc_mps2[still], axis=1))) == pytest.approx(9.81, abs=0.3)
