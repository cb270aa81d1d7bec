"""Running one set: samples in, phase events and cues out, until the set is over.

A rep set ends when the target rep is finished, when the lifter has racked or stopped (no phase event
for `stop_after_s` of sample time after a rep), when no rep starts within `start_timeout_s`, or on
a skip/quit key. A timed set (hold, pre-activation, flex) ends when its duration has passed on the
sample clock; it is counted aloud and the sensor checks the lifter stays still.

Bad data never ends a set: a batch whose timestamps go backwards is counted and dropped, and a
source that drops its connection is reopened (reps so far are kept).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tempocoach.errors import DataFormatError, DeviceError
from tempocoach.events import MotionFrame, PhaseEvent, Rep
from tempocoach.plan import PlannedSet
from tempocoach.rest import KEY_PAUSE, KEY_QUIT, KEY_SKIP, Clock, KeySource
from tempocoach.sensors.base import ImuBatch, Source

# A sample counts as movement in a hold beyond these (a still, tensed limb stays well inside them).
HOLD_GYRO_LIMIT_RADPS = 0.35
HOLD_ACC_LIMIT_MPS2 = 1.2


class Pipeline(Protocol):
    def update(self, batch: ImuBatch) -> list[PhaseEvent]: ...

    def finish(self) -> list[PhaseEvent]: ...

    @property
    def reps(self) -> list[Rep]: ...

    def refined(self) -> tuple[list[Rep], MotionFrame]: ...


class Coach(Protocol):
    def on_event(self, event: PhaseEvent) -> Sequence[Any]: ...

    def tick(self, now_s: float) -> Sequence[Any]: ...


class SourceProvider(Protocol):
    """Hands the session a Source for each set; reopen() after a dropped connection.

    A provider may expose `has_streamed`: while False, a connection failure is raised at once
    (nothing to reconnect to) instead of being retried.
    """

    @property
    def name(self) -> str: ...

    def for_set(self, planned: PlannedSet) -> Source: ...

    async def reopen(self, planned: PlannedSet) -> Source: ...


class SetSpeaker(Protocol):
    """Speech during a set: at_s is on the sample clock (None: now)."""

    def say(self, text: str, at_s: float | None = None) -> None: ...

    def cue(self, cue: Any) -> None: ...

    def pump(self) -> None: ...


@dataclass(frozen=True)
class SetLimits:
    stop_after_s: float = 8.0
    start_timeout_s: float = 60.0
    max_reconnects: int = 5
    reconnect_wait_s: float = 1.0
    pause_poll_s: float = 0.1


@dataclass
class SetRun:
    """What happened in one set, on the source's sample clock."""

    outcome: str = "done"  # done | stopped | skipped | quit
    reps: list[Rep] = field(default_factory=list)
    events: list[PhaseEvent] = field(default_factory=list)
    batches: list[ImuBatch] = field(default_factory=list)
    transcript: list[tuple[float, str]] = field(default_factory=list)
    dropped_batches: int = 0
    reconnects: int = 0
    moved_s: float | None = None
    hold_s: float = 0.0
    clock_offset_s: float | None = None  # session clock minus sample clock, fixed at the first batch

    @property
    def samples(self) -> ImuBatch:
        return ImuBatch.concat(self.batches)

    @property
    def first_t_s(self) -> float | None:
        return float(self.batches[0].t_s[0]) if self.batches else None

    @property
    def last_t_s(self) -> float | None:
        return float(self.batches[-1].t_s[-1]) if self.batches else None


def cue_text(cue: Any) -> str:
    """The words of a coach's cue, whatever its type (objects with .text, or plain strings)."""
    text = getattr(cue, "text", None)
    return str(text if text is not None else cue)


