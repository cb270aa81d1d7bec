"""The training logbook: SQLite (stdlib), WAL, one transaction per set, schema versioned by user_version.

Every finished set is written whole (set row, reps, phases, raw samples) in one transaction, so a crash
or kill leaves either the complete set or nothing of it. Raw samples are kept as a compressed .npz blob
so any set can be analysed again later.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tempocoach.config import logbook_path
from tempocoach.errors import DataFormatError, TempoCoachError
from tempocoach.events import Rep
from tempocoach.sensors.base import ImuBatch

RATINGS = ("strong", "moderate", "weak")

# Each entry moves the schema from version i to i + 1; never edit one that has shipped, append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        protocol_id TEXT NOT NULL,
        protocol_name TEXT NOT NULL,
        week INTEGER NOT NULL DEFAULT 1,
        device TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        planned_sets INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete', 'abandoned')),
        current_position INTEGER
    );
    CREATE TABLE sets (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        position INTEGER NOT NULL,
        block TEXT NOT NULL,
        exercise TEXT NOT NULL,
        kind TEXT NOT NULL,
        tempo TEXT,
        load TEXT,
        focus TEXT,
        target_reps INTEGER,
        target_duration_s REAL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('done', 'stopped', 'skipped')),
        reps_done INTEGER NOT NULL,
        duration_s REAL NOT NULL,
        time_under_tension_s REAL NOT NULL,
        adherence REAL,
        rating TEXT CHECK (rating IN ('strong', 'moderate', 'weak')),
        moved_s REAL,
        report_json TEXT,
        UNIQUE (session_id, position)
    );
    CREATE TABLE reps (
        set_id INTEGER NOT NULL REFERENCES sets(id),
        rep_index INTEGER NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        range_of_motion REAL NOT NULL,
        PRIMARY KEY (set_id, rep_index)
    );
    CREATE TABLE phases (
        set_id INTEGER NOT NULL REFERENCES sets(id),
        rep_index INTEGER NOT NULL,
        phase TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        target_s REAL,
        verdict TEXT
    );
    CREATE TABLE samples (
        set_id INTEGER PRIMARY KEY REFERENCES sets(id),
        n_samples INTEGER NOT NULL,
        codec TEXT NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # v2: history and trend queries filter by exercise and date; phases are read per set.
    """
    CREATE INDEX sets_by_exercise_time ON sets (exercise, started_at);
    CREATE INDEX sets_by_time ON sets (started_at);
    CREATE INDEX phases_by_set ON phases (set_id, rep_index);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SetResult:
    """What the session hands the logbook when a set is over."""

    position: int
    block: str
    exercise: str
    kind: str
    started_at: datetime
    ended_at: datetime
    outcome: str = "done"
    tempo: str | None = None
    load: str | None = None
    focus: str | None = None
    target_reps: int | None = None
    target_duration_s: float | None = None
    reps: list[Rep] = field(default_factory=list)
    duration_s: float = 0.0
    time_under_tension_s: float = 0.0
    adherence: float | None = None
    rating: str | None = None
    moved_s: float | None = None
    report_json: str | None = None
    samples: ImuBatch | None = None


def encode_samples(batch: ImuBatch) -> bytes:
    buf = io.BytesIO()
    arrays: dict[str, Any] = {"t": batch.t_s, "acc": batch.acc_mps2, "gyr": batch.gyr_radps}
    if batch.mag_ut is not None:
        arrays["mag"] = batch.mag_ut
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def decode_samples(blob: bytes) -> ImuBatch:
    with np.load(io.BytesIO(blob)) as data:
        mag = data["mag"] if "mag" in data.files else None
        return ImuBatch(data["t"], data["acc"], data["gyr"], mag)


