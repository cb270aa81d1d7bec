"""`tempocoach history` (table + trend PNG) and `tempocoach export` (csv, json) on a real logbook."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tempocoach.commands.training import register
from tempocoach.errors import TempoCoachError
from tempocoach.events import Phase, PhaseSpan, Rep
from tempocoach.logbook import Logbook, SetResult

T0 = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


def _rep(index: int, start_s: float) -> Rep:
    return Rep(index, (PhaseSpan(Phase.ECCENTRIC, start_s, start_s + 3.0),
                       PhaseSpan(Phase.CONCENTRIC, start_s + 3.0, start_s + 3.8)), 0.4)


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    application = typer.Typer()
    register(application)
    return application


@pytest.fixture()
def logbook(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "logbook.sqlite3"
    with Logbook(path) as book:
        session = book.start_session("classic-tempo", "Classic tempo", 6, started_at=T0)
        for day in range(6):
            exercise = "back-squat" if day % 2 == 0 else "bench-press"
            when = T0 + timedelta(days=day)
            reps = [_rep(i + 1, 1.0 + 4.0 * i) for i in range(3 + day)]
            report = {"reps": [{"index": r.index, "phases": []} for r in reps], "summary": {"adherence": 0.5}}
            book.record_set(session, SetResult(
                position=day, block="Main", exercise=exercise, kind="tempo", started_at=when,
                ended_at=when + timedelta(seconds=40), tempo="31X0", load="70%", target_reps=3 + day,
                reps=reps, duration_s=4.0 * len(reps), time_under_tension_s=3.8 * len(reps),
                adherence=0.5 + 0.08 * day, rating=("strong", "moderate", "weak")[day % 3],
                report_json=json.dumps(report)))
    return path


def test_history_table_and_trend_plot(app: typer.Typer, logbook: Path, tmp_path: Path) -> None:
    plot = tmp_path / "trend.png"
    result = CliRunner().invoke(app, ["history", "--logbook", str(logbook), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "History: 6 sets" in result.output
    assert "90%" in result.output and "8/8" in result.output  # last set: adherence 0.9, 8 of 8 reps
    assert f"trend plot written to {plot}" in result.output.replace("\n", "")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000


def test_history_filters_and_rejects_a_bad_date(app: typer.Typer, logbook: Path, tmp_path: Path) -> None:
    plot = tmp_path / "bench.png"
    result = CliRunner().invoke(app, ["history", "--logbook", str(logbook), "--exercise", "bench",
                                      "--since", "2026-11-03", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "History: 2 sets" in result.output and "back-squat" not in result.output
    empty = CliRunner().invoke(app, ["history", "--logbook", str(logbook), "--since", "2030-01-01"])
    assert "no sets logged yet for that filter" in empty.output
    bad = CliRunner().invoke(app, ["history", "--logbook", str(logbook), "--since", "last tuesday"])
    assert isinstance(bad.exception, TempoCoachError)
    assert str(bad.exception) == "--since 'last tuesday': use a date like 2026-11-01"


def test_export_csv_has_one_row_per_set(app: typer.Typer, logbook: Path, tmp_path: Path) -> None:
    out = tmp_path / "sets.csv"
    args = ["export", "--logbook", str(logbook), "--format", "csv", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 6
    assert [r["reps_done"] for r in rows] == ["3", "4", "5", "6", "7", "8"]
    assert rows[0]["rating"] == "strong" and rows[0]["protocol_id"] == "classic-tempo"


def test_export_json_nests_reps_phases_and_reports(app: typer.Typer, logbook: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--logbook", str(logbook), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert len(data) == 6
    first = data[0]
    assert [r["rep_index"] for r in first["reps"]] == [1, 2, 3]
    assert [p["phase"] for p in first["reps"][0]["phases"]] == ["eccentric", "concentric"]
    assert first["report"]["summary"]["adherence"] == 0.5
    bad = CliRunner().invoke(app, ["export", "--logbook", str(logbook), "--format", "xml"])
    assert str(bad.exception) == "export --format 'xml': use csv or json"