class SetStream:
    """The set's batches, in order, with reconnects and garbled batches handled."""

    def __init__(
        self, provider: SourceProvider, planned: PlannedSet, clock: Clock, limits: SetLimits, run: SetRun
    ) -> None:
        self._provider, self._planned, self._clock = provider, planned, clock
        self._limits, self._run = limits, run
        self._offset_s = 0.0

    async def __aiter__(self) -> AsyncIterator[ImuBatch]:
        source = self._provider.for_set(self._planned)
        while True:
            try:
                async for batch in source.batches():
                    clean = self._clean(batch)
                    if clean is not None:
                        if self._run.clock_offset_s is None:
                            self._run.clock_offset_s = self._clock.now() - float(clean.t_s[-1])
                        yield clean
                return
            except (DeviceError, OSError) as exc:
                if not getattr(self._provider, "has_streamed", True):
                    raise  # never connected: the source's own message says what to do
                if self._run.reconnects >= self._limits.max_reconnects:
                    raise DeviceError(
                        f"{self._provider.name}: connection lost {self._run.reconnects + 1} times"
                        f" in set {self._planned.position + 1} ({exc}); check the sensor's battery and range"
                    ) from None
                self._run.reconnects += 1
                await self._clock.sleep(self._limits.reconnect_wait_s)
                source = await self._provider.reopen(self._planned)

    def _clean(self, batch: ImuBatch) -> ImuBatch | None:
        if len(batch) == 0:
            return None
        last = self._run.last_t_s
        t_s = batch.t_s + self._offset_s
        if last is not None and t_s[0] <= last:
            if self._run.reconnects and t_s[0] < last - 1.0:
                # A reopened source restarted its clock: continue the set's time line after the gap.
                step_s = float(np.median(np.diff(batch.t_s))) if len(batch) > 1 else 0.01
                self._offset_s += last - float(t_s[0]) + step_s
                t_s = batch.t_s + self._offset_s
            else:
                self._run.dropped_batches += 1
                return None
        if self._offset_s:
            batch = ImuBatch(t_s, batch.acc_mps2, batch.gyr_radps, batch.mag_ut, batch.meta)
        return batch


async def _wait_while_paused(
    keys: KeySource, clock: Clock, limits: SetLimits, speaker: SetSpeaker
) -> str | None:
    """Paused until p again; returns 's' or 'q' if pressed while paused."""
    speaker.say("Paused. Press p to continue.")
    while True:
        key = keys.poll()
        if key == KEY_PAUSE:
            speaker.say("Continue")
            return None
        if key in (KEY_SKIP, KEY_QUIT):
            return key
        await clock.sleep(limits.pause_poll_s)


async def _control_key(keys: KeySource, clock: Clock, limits: SetLimits, speaker: SetSpeaker) -> str | None:
    """'s' or 'q' if the set must end now, handling pause in between."""
    key = keys.poll()
    if key == KEY_PAUSE:
        key = await _wait_while_paused(keys, clock, limits, speaker)
    return key if key in (KEY_SKIP, KEY_QUIT) else None


async def run_rep_set(
    planned: PlannedSet, stream: SetStream, run: SetRun, pipeline: Pipeline, coach: Coach | None,
    keys: KeySource, clock: Clock, limits: SetLimits, speaker: SetSpeaker,
) -> SetRun:
    """Feed the set's samples through the pipeline and coach until the set is over."""
    target = planned.plan.reps or 0
    last_event_t: float | None = None
    seen_reps = 0

    def handle(events: Sequence[PhaseEvent], now_s: float) -> None:
        nonlocal seen_reps
        for event in events:
            run.events.append(event)
            if event.kind == "rep":
                seen_reps += 1
            for cue in coach.on_event(event) if coach is not None else []:
                speaker.cue(cue)
            if coach is None and event.kind == "rep":
                speaker.say(str(seen_reps), now_s)
        if coach is not None:
            for cue in coach.tick(now_s):
                speaker.cue(cue)
        speaker.pump()

    async for batch in stream:
        run.batches.append(batch)
        now_s = float(batch.t_s[-1])
        try:
            events = pipeline.update(batch)
        except DataFormatError:
            run.dropped_batches += 1
            continue
        if events:
            last_event_t = now_s
        handle(events, now_s)
        if target and seen_reps >= target:
            break
        key = await _control_key(keys, clock, limits, speaker)
        if key is not None:
            run.outcome = "skipped" if key == KEY_SKIP else "quit"
            break
        started = run.first_t_s if run.first_t_s is not None else now_s
        if seen_reps and last_event_t is not None and now_s - last_event_t >= limits.stop_after_s:
            break
        if not seen_reps and now_s - (last_event_t or started) >= limits.start_timeout_s:
            break
    if run.outcome in ("done", "stopped"):
        handle(pipeline.finish(), run.last_t_s or 0.0)
    finish = getattr(coach, "finish", None)  # the coach withdraws pending counts and may say a last line
    if finish is not None:
        for cue in finish(run.last_t_s or 0.0):
            speaker.cue(cue)
    run.reps = list(pipeline.refined()[0])  # the post-set report reads the set with all of it in hand
    if run.outcome == "done" and target and len(run.reps) < target:
        run.outcome = "stopped"
    return run


