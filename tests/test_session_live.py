"""LiveSources: one sensor stream for the whole session, shared by consecutive sets, reopened on a drop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tempocoach.errors import DeviceError
from tempocoach.logbook import Logbook
from tempocoach.plan import parse_protocol
from tempocoach.rest import NoKeys, VirtualClock
from tempocoach.sensors import simulator
from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.session import SessionOptions, SessionParts, run_session
from tempocoach.session_sources import LiveSources, PacedSource

TWO_SETS = """
name = "Two"
description = "two sets"
[[blocks]]
name = "B"
[[blocks.sets]]
exercise = "back-squat"
tempo = "2010"
reps = 2
sets = 2
rest_s = 20
"""


def _stream() -> ImuBatch:
    """Two simulated sets back to back on one sensor clock, as a live sensor would send them."""
    first = simulator.simulate_set(exercise="back-squat", tempo="2010", reps=2, seed=3).batch
    second = simulator.simulate_set(exercise="back-squat", tempo="2010", reps=2, seed=4).batch
    shift_s = float(first.t_s[-1]) + 0.01 - float(second.t_s[0])
    moved = ImuBatch(second.t_s + shift_s, second.acc_mps2, second.gyr_radps)
    return ImuBatch.concat([first, moved])


class DropsOnce:
    """A source whose radio fails once, after `after` packets."""

    def __init__(self, inner: Source, after: int) -> None:
        self.inner, self.after = inner, after

    @property
    def name(self) -> str:
        return "flaky"

    async def batches(self) -> AsyncIterator[ImuBatch]:
        count = 0
        async for batch in self.inner.batches():
            count += 1
            if count > self.after:
                raise DeviceError("flaky: link lost")
            yield batch


def test_consecutive_sets_share_one_stream_and_a_drop_reopens_it(tmp_path: Path) -> None:
    clock = VirtualClock()
    recording = _stream()
    opened: list[int] = []

    def open_source() -> Source:
        opened.append(1)
        if len(opened) == 1:
            return DropsOnce(PacedSource("sensor", recording, clock), 40)
        # Back in range 0.5 s later: the sensor's clock ran on; 40 packets of 10 samples were read.
        return PacedSource("sensor", recording.slice(450, len(recording)), clock)

    with Logbook(tmp_path / "log.sqlite3") as book:
        parts = SessionParts(clock, NoKeys(), LiveSources(open_source), book)
        result = asyncio.run(run_session(parse_protocol(TWO_SETS, "two.toml", "two"), parts,
                                         SessionOptions(rating_timeout_s=1.0)))
        assert len(opened) == 2 and result.sets[0].reconnects == 1
        first, second = (book.samples(s.set_id) for s in result.sets)
        assert first is not None and second is not None
        assert second.t_s[0] > first.t_s[-1]  # set 2 carries on where set 1 stopped reading
        assert result.sets[0].reps and len(book.sets()) == 2
        # Every packet read is kept by exactly one set: nothing lost or duplicated at the set boundary
        # (packets lost in the drop aside).
        assert len(first) + len(second) == len(recording) - 50


class NeverConnects:
    name = "AA:BB"

    async def batches(self) -> AsyncIterator[ImuBatch]:
        raise DeviceError("AA:BB: not found; switch the sensor on")
        yield  # pragma: no cover - makes this an async generator


def test_a_sensor_that_never_streams_fails_at_once_with_its_own_message(tmp_path: Path) -> None:
    clock = VirtualClock()
    opened: list[int] = []

    def open_source() -> Source:
        opened.append(1)
        return NeverConnects()

    sources = LiveSources(open_source, label="AA:BB")
    with pytest.raises(DeviceError, match=r"^AA:BB: not found; switch the sensor on$"):
        asyncio.run(sources.connect())
    with Logbook(tmp_path / "log.sqlite3") as book:
        parts = SessionParts(clock, NoKeys(), LiveSources(open_source), book)
        with pytest.raises(DeviceError, match=r"^AA:BB: not found"):
            asyncio.run(run_session(parse_protocol(TWO_SETS, "two.toml", "two"), parts))
        assert len(opened) == 2  # no reconnect attempts: there was never a connection
        assert book.sets() == []


class RealTimeSensor:
    """Sends each packet at session time t0 + its sample time, read or not: unread packets queue up
    while the session rests, as they do in a BLE client's notification queue."""

    name = "sensor"

    def __init__(self, recording: ImuBatch, clock: VirtualClock) -> None:
        self.recording, self.clock, self.t0 = recording, clock, clock.now()

    async def batches(self) -> AsyncIterator[ImuBatch]:
        for chunk in self.recording.chunks(10):
            wait_s = float(chunk.t_s[-1]) + self.t0 - self.clock.now()
            if wait_s > 0:
                await self.clock.sleep(wait_s)
            yield chunk


def test_packets_queued_during_the_rest_are_skipped_at_the_next_set(tmp_path: Path) -> None:
    clock = VirtualClock()
    sensors: list[RealTimeSensor] = []

    def open_source() -> Source:
        sensors.append(RealTimeSensor(_stream(), clock))
        return sensors[-1]

    sources = LiveSources(open_source, clock=clock)
    with Logbook(tmp_path / "log.sqlite3") as book:
        parts = SessionParts(clock, NoKeys(), sources, book)
        protocol = parse_protocol(TWO_SETS.replace("rest_s = 20", "rest_s = 5"), "two.toml", "two")
        result = asyncio.run(run_session(protocol, parts, SessionOptions(rating_timeout_s=1.0)))
        first, second = (book.samples(s.set_id) for s in result.sets)
    assert first is not None and second is not None and len(sensors) == 1
    go_times = [t for t, text in result.transcript if text == "Go"]
    # Set 2 starts with the packet sampled when it started, not with what queued up meanwhile.
    assert second.t_s[0] + sensors[0].t0 == pytest.approx(go_times[1], abs=0.6)
    assert second.t_s[0] - first.t_s[-1] > 5.0 and sources.discarded_batches > 50