def _verdicts(report_json: str | None) -> dict[tuple[int, str], tuple[float | None, str | None]]:
    """(rep, phase) -> (target, verdict) from a report's analysis JSON, when it has them."""
    if not report_json:
        return {}
    try:
        reps = json.loads(report_json).get("reps", [])
        return {
            (int(r["index"]), str(p["name"])): (p.get("target"), p.get("verdict"))
            for r in reps
            for p in r.get("phases", [])
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


class Logbook:
    """A connection to the logbook file; migrates the schema on open."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or logbook_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise DataFormatError(f"logbook {self.path}: {exc}; move it aside to start a new one") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Logbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise TempoCoachError(
                f"logbook {self.path}: schema v{version} is newer than this tempocoach (v{SCHEMA_VERSION});"
                " upgrade tempocoach"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    # --- sessions -------------------------------------------------------------------------------
    def start_session(
        self, protocol_id: str, protocol_name: str, planned_sets: int, week: int = 1, device: str = "",
        source: str = "", started_at: datetime | None = None,
    ) -> int:
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO sessions (protocol_id, protocol_name, week, device, source, planned_sets,"
                " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (protocol_id, protocol_name, week, device, source, planned_sets,
                 (started_at or utc_now()).isoformat()),
            )
            return int(cur.lastrowid or 0)

    def open_session(self, protocol_id: str, week: int = 1) -> int | None:
        """The newest unfinished session of this protocol and week (to resume), if any."""
        row = self._db.execute(
            "SELECT id FROM sessions WHERE protocol_id = ? AND week = ? AND status = 'open'"
            " ORDER BY id DESC LIMIT 1",
            (protocol_id, week),
        ).fetchone()
        return int(row["id"]) if row else None

    def logged_positions(self, session_id: int) -> set[int]:
        rows = self._db.execute("SELECT position FROM sets WHERE session_id = ?", (session_id,))
        return {int(r["position"]) for r in rows}

    def mark_current(self, session_id: int, position: int | None) -> None:
        with self._transaction():
            self._db.execute("UPDATE sessions SET current_position = ? WHERE id = ?", (position, session_id))

    def finish_session(self, session_id: int, status: str = "complete") -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE sessions SET status = ?, ended_at = ?, current_position = NULL WHERE id = ?",
                (status, utc_now().isoformat(), session_id),
            )

    def session(self, session_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise TempoCoachError(f"logbook {self.path}: no session {session_id}")
        return dict(row)

    # --- sets ------------------------------------------------------------------------------------
    def record_set(self, session_id: int, result: SetResult) -> int:
        """Write one finished set with its reps, phases and samples, all or nothing."""
        if result.rating is not None and result.rating not in RATINGS:
            raise TempoCoachError(f"rating '{result.rating}': use one of {', '.join(RATINGS)}")
        verdicts = _verdicts(result.report_json)
        with self._transaction():
            cur = self._db.execute(
                "INSERT INTO sets (session_id, position, block, exercise, kind, tempo, load, focus,"
                " target_reps, target_duration_s, started_at, ended_at, outcome, reps_done, duration_s,"
                " time_under_tension_s, adherence, rating, moved_s, report_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, result.position, result.block, result.exercise, result.kind, result.tempo,
                 result.load, result.focus, result.target_reps, result.target_duration_s,
                 result.started_at.isoformat(), result.ended_at.isoformat(), result.outcome,
                 len(result.reps), result.duration_s, result.time_under_tension_s, result.adherence,
                 result.rating, result.moved_s, result.report_json),
            )
            set_id = int(cur.lastrowid or 0)
            self._db.executemany(
                "INSERT INTO reps VALUES (?, ?, ?, ?, ?)",
                [(set_id, r.index, r.start_s, r.end_s, r.range_of_motion) for r in result.reps],
            )
            self._db.executemany(
                "INSERT INTO phases VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(set_id, r.index, str(p.phase), p.start_s, p.end_s,
                  *verdicts.get((r.index, str(p.phase)), (None, None)))
                 for r in result.reps for p in r.phases],
            )
            if result.samples is not None and len(result.samples):
                self._db.execute(
                    "INSERT INTO samples VALUES (?, ?, 'npz', ?)",
                    (set_id, len(result.samples), encode_samples(result.samples)),
                )
        return set_id

    def sets(
        self, session_id: int | None = None, exercise: str | None = None, since: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Set rows (with their session's protocol and device), oldest first."""
        where: list[str] = ["1 = 1"]
        args: list[object] = []
        if session_id is not None:
            where.append("s.session_id = ?")
            args.append(session_id)
        if exercise is not None:
            where.append("s.exercise = ?")
            args.append(exercise)
        if since is not None:
            where.append("s.started_at >= ?")
            args.append(since.isoformat())
        rows = self._db.execute(
            "SELECT s.id, s.session_id, s.position, s.block, s.exercise, s.kind, s.tempo, s.load, s.focus,"
            " s.target_reps, s.target_duration_s, s.started_at, s.ended_at, s.outcome, s.reps_done,"
            " s.duration_s, s.time_under_tension_s, s.adherence, s.rating, s.moved_s,"
            " x.protocol_id, x.week, x.device, x.source"
            f" FROM sets s JOIN sessions x ON x.id = s.session_id WHERE {' AND '.join(where)}"
            " ORDER BY s.started_at, s.id",
            args,
        )
        return [dict(r) for r in rows]

    def reps(self, set_id: int) -> list[dict[str, Any]]:
        reps = [dict(r) for r in self._db.execute(
            "SELECT rep_index, start_s, end_s, range_of_motion FROM reps WHERE set_id = ? ORDER BY rep_index",
            (set_id,))]
        phases = self._db.execute(
            "SELECT rep_index, phase, start_s, end_s, target_s, verdict FROM phases WHERE set_id = ?"
            " ORDER BY rep_index, rowid", (set_id,))  # as the detector listed them
        by_rep: dict[int, list[dict[str, Any]]] = {}
        for p in phases:
            by_rep.setdefault(int(p["rep_index"]), []).append(
                {k: p[k] for k in ("phase", "start_s", "end_s", "target_s", "verdict")})
        for rep in reps:
            rep["phases"] = by_rep.get(int(rep["rep_index"]), [])
        return reps

    def report_json(self, set_id: int) -> str | None:
        row = self._db.execute("SELECT report_json FROM sets WHERE id = ?", (set_id,)).fetchone()
        return None if row is None else row["report_json"]

    def samples(self, set_id: int) -> ImuBatch | None:
        """The set's raw samples exactly as recorded, or None if none were kept."""
        row = self._db.execute("SELECT data FROM samples WHERE set_id = ?", (set_id,)).fetchone()
        return None if row is None else decode_samples(bytes(row["data"]))

    def iter_sessions(self) -> Iterator[dict[str, Any]]:
        for row in self._db.execute("SELECT * FROM sessions ORDER BY id"):
            yield dict(row)

    def integrity_ok(self) -> bool:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0]) == "ok"


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
