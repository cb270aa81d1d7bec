"""The logbook: schema migrations, one atomic transaction per set, raw samples kept exactly, queries."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tempocoach.errors import DataFormatError, TempoCoachError
from tempocoach.events import Phase, PhaseSpan, Rep
from tempocoach.logbook import MIGRATIONS, SCHEMA_VERSION, Logbook, SetResult
from tempocoach.sensors.base import ImuBatch

T0 = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


def _rep(index: int, start_s: float) -> Rep:
    spans = (
        PhaseSpan(Phase.ECCENTRIC, start_s, start_s + 3.0),
        PhaseSpan(Phase.BOTTOM_PAUSE, start_s + 3.0, start_s + 4.0),
        PhaseSpan(Phase.CONCENTRIC, start_s + 4.0, start_s + 4.6),
    )
    return Rep(index, spans, 0.5)


def _samples(n: int = 500, seed: int = 0) -> ImuBatch:
    rng = np.random.default_rng(seed)
    return ImuBatch(np.arange(n) / 100.0, rng.normal(size=(n, 3)), rng.normal(size=(n, 3)),
                    rng.normal(size=(n, 3)))


def _result(
    position: int, when: datetime, exercise: str = "back-squat", reps: int = 2, **kw: object
) -> SetResult:
    phases = [{"name": "eccentric", "target": 3.0, "verdict": "ok"},
              {"name": "concentric", "target": None, "verdict": "too slow"}]
    report = {"reps": [{"index": i + 1, "phases": phases} for i in range(reps)]}

    fields: dict[str, object] = {
        "position": position, "block": "Main", "exercise": exercise, "kind": "tempo", "started_at": when,
        "ended_at": when + timedelta(seconds=30), "tempo": "31X0", "load": "70%", "target_reps": reps,
        "reps": [_rep(i + 1, 2.0 + 5 * i) for i in range(reps)], "duration_s": 5.0 * reps,
        "time_under_tension_s": 4.6 * reps, "adherence": 0.5, "rating": "strong",
        "report_json": json.dumps(report), "samples": _samples(seed=position),
    }
    fields.update(kw)
    return SetResult(**fields)  # type: ignore[arg-type]


def test_new_logbook_is_wal_and_at_the_latest_schema(tmp_path: Path) -> None:
    with Logbook(tmp_path / "a.sqlite3") as book:
        assert book.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    db = sqlite3.connect(tmp_path / "a.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert {"sessions", "sets", "reps", "phases", "samples", "sets_by_exercise_time"} <= names


def test_v1_logbook_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO sessions (protocol_id, protocol_name, planned_sets, started_at)"
               " VALUES ('p', 'P', 3, '2026-01-01T00:00:00+00:00')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Logbook(path) as book:
        assert book.schema_version == SCHEMA_VERSION
        assert book.session(1)["protocol_id"] == "p"
    index = sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE name = 'sets_by_exercise_time'").fetchone()
    assert index is not None


def test_newer_schema_and_garbage_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(TempoCoachError, match=r"schema v\d+ is newer than this tempocoach .* upgrade"):
        Logbook(path)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataFormatError, match=r"junk.sqlite3: .*move it aside"):
        Logbook(junk)


def test_a_set_is_written_whole_with_reps_phases_verdicts_and_exact_samples(tmp_path: Path) -> None:
    with Logbook(tmp_path / "b.sqlite3") as book:
        session = book.start_session("classic-tempo", "Classic tempo", 9, started_at=T0)
        result = _result(0, T0)
        set_id = book.record_set(session, result)
        row = book.sets(session_id=session)[0]
        assert (row["reps_done"], row["rating"], row["adherence"], row["tempo"]) == (2, "strong", 0.5, "31X0")
        reps = book.reps(set_id)
        assert [r["rep_index"] for r in reps] == [1, 2]
        assert [(p["phase"], p["target_s"], p["verdict"]) for p in reps[0]["phases"]] == [
            ("eccentric", 3.0, "ok"), ("bottom_pause", None, None), ("concentric", None, "too slow")]
        back = book.samples(set_id)
        assert back is not None and result.samples is not None
        original = result.samples
        for mine, theirs in ((back.t_s, original.t_s), (back.acc_mps2, original.acc_mps2),
                             (back.gyr_radps, original.gyr_radps), (back.mag_ut, original.mag_ut)):
            assert theirs is not None and mine is not None
            assert np.array_equal(mine, theirs)
        assert book.logged_positions(session) == {0}
        assert book.integrity_ok()


def test_a_failing_set_write_leaves_nothing_behind(tmp_path: Path) -> None:
    with Logbook(tmp_path / "c.sqlite3") as book:
        session = book.start_session("p", "P", 3, started_at=T0)
        book.record_set(session, _result(0, T0))
        with pytest.raises(sqlite3.IntegrityError):
            book.record_set(session, _result(0, T0))  # same position twice: the UNIQUE constraint fires
        duplicate_reps = _result(1, T0, reps=0)
        duplicate_reps.reps = [_rep(1, 0.0), _rep(1, 5.0)]  # fails on the second rep row, mid-transaction
        with pytest.raises(sqlite3.IntegrityError):
            book.record_set(session, duplicate_reps)
        assert book.logged_positions(session) == {0}
        counts = [book._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("sets", "reps", "phases", "samples")]
        assert counts == [1, 2, 6, 1]
        with pytest.raises(TempoCoachError, match="rating 'great': use one of strong, moderate, weak"):
            book.record_set(session, _result(2, T0, rating="great"))


def test_open_session_resume_and_finish(tmp_path: Path) -> None:
    with Logbook(tmp_path / "d.sqlite3") as book:
        first = book.start_session("p", "P", 3, week=2)
        assert book.open_session("p", 2) == first
        assert book.open_session("p", 1) is None
        book.mark_current(first, 1)
        assert book.session(first)["current_position"] == 1
        book.finish_session(first)
        assert book.open_session("p", 2) is None
        assert book.session(first)["status"] == "complete" and book.session(first)["current_position"] is None


def test_history_filters_by_exercise_and_date_in_time_order(tmp_path: Path) -> None:
    with Logbook(tmp_path / "e.sqlite3") as book:
        session = book.start_session("p", "P", 6, started_at=T0)
        for i in range(6):
            exercise = "back-squat" if i % 2 == 0 else "bench-press"
            book.record_set(session, _result(i, T0 + timedelta(days=5 - i), exercise=exercise, samples=None))
        rows = book.sets()
        assert [r["position"] for r in rows] == [5, 4, 3, 2, 1, 0]  # oldest first
        squats = book.sets(exercise="back-squat")
        assert {r["exercise"] for r in squats} == {"back-squat"} and len(squats) == 3
        recent = book.sets(since=T0 + timedelta(days=3))
        assert sorted(r["position"] for r in recent) == [0, 1, 2]
        assert book.samples(rows[0]["id"]) is None
