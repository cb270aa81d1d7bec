"""kill -9 in the middle of a set leaves a consistent logbook with every finished set; resume goes on."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tempocoach.logbook import Logbook
from tempocoach.plan import find_protocol
from tempocoach.rest import NoKeys, VirtualClock
from tempocoach.session import SessionOptions, SessionParts, run_session
from tempocoach.session_sources import SimulatedSources

CLI = "import sys, typer\nfrom tempocoach.commands.training import register\n" \
      "app = typer.Typer()\nregister(app)\napp(sys.argv[1:])"


def _current_position(path: Path) -> int | None:
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
        row = db.execute("SELECT current_position FROM sessions ORDER BY id DESC LIMIT 1").fetchone()
        db.close()
    except sqlite3.OperationalError:
        return None  # not created yet
    return None if row is None else row[0]


def test_sigkill_mid_set_keeps_finished_sets_and_resume_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    path = tmp_path / "logbook.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "run", "quick-demo", "--simulate", "--speed", "30", "--no-audio",
         "--rating-timeout", "1", "--logbook", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90.0
        while _current_position(path) != 1:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "set 2 never started"
            time.sleep(0.02)
        time.sleep(0.3)  # into set 2: countdown 3 s and reps ~15 s, at 30x
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    with Logbook(path) as book:
        assert book.integrity_ok()
        session = next(book.iter_sessions())
        assert session["status"] == "open"
        rows = book.sets(session_id=session["id"])
        # Exactly the sets finished before the kill; the one running then is not half-written.
        assert [r["position"] for r in rows] == [0]
        assert session["current_position"] == 1
        for row in rows:
            assert len(book.reps(row["id"])) == row["reps_done"] > 0
            samples = book.samples(row["id"])
            assert samples is not None and len(samples) > 100
        orphans = book._db.execute(
            "SELECT COUNT(*) FROM reps WHERE set_id NOT IN (SELECT id FROM sets)").fetchone()[0]
        assert orphans == 0

        clock = VirtualClock()
        parts = SessionParts(clock, NoKeys(), SimulatedSources(clock), book)
        options = SessionOptions(rating_timeout_s=1)
        result = asyncio.run(run_session(find_protocol("quick-demo"), parts, options))
        assert result.session_id == session["id"] and result.resumed_at == 1
        assert [r["position"] for r in book.sets(session_id=session["id"])] == [0, 1, 2]
        assert book.session(session["id"])["status"] == "complete"
