"""A whole protocol runs against the simulated lifter on a virtual clock; the logbook holds what happened."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tempocoach.logbook import Logbook
from tempocoach.plan import Protocol, find_protocol, parse_protocol
from tempocoach.rest import VirtualClock
from tempocoach.session import SessionOptions, SessionParts, SessionResult, run_session
from tempocoach.session_io import ListDisplay
from tempocoach.session_sources import LifterScript, SimulatedSources


class PromptKeys:
    """Answers each connection-rating prompt with the next reply; other keys at given transcript lines."""

    def __init__(
        self, display: ListDisplay, replies: list[str], on_text: dict[str, str] | None = None
    ) -> None:
        self.display, self.replies, self.on_text = display, list(replies), dict(on_text or {})
        self._seen = 0

    def poll(self) -> str | None:
        lines = self.display.lines
        while self._seen < len(lines):
            text = lines[self._seen][1]
            self._seen += 1
            if text.startswith("Connection?") and self.replies:
                return self.replies.pop(0)
            if text in self.on_text:
                return self.on_text.pop(text)
        return None


def _run(protocol: Protocol, book: Logbook, keys_for: object = None, script: LifterScript | None = None,
         rack_s: float = 12.0, **options: object) -> tuple[SessionResult, ListDisplay, VirtualClock]:
    clock = VirtualClock()
    display = ListDisplay()
    keys = keys_for(display) if callable(keys_for) else PromptKeys(display, [])
    parts = SessionParts(clock, keys, SimulatedSources(clock, script=script, rack_s=rack_s), book,
                         display=display)
    result = asyncio.run(run_session(protocol, parts, SessionOptions(**options)))  # type: ignore[arg-type]
    return result, display, clock


@pytest.fixture()
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Logbook:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    return Logbook(tmp_path / "log.sqlite3")


def test_quick_demo_runs_and_the_logbook_holds_exactly_what_happened(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    result, _, clock = _run(protocol, book, lambda d: PromptKeys(d, ["1", "3"]))
    assert result.status == "complete"
    rows = book.sets(session_id=result.session_id)
    assert [r["position"] for r in rows] == [0, 1, 2]
    assert [r["exercise"] for r in rows] == ["back-squat", "back-squat", "glute-bridge"]
    # Every rep the session saw is in the logbook; a set that reached its 3 reps is "done".
    assert [r["reps_done"] for r in rows] == [len(s.reps) for s in result.sets]
    assert rows[2]["reps_done"] == 0 and rows[2]["outcome"] == "done"
    for row in rows[:2]:
        assert row["outcome"] == ("done" if row["reps_done"] >= 3 else "stopped")
        assert 2 <= row["reps_done"] <= 3  # the simulated lifter does the 3 prescribed reps
    assert [r["rating"] for r in rows] == ["strong", "weak", None]  # third prompt timed out
    for logged, row in zip(result.sets, rows, strict=True):
        reps = book.reps(row["id"])
        assert [(r["start_s"], r["end_s"]) for r in reps] == [(r.start_s, r.end_s) for r in logged.reps]
        phases = [(p["phase"], p["start_s"]) for r in reps for p in r["phases"]]
        assert phases == [(str(p.phase), p.start_s) for r in logged.reps for p in r.phases]
        assert all(p["verdict"] in ("ok", "too fast", "too slow", "pause skipped")
                   for r in reps for p in r["phases"])
    assert rows[0]["adherence"] is not None and 0.0 <= rows[0]["adherence"] <= 1.0
    assert rows[2]["time_under_tension_s"] == pytest.approx(10.0, abs=0.2)
    samples = book.samples(rows[0]["id"])
    assert samples is not None and samples.duration_s > 5.0
    assert book.session(result.session_id)["status"] == "complete"
    said = [text for _, text in result.transcript]
    assert said[1].startswith("Set 1 of 3: Back squat. 3 reps, tempo 2 0 1 0, 60%")
    assert said.count("Go") == 3 and "Rest 15 seconds" in said
    rest_start = said.index("Rest 15 seconds")
    assert said[rest_start + 1: rest_start + 11] == [str(n) for n in range(10, 0, -1)]
    assert said[-1] == "Session complete. Well done."
    # Virtual time: 2 sets (~20 s each) + 2 rating waits + a 15 s rest + the hold, no wall-clock waiting.
    assert 60.0 < clock.now() < 200.0


def test_quit_mid_set_then_resume_starts_at_that_set(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    first, _, _ = _run(protocol, book, lambda d: PromptKeys(d, ["2"], {"Set 2 of 3: Back squat. 3 reps,"
                                                                   " tempo 2 0 1 0, 60%.": "q"}))
    assert first.status == "quit"
    assert [s.position for s in first.sets] == [0]
    assert book.session(first.session_id)["status"] == "open"
    second, _, _ = _run(protocol, book, lambda d: PromptKeys(d, ["1", "1"]))
    assert second.session_id == first.session_id and second.resumed_at == 1
    assert second.transcript[0][1] == "Welcome back. Resuming at set 2 of 3."
    rows = book.sets(session_id=first.session_id)
    assert [r["position"] for r in rows] == [0, 1, 2]
    assert [r["rating"] for r in rows] == ["moderate", "strong", "strong"]
    assert book.session(first.session_id)["status"] == "complete"
    third, _, _ = _run(protocol, book)  # a finished session is not resumed: a new one starts
    assert third.session_id != first.session_id and third.resumed_at is None


def test_starting_fresh_abandons_the_unfinished_session(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    quit_at_set_2 = {"Set 2 of 3: Back squat. 3 reps, tempo 2 0 1 0, 60%.": "q"}
    first, _, _ = _run(protocol, book, lambda d: PromptKeys(d, [], quit_at_set_2))
    fresh, _, _ = _run(protocol, book, resume=False)
    assert fresh.session_id != first.session_id and fresh.resumed_at is None
    assert book.session(first.session_id)["status"] == "abandoned"
    assert [r["position"] for r in book.sets(session_id=fresh.session_id)] == [0, 1, 2]


def test_skip_logs_the_set_as_skipped_and_moves_on(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    result, _, _ = _run(protocol, book, lambda d: PromptKeys(d, [], {"Go": "s"}))
    rows = book.sets(session_id=result.session_id)
    assert rows[0]["outcome"] == "skipped" and rows[2]["outcome"] == "done"
    assert rows[0]["reps_done"] == 0 and result.status == "complete"
    assert [r["position"] for r in rows] == [0, 1, 2]


def test_lifter_who_stops_early_ends_the_set_after_the_still_period(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    script = LifterScript(reps_done={0: 1})
    result, _, _ = _run(protocol, book, script=script, rack_s=40.0)
    rows = book.sets(session_id=result.session_id)
    assert rows[0]["outcome"] == "stopped" and rows[0]["reps_done"] < 3
    # The set ended on the sample clock, stop_after_s (8 s) after the last phase event, long before
    # the simulated lifter's 40 s of standing still after racking ran out.
    samples = book.samples(rows[0]["id"])
    recording = SimulatedSources(VirtualClock(), script=script, rack_s=40.0).recording(
        protocol.planned_sets()[0])
    assert samples is not None and samples.t_s[-1] < recording.t_s[-1] - 20.0
    assert samples.t_s[-1] >= result.sets[0].reps[-1].end_s + 8.0


def test_pause_and_continue_inside_a_set(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    keys = {"Go": "p", "Paused. Press p to continue.": "p"}
    result, _, _ = _run(protocol, book, lambda d: PromptKeys(d, [], keys))
    said = [text for _, text in result.transcript]
    assert "Paused. Press p to continue." in said and "Continue" in said
    reference, _, _ = _run(protocol, Logbook(book.path.with_name("ref.sqlite3")))
    # Pausing does not lose samples: the set saw exactly the reps of an unpaused run.
    assert result.sets[0].reps == reference.sets[0].reps


def test_dropped_connection_reconnects_and_keeps_the_reps(book: Logbook) -> None:
    protocol = find_protocol("quick-demo")
    result, _, _ = _run(protocol, book, script=LifterScript(drop_after_s={0: 9.0}))
    assert result.sets[0].reconnects == 1
    reference, _, _ = _run(protocol, Logbook(book.path.with_name("ref.sqlite3")))
    assert result.sets[0].reps == reference.sets[0].reps  # reps before and after the drop are kept
    assert book.sets(session_id=result.session_id)[0]["reps_done"] == len(reference.sets[0].reps)


HOLDS = """
name = "Holds"
description = "two holds"
[[blocks]]
name = "H"
[[blocks.sets]]
exercise = "glute-bridge"
kind = "isometric"
duration_s = 20
sets = 2
rest_s = 5
"""


def test_holds_are_counted_aloud_and_movement_is_flagged(book: Logbook) -> None:
    protocol = parse_protocol(HOLDS, "holds.toml", "holds")
    result, _, _ = _run(protocol, book, script=LifterScript(wobble_s={1: (6.0, 8.5)}))
    still, moved = book.sets(session_id=result.session_id)
    assert still["moved_s"] == 0.0 and still["outcome"] == "done"
    assert moved["moved_s"] == pytest.approx(2.5, abs=0.3)
    said = [text for _, text in result.transcript]
    assert said.count("Stay still") == 1
    assert "Held 20 of 20 seconds, still throughout." in said
    assert "Held 20 of 20 seconds; you moved for 2.5 seconds." in said
    counts = said[said.index("Go") + 1: said.index("Done. Relax.")]
    assert counts == ["5 seconds", "10 seconds", "5", "4", "3", "2", "1"]


def test_logged_samples_reanalyse_to_the_reps_the_live_session_logged(book: Logbook) -> None:
    from tempocoach.exercises import get_exercise
    from tempocoach.motion.pipeline import analyze_recording
    from tempocoach.tempo import parse_tempo

    result, _, _ = _run(find_protocol("quick-demo"), book)
    for row in book.sets(session_id=result.session_id)[:2]:
        samples = book.samples(row["id"])
        assert samples is not None
        record = analyze_recording(samples, get_exercise(row["exercise"]), parse_tempo(row["tempo"]), "bar")
        logged = [t for r in book.reps(row["id"]) for t in (r["start_s"], r["end_s"])]
        assert [t for r in record.reps for t in (r.start_s, r.end_s)] == pytest.approx(logged, abs=1e-6)