def hold_movement_s(batch: ImuBatch, reference_acc: np.ndarray) -> float:
    """Seconds of this batch in which the sensor moved (rotation, or acceleration off the hold's)."""
    gyro = np.linalg.norm(batch.gyr_radps, axis=1)
    acc_off = np.linalg.norm(batch.acc_mps2 - reference_acc, axis=1)
    moving = (gyro > HOLD_GYRO_LIMIT_RADPS) | (acc_off > HOLD_ACC_LIMIT_MPS2)
    if len(batch) < 2:
        return 0.0
    dt = np.diff(batch.t_s, append=batch.t_s[-1] + float(np.median(np.diff(batch.t_s))))
    return float(np.sum(dt[moving]))


def hold_count_words(duration_s: float) -> dict[int, str]:
    """Second mark -> words: every second for holds up to 15 s; else every 5 s, then 5 down to 1."""
    whole = round(duration_s)
    words: dict[int, str] = {}
    for second in range(1, whole):
        left = whole - second
        if whole <= 15:
            words[second] = str(second)
        elif left <= 5:
            words[second] = str(left)
        elif second % 5 == 0:
            words[second] = f"{second} seconds"
    words[whole] = "Done. Relax."
    return words


async def run_timed_set(
    planned: PlannedSet, stream: SetStream, run: SetRun, keys: KeySource, clock: Clock,
    limits: SetLimits, speaker: SetSpeaker, on_moved: Callable[[float], None] | None = None,
) -> SetRun:
    """Time a hold on the sample clock, counting aloud and flagging movement."""
    duration_s = float(planned.plan.duration_s or 0.0)
    words = hold_count_words(duration_s)
    moved_s, warned_at = 0.0, -1e9
    reference: np.ndarray | None = None
    start_s: float | None = None
    said = 0
    async for batch in stream:
        run.batches.append(batch)
        if start_s is None:
            start_s = float(batch.t_s[0])
            reference = np.median(batch.acc_mps2[: max(1, len(batch) // 2)], axis=0)
        assert reference is not None
        elapsed_s = float(batch.t_s[-1]) - start_s
        moved_now = hold_movement_s(batch, reference)
        moved_s += moved_now
        if moved_now > 0.1 and elapsed_s - warned_at > 3.0:
            warned_at = elapsed_s
            speaker.say("Stay still", float(batch.t_s[-1]))
            if on_moved is not None:
                on_moved(elapsed_s)
        while said < int(elapsed_s) and said < round(duration_s):
            said += 1
            if said in words:
                speaker.say(words[said], start_s + said)
        speaker.pump()
        if elapsed_s >= duration_s:
            break
        key = await _control_key(keys, clock, limits, speaker)
        if key is not None:
            run.outcome = "skipped" if key == KEY_SKIP else "quit"
            break
    run.moved_s = moved_s
    run.hold_s = (run.last_t_s or 0.0) - (start_s or 0.0)
    if run.outcome == "done" and run.hold_s < duration_s - 0.5:
        run.outcome = "stopped"
    return run

