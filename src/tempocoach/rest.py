"""Time and keys for the session: an injectable clock, key sources, countdowns and the rest timer.

The session never reads the wall clock directly: it asks a Clock. `VirtualClock` makes a whole
protocol run in milliseconds in tests; `RealClock(speed)` runs in real time (or N times faster for
simulated demos). Keys come from a KeySource: the terminal (non-blocking, no Enter needed) or a script.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

# Keys the session understands (case-insensitive).
KEY_PAUSE = "p"
KEY_SKIP = "s"
KEY_QUIT = "q"
RATING_KEYS = {"1": "strong", "2": "moderate", "3": "weak"}


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class VirtualClock:
    """Time moves only when someone sleeps: a whole session runs as fast as the CPU allows."""

    def __init__(self, start_s: float = 0.0) -> None:
        self._now_s = start_s

    def now(self) -> float:
        return self._now_s

    async def sleep(self, seconds: float) -> None:
        self._now_s += max(0.0, seconds)
        await asyncio.sleep(0)


class RealClock:
    """Monotonic time, running `speed` times faster than the wall clock (speed 1 = real time)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class KeySource(Protocol):
    def poll(self) -> str | None:
        """The next key pressed since the last poll, lower-case, or None; never blocks."""
        ...


class NoKeys:
    def poll(self) -> str | None:
        return None


class ScriptedKeys:
    """Keys pressed at given clock times: [(at_s, key), ...]; each is delivered once, in order."""

    def __init__(self, clock: Clock, presses: list[tuple[float, str]]) -> None:
        self._clock = clock
        self._presses = sorted(presses)

    def poll(self) -> str | None:
        if self._presses and self._presses[0][0] <= self._clock.now():
            return self._presses.pop(0)[1].lower()
        return None


class TerminalKeys:
    """Single key presses from a terminal, read without waiting for Enter (POSIX cbreak mode)."""

    def __init__(self, fd: int | None = None) -> None:
        self._fd = sys.stdin.fileno() if fd is None else fd
        self._saved: list[Any] | None = None

    @staticmethod
    def available() -> bool:
        return os.name == "posix" and sys.stdin.isatty()

    def __enter__(self) -> TerminalKeys:
        import termios
        import tty

        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        return self

    def __exit__(self, *exc: object) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def poll(self) -> str | None:
        ready, _, _ = select.select([self._fd], [], [], 0)
        if not ready:
            return None
        return os.read(self._fd, 1).decode(errors="ignore").lower() or None


@contextlib.contextmanager
def terminal_keys_or_none() -> Iterator[KeySource]:
    """The terminal's keys when stdin is a terminal, else a source that never has a key."""
    if TerminalKeys.available():
        with TerminalKeys() as keys:
            yield keys
    else:
        yield NoKeys()


Say = Callable[[str], None]


async def countdown(clock: Clock, say: Say, seconds: int = 3) -> None:
    for n in range(seconds, 0, -1):
        say(str(n))
        await clock.sleep(1.0)
    say("Go")


def rest_announcements(rest_s: float) -> list[tuple[float, str]]:
    """(seconds left, words) said during a rest: the minutes, 30 s, 20 s, then 10 down to 1."""
    marks: list[tuple[float, str]] = []
    for left in range(int(rest_s) - 1, 0, -1):
        if left <= 10:
            marks.append((float(left), str(left)))
        elif left in (20, 30) or (left % 60 == 0):
            minutes = left // 60
            words = f"{minutes} minute{'s' if minutes > 1 else ''}" if left % 60 == 0 else f"{left} seconds"
            marks.append((float(left), f"{words} left"))
    return marks


async def rest_timer(
    clock: Clock, say: Say, keys: KeySource, rest_s: float, on_key: Callable[[str], Awaitable[bool]],
    tick_s: float = 0.1,
) -> bool:
    """Count a rest down aloud. on_key(key) -> True ends the rest early (skip/quit). True if cut short."""
    if rest_s <= 0:
        return False
    say(f"Rest {round(rest_s)} seconds")
    marks = rest_announcements(rest_s)
    end_s = clock.now() + rest_s
    while (left_s := end_s - clock.now()) > 1e-9:
        while marks and marks[0][0] >= left_s - 1e-9:
            say(marks.pop(0)[1])
        key = keys.poll()
        if key is not None:
            paused_at = clock.now()
            if await on_key(key):
                return True
            end_s += clock.now() - paused_at  # time spent paused does not count as rest
        await clock.sleep(min(tick_s, left_s))
    return False
