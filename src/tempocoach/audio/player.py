"""CuePlayer: plays scheduled clips on a session clock, one at a time, by priority.

Rules, all decided on the given clock so a virtual clock reproduces them exactly:
- An item is due when now + latency_s >= at_s (output latency is paid in advance so the lifter
  hears it on time).
- One sound at a time. A due item of higher priority cuts the sounding one; equal or lower waits.
- An item that would be heard after its expires_s is stale and dropped (a late count misleads).
- With no sound device the player switches to silence, carries on, and reports it once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tempocoach.audio.clip import Clip
from tempocoach.audio.outputs import AudioDeviceUnavailable, AudioOutput, NullOutput
from tempocoach.audio.speech import SpeechRenderer
from tempocoach.audio.tones import tone
from tempocoach.errors import AudioError

DEFAULT_STALE_AFTER_S = 0.75  # a cue heard later than this after its time is dropped


class Clock(Protocol):
    def now_s(self) -> float: ...


class VirtualClock:
    """A clock that moves only when told: tests and offline runs."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.t_s = start_s

    def now_s(self) -> float:
        return self.t_s

    def advance(self, dt_s: float) -> float:
        self.t_s += dt_s
        return self.t_s


class MonotonicClock:
    """Session time driven by the wall's monotonic clock; anchor() maps it onto sample timestamps."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.anchor(start_s)

    def anchor(self, session_s: float) -> None:
        """From now on, this instant is session time session_s (e.g. the newest sample's timestamp)."""
        self._offset_s = session_s - time.monotonic()

    def now_s(self) -> float:
        return time.monotonic() + self._offset_s


Outcome = Literal["played", "cut", "stale"]


@dataclass
class PlayRecord:
    """What became of one scheduled item. Times are session seconds; *_wall_s are perf_counter."""

    label: str
    at_s: float
    priority: int
    expires_s: float
    outcome: Outcome = "played"
    started_s: float | None = None
    ended_s: float | None = None
    scheduled_wall_s: float = 0.0
    started_wall_s: float | None = None
    silent: bool = False

    @property
    def dispatch_latency_s(self) -> float | None:
        """Wall time from schedule() to the output accepting the clip."""
        return None if self.started_wall_s is None else self.started_wall_s - self.scheduled_wall_s


@dataclass(eq=False)
class _Item:
    clip: Clip
    record: PlayRecord
    due_s: float
    seq: int

    def rank(self) -> tuple[int, float, int]:
        # Highest priority first, then the earlier cue, then first scheduled.
        return (-self.record.priority, self.record.at_s, self.seq)


@dataclass
class _Sounding:
    item: _Item
    start_s: float
    end_s: float


@dataclass
class CuePlayer:
    output: AudioOutput
    clock: Clock
    volume: float = 1.0
    latency_s: float = 0.0
    renderer: SpeechRenderer | None = None
    stale_after_s: float = DEFAULT_STALE_AFTER_S
    # Session seconds per wall second (a simulated set run at --speed N): a device plays a 1 s clip
    # in 1 wall second, which is N seconds of session time. A file timeline is always in session time.
    clock_rate: float = 1.0
    on_notice: Callable[[str], None] | None = None
    history: list[PlayRecord] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 0.0 <= self.volume <= 1.0:
            raise AudioError(f"volume {self.volume} is outside 0..1; set e.g. 0.8")
        if self.clock_rate <= 0:
            raise AudioError(f"clock_rate {self.clock_rate} must be > 0 (session seconds per wall second)")
        if not 0.0 <= self.latency_s <= 1.0:
            raise AudioError(f"output latency {self.latency_s} s is outside 0..1 s; recalibrate it")
        self._pending: list[_Item] = []
        self._sounding: _Sounding | None = None
        self._cursor_s = float("-inf")  # no decision is ever placed before the last one
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None

    # ------------------------------------------------------------ scheduling

    def schedule(
        self,
        at_s: float,
        sound: Clip | str,
        priority: int = 0,
        expires_s: float | None = None,
        label: str | None = None,
    ) -> PlayRecord:
        """Queue sound (a Clip, or a phrase the renderer speaks) to be heard at session time at_s."""
        clip = self._clip_for(sound)
        record = PlayRecord(
            label=label or clip.label or "clip",
            at_s=at_s,
            priority=priority,
            expires_s=at_s + self.stale_after_s if expires_s is None else expires_s,
            scheduled_wall_s=time.perf_counter(),
        )
        self._pending.append(_Item(clip.scaled(self.volume), record, at_s - self.latency_s, next(self._seq)))
        self.history.append(record)
        if self._wake is not None:
            self._wake.set()
        return record

    def schedule_cue(self, cue: Any) -> PlayRecord:
        """Queue a coach Cue (at_s, text, priority, expires_s, optional tone_hz): tone, then words."""
        text = getattr(cue, "text", "") or ""
        tone_hz = getattr(cue, "tone_hz", None)
        clip: Clip | None = tone(float(tone_hz), 0.12, label=f"tone {tone_hz}") if tone_hz else None
        if text:
            spoken = self._clip_for(text)
            clip = spoken if clip is None else clip.then(spoken, gap_s=0.03)
        if clip is None:
            raise AudioError(f"cue at {cue.at_s:.2f} s has neither text nor tone; the coach must give one")
        label = text or clip.label
        return self.schedule(float(cue.at_s), clip, int(getattr(cue, "priority", 0)), cue.expires_s, label)

    def _clip_for(self, sound: Clip | str) -> Clip:
        if isinstance(sound, Clip):
            return sound.resampled(self.output.sample_rate_hz)
        if self.renderer is None:
            raise AudioError(f"cannot speak {sound!r}: the player was built without a SpeechRenderer")
        return self.renderer.clip(sound).resampled(self.output.sample_rate_hz)

    # ------------------------------------------------------------ playing

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing sounding at the clock's now."""
        return not self._pending and (self._sounding is None or self._sounding.end_s <= self.clock.now_s())

    def pump(self, now_s: float | None = None) -> list[PlayRecord]:
        """Do everything due up to now_s (default: the clock's now); returns the records started."""
        now = self.clock.now_s() if now_s is None else now_s
        started: list[PlayRecord] = []
        while self._step(now, started):
            pass
        self._drop_stale(now)
        return started

    def _decision_time(self, wanted_s: float, now: float) -> float:
        # A file timeline can place a clip at the exact instant it became due; a device only now.
        if self.output.places_on_timeline:
            return max(wanted_s, self._cursor_s)
        return now

    def _step(self, now: float, started: list[PlayRecord]) -> bool:
        """Take the next decision due by now (cut, finish, start); False when there is none."""
        sounding = self._sounding
        if sounding is not None:
            outranking = [i.due_s for i in self._pending if i.record.priority > sounding.item.record.priority]
            cutter_due = min(outranking, default=now + 1.0)
            t = self._decision_time(cutter_due, now)
            if cutter_due <= now and t < sounding.end_s:
                self._cut(sounding, t)
                self._start_best(t, started)
                return True
            if sounding.end_s > now:
                return False
            self._cursor_s = max(self._cursor_s, sounding.end_s)
            self._sounding = None
        if not self._pending:
            return False
        first_due = min(i.due_s for i in self._pending)
        if first_due > now:
            return False
        self._start_best(self._decision_time(first_due, now), started)
        return True

    def _start_best(self, t: float, started: list[PlayRecord]) -> None:
        """Play the best item due at t; stale ones are dropped first (then maybe nothing plays)."""
        self._cursor_s = max(self._cursor_s, t)
        self._drop_stale(t)
        due = [i for i in self._pending if i.due_s <= t]
        if due:
            best = min(due, key=_Item.rank)
            self._pending.remove(best)
            self._play(best, t)
            started.append(best.record)

    def _play(self, item: _Item, t: float) -> None:
        try:
            self.output.play(item.clip, t)
        except AudioDeviceUnavailable as exc:
            self._fall_back_to_silence(exc)
            self.output.play(item.clip, t)
        record = item.record
        rate = 1.0 if self.output.places_on_timeline else self.clock_rate
        record.started_s, record.ended_s = t, t + item.clip.duration_s * rate
        record.started_wall_s = time.perf_counter()
        record.silent = isinstance(self.output, NullOutput)
        self._sounding = _Sounding(item, t, record.ended_s)

    def _cut(self, sounding: _Sounding, t: float) -> None:
        self.output.stop(t)
        sounding.item.record.outcome = "cut"
        sounding.item.record.ended_s = t
        self._sounding = None

    def _drop_stale(self, t: float) -> None:
        for item in [i for i in self._pending if t + self.latency_s > i.record.expires_s]:
            item.record.outcome = "stale"
            self._pending.remove(item)

    def _fall_back_to_silence(self, exc: AudioError) -> None:
        self.output = NullOutput(self.output.sample_rate_hz)
        self.notice(f"{exc}; carrying on without sound (--wav FILE.wav writes the cues to a file instead)")

    def notice(self, message: str) -> None:
        """Report something the user should know, once per distinct message."""
        if message in self.notices:
            return
        self.notices.append(message)
        if self.on_notice is not None:
            self.on_notice(message)

    def seconds_until_next(self) -> float | None:
        """Clock seconds until pump() may have something to do; None when nothing is queued or sounding."""
        now = self.clock.now_s()
        times = [i.due_s for i in self._pending]
        if self._sounding is not None:
            times.append(self._sounding.end_s)
        return max(0.0, min(times) - now) if times else None

    async def run(self, stop: asyncio.Event, max_wait_s: float = 0.05) -> None:
        """Pump on the clock until stop is set; wakes at once when schedule() is called (same loop)."""
        self._wake = asyncio.Event()
        try:
            while not stop.is_set():
                self.pump()
                wait_s = self.seconds_until_next()
                wait_s = max_wait_s if wait_s is None else min(max(wait_s, 0.0005), max_wait_s)
                self._wake.clear()
                stopper = asyncio.ensure_future(stop.wait())
                waker = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({stopper, waker}, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
                for task in (stopper, waker):
                    task.cancel()
            self.pump()
        finally:
            self._wake = None

    def close(self) -> None:
        """Drop what is still queued and close the output (a WavFileOutput writes its file here)."""
        self.pump()
        for item in self._pending:
            item.record.outcome = "stale"
        self._pending.clear()
        self.output.close()
