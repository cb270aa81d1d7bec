"""Where a session's samples come from: the simulated lifter playing each set's plan, or a live sensor.

Both hand the session one Source per set (SourceProvider). The simulated one paces its packets on
the session's clock, so a virtual clock runs a whole protocol instantly and `--speed N` runs it N
times faster than life. The live one keeps one sensor connection for the whole session.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from tempocoach.errors import DeviceError
from tempocoach.plan import PlannedSet
from tempocoach.rest import Clock
from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch, Source


def still_batch(
    start_s: float, duration_s: float, rate_hz: float, rng: np.random.Generator,
    wobble_s: tuple[float, float] | None = None,
) -> ImuBatch:
    """A sensor held still (gravity on +z plus noise), optionally wobbling between two times."""
    n = max(2, round(duration_s * rate_hz))
    t_s = start_s + np.arange(n) / rate_hz
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY], (n, 1)) + rng.normal(0.0, 0.05, (n, 3))
    gyr = rng.normal(0.0, 0.01, (n, 3))
    if wobble_s is not None:
        inside = (t_s >= wobble_s[0]) & (t_s < wobble_s[1])
        angle = 2 * np.pi * 1.5 * t_s[inside]
        gyr[inside, 0] += 1.2 * np.sin(angle)
        acc[inside, 1] += 2.5 * np.cos(angle)
    return ImuBatch(t_s, acc, gyr)


class PacedSource:
    """A finished recording played back as packets of `chunk_samples`, each after its own duration."""

    def __init__(self, name: str, batch: ImuBatch, clock: Clock, chunk_samples: int = 10) -> None:
        self._name, self._batch, self._clock, self._chunk = name, batch, clock, chunk_samples

    @property
    def name(self) -> str:
        return self._name

    async def batches(self) -> AsyncIterator[ImuBatch]:
        previous_end_s = float(self._batch.t_s[0]) if len(self._batch) else 0.0
        for chunk in self._batch.chunks(self._chunk):
            end_s = float(chunk.t_s[-1])
            await self._clock.sleep(end_s - previous_end_s)
            previous_end_s = end_s
            yield chunk


@dataclass
class LifterScript:
    """How the simulated lifter deviates from the plan, by set position (0-based)."""

    reps_done: dict[int, int] = field(default_factory=dict)  # stops early (or goes on) at these sets
    wobble_s: dict[int, tuple[float, float]] = field(default_factory=dict)  # moves during these holds
    drop_after_s: dict[int, float] = field(default_factory=dict)  # connection drops once, after t s
    drop_lost_s: float = 0.0  # samples lost in a drop (0: the sensor buffered them while disconnected)


class _DroppingSource:
    """Raises DeviceError once after `drop_after_s` of samples: a radio going out of range."""

    def __init__(self, inner: PacedSource, drop_after_s: float) -> None:
        self._inner, self._drop_after_s = inner, drop_after_s
        self.resume_from_s: float | None = None  # first sample time not delivered

    @property
    def name(self) -> str:
        return self._inner.name

    async def batches(self) -> AsyncIterator[ImuBatch]:
        start: float | None = None
        async for batch in self._inner.batches():
            start = float(batch.t_s[0]) if start is None else start
            if float(batch.t_s[-1]) - start >= self._drop_after_s:
                self.resume_from_s = float(batch.t_s[0])
                raise DeviceError(f"{self.name}: simulated connection drop")
            yield batch


class SimulatedSources:
    """The simulated lifter performs each planned set (then racks the bar and stands still)."""

    def __init__(
        self, clock: Clock, rate_hz: float = 100.0, chunk_samples: int = 10, seed: int = 1,
        rack_s: float = 12.0, script: LifterScript | None = None,
    ) -> None:
        self._clock, self.rate_hz, self._chunk = clock, rate_hz, chunk_samples
        self._seed, self._rack_s = seed, rack_s
        self.script = script or LifterScript()
        self._dropping: dict[int, _DroppingSource] = {}

    @property
    def name(self) -> str:
        return "simulator"

    def recording(self, planned: PlannedSet) -> ImuBatch:
        """The whole simulated set: the reps (or the hold), then the lifter standing still."""
        rng = np.random.default_rng(self._seed * 1000 + planned.position)
        plan = planned.plan
        if plan.is_timed:
            return still_batch(0.0, float(plan.duration_s or 0) + 2.0, self.rate_hz, rng,
                               self.script.wobble_s.get(planned.position))
        from tempocoach.sensors.simulator import simulate_set

        reps = self.script.reps_done.get(planned.position, plan.reps or 0)
        sim = simulate_set(exercise=plan.exercise, tempo=plan.tempo or "2010", reps=reps,
                           placement=plan.placement_for(), rate_hz=self.rate_hz,
                           seed=self._seed * 1000 + planned.position)
        step_s = 1.0 / self.rate_hz
        rack = still_batch(float(sim.batch.t_s[-1]) + step_s, self._rack_s, self.rate_hz, rng)
        body = sim.batch
        # The sensor keeps the attitude it ended the recording in (its mount is not +z up).
        rest_acc = np.median(body.acc_mps2[-round(0.5 * self.rate_hz):], axis=0)
        rack = ImuBatch(rack.t_s, rack.acc_mps2 - [0.0, 0.0, STANDARD_GRAVITY] + rest_acc, rack.gyr_radps)
        return ImuBatch.concat([body, rack])

    def for_set(self, planned: PlannedSet) -> Source:
        batch = self.recording(planned)
        dropped = self._dropping.pop(planned.position, None)
        if dropped is not None and dropped.resume_from_s is not None:
            # Reconnected: carry on where the radio left off, less what was lost meanwhile.
            resume_s = dropped.resume_from_s + self.script.drop_lost_s
            batch = batch.slice(int(np.searchsorted(batch.t_s, resume_s)), len(batch))
            return PacedSource(self.name, batch, self._clock, self._chunk)
        source = PacedSource(self.name, batch, self._clock, self._chunk)
        drop_s = self.script.drop_after_s.pop(planned.position, None)
        if drop_s is not None:
            self._dropping[planned.position] = _DroppingSource(source, drop_s)
            return self._dropping[planned.position]
        return source

    async def reopen(self, planned: PlannedSet) -> Source:
        return self.for_set(planned)


class _SharedSource:
    """One set's view of a live connection: iterating it pulls from the session-long stream, skipping
    packets the sensor sent before the set started (they queued up during the rest)."""

    def __init__(self, owner: LiveSources, start_s: float | None) -> None:
        self._owner, self._start_s = owner, start_s

    @property
    def name(self) -> str:
        return self._owner.name

    async def batches(self) -> AsyncIterator[ImuBatch]:
        owner = self._owner
        stream = owner.stream()
        while True:
            try:
                batch = await anext(stream)
            except StopAsyncIteration:
                return
            owner.has_streamed = True
            if owner.is_stale(batch, self._start_s):
                owner.discarded_batches += 1
                continue
            yield batch


class LiveSources:
    """A real sensor for the whole session (it reconnects itself; reopen() starts a new connection).

    Between sets nobody reads the sensor and its packets queue up; each set starts with packets sent
    after it started. That needs the session clock and the sensor clock related: the offset between
    them is the smallest (session time on arrival - sample time) seen, i.e. the least-delayed packet.
    """

    def __init__(
        self, open_source: Callable[[], Source], label: str = "sensor", clock: Clock | None = None,
        stale_after_s: float = 0.5,
    ) -> None:
        self._open, self._label, self._clock = open_source, label, clock
        self._stale_after_s = stale_after_s
        self._source: Source | None = None
        self._stream: AsyncIterator[ImuBatch] | None = None
        self._offset_s: float | None = None
        self.has_streamed = False  # until the first batch, a failure is reported, not retried
        self.discarded_batches = 0

    async def connect(self) -> None:
        """Connect and wait for the first packet, so a missing sensor fails before the session starts."""
        try:
            first = await anext(self.stream())
        except StopAsyncIteration:
            raise DeviceError(f"{self.name}: the sensor stream ended before any data arrived") from None
        self.has_streamed = True
        self.is_stale(first, None)  # learn the clock offset from it

    @property
    def name(self) -> str:
        return self._source.name if self._source is not None else self._label

    def stream(self) -> AsyncIterator[ImuBatch]:
        if self._stream is None:
            self._source = self._source or self._open()
            self._stream = aiter(self._source.batches())
        return self._stream

    def is_stale(self, batch: ImuBatch, start_s: float | None) -> bool:
        """Track the clock offset; True if `batch` was sampled before session time start_s."""
        if self._clock is None:
            return False
        offset_s = self._clock.now() - float(batch.t_s[-1])
        self._offset_s = offset_s if self._offset_s is None else min(self._offset_s, offset_s)
        if start_s is None:
            return False
        return float(batch.t_s[-1]) + self._offset_s < start_s - self._stale_after_s

    def for_set(self, planned: PlannedSet) -> Source:
        return _SharedSource(self, self._clock.now() if self._clock is not None else None)

    async def reopen(self, planned: PlannedSet) -> Source:
        await self.close()
        return self.for_set(planned)

    async def close(self) -> None:
        """End the connection now (its cleanup sends the sensor's stop commands)."""
        stream, self._source, self._stream, self._offset_s = self._stream, None, None, None
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):  # a connection that already died has nothing to stop
                await aclose()


class EmulatedSources:
    """`--device emulated:<family>`: each rep set is the simulated lifter served as that vendor's BLE
    sensor and read through the real bleak client; holds come from the plain simulator (the emulator
    plays reps)."""

    def __init__(self, device: str, clock: Clock, speed: float | None = 1.0, seed: int = 1) -> None:
        self.device, self._speed, self._seed = device, speed, seed
        self._holds = SimulatedSources(clock, seed=seed)

    @property
    def name(self) -> str:
        return self.device

    def for_set(self, planned: PlannedSet) -> Source:
        plan = planned.plan
        if plan.is_timed:
            return self._holds.for_set(planned)
        from tempocoach.sensors.devices import open_source

        return open_source(self.device, exercise=plan.exercise, tempo=plan.tempo or "2010",
                           reps=plan.reps or 1, placement=plan.placement_for(), speed=self._speed,
                           seed=self._seed * 1000 + planned.position)

    async def reopen(self, planned: PlannedSet) -> Source:
        return self.for_set(planned)

