"""A session streaming from an emulated vendor sensor through the real bleak client (bumble link)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tempocoach.logbook import Logbook
from tempocoach.plan import parse_protocol
from tempocoach.rest import NoKeys, VirtualClock
from tempocoach.session import SessionOptions, SessionParts, run_session
from tempocoach.session_sources import EmulatedSources

PROTOCOL = """
name = "Two sets"
description = "a rep set and a hold"
[[blocks]]
name = "B"
[[blocks.sets]]
exercise = "back-squat"
tempo = "2010"
reps = 3
rest_s = 5
[[blocks.sets]]
exercise = "glute-bridge"
kind = "isometric"
duration_s = 5
rest_s = 0
"""


def test_rep_set_over_emulated_ble_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    clock = VirtualClock()
    with Logbook(tmp_path / "log.sqlite3") as book:
        sources = EmulatedSources("emulated:polar", clock, speed=None)  # as fast as the link goes
        parts = SessionParts(clock, NoKeys(), sources, book)
        result = asyncio.run(run_session(parse_protocol(PROTOCOL, "p.toml", "p"), parts,
                                         SessionOptions(rating_timeout_s=1.0)))
        assert result.status == "complete"
        rows = book.sets(session_id=result.session_id)
        assert [r["source"] for r in rows] == ["emulated:polar", "emulated:polar"]
        samples = book.samples(rows[0]["id"])
        assert samples is not None and samples.duration_s > 15.0  # the whole simulated set came over BLE
        assert rows[0]["reps_done"] == len(result.sets[0].reps) >= 1
        assert rows[1]["time_under_tension_s"] == pytest.approx(5.0, abs=0.2)
