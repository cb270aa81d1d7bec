"""Rest timer, countdown and key sources on a virtual clock (and a real pseudo-terminal)."""

from __future__ import annotations

import asyncio
import os
import pty

from tempocoach.rest import (
    KEY_PAUSE,
    KEY_SKIP,
    ScriptedKeys,
    TerminalKeys,
    VirtualClock,
    countdown,
    rest_announcements,
    rest_timer,
)


class Said:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock, self.lines = clock, []  # type: ignore[var-annotated]

    def __call__(self, text: str) -> None:
        self.lines.append((round(self.clock.now(), 2), text))


def test_rest_announcements_count_the_last_ten_seconds() -> None:
    marks = rest_announcements(90.0)
    assert marks[:3] == [(60.0, "1 minute left"), (30.0, "30 seconds left"), (20.0, "20 seconds left")]
    assert [text for _, text in marks[3:]] == [str(n) for n in range(10, 0, -1)]
    assert rest_announcements(5.0) == [(4.0, "4"), (3.0, "3"), (2.0, "2"), (1.0, "1")]
    assert rest_announcements(150.0)[0] == (120.0, "2 minutes left")


def test_rest_timer_speaks_on_time_and_a_pause_does_not_eat_rest() -> None:
    clock = VirtualClock()
    said = Said(clock)

    async def on_key(key: str) -> bool:
        if key == KEY_PAUSE:  # the session waits for the second p; model a 7 s pause
            await clock.sleep(7.0)
        return key == KEY_SKIP

    cut = asyncio.run(rest_timer(clock, said, ScriptedKeys(clock, [(5.0, "p")]), 30.0, on_key))
    assert not cut
    assert said.lines[0] == (0.0, "Rest 30 seconds")
    times = dict((text, t) for t, text in said.lines)
    assert times["20 seconds left"] == 17.0  # 10 s of rest plus the 7 s pause
    assert times["1"] == 36.0 and clock.now() == 37.0


def test_skip_key_ends_the_rest_at_once() -> None:
    clock = VirtualClock()

    async def on_key(key: str) -> bool:
        return key == KEY_SKIP

    cut = asyncio.run(rest_timer(clock, Said(clock), ScriptedKeys(clock, [(12.0, "S")]), 60.0, on_key))
    assert cut and abs(clock.now() - 12.0) < 0.11


def test_countdown_one_number_per_second() -> None:
    clock = VirtualClock()
    said = Said(clock)
    asyncio.run(countdown(clock, said, 3))
    assert said.lines == [(0.0, "3"), (1.0, "2"), (2.0, "1"), (3.0, "Go")]


def test_terminal_keys_read_single_presses_without_enter() -> None:
    leader, follower = pty.openpty()
    try:
        with TerminalKeys(follower) as keys:
            assert keys.poll() is None
            os.write(leader, b"P")
            assert keys.poll() == "p"
            os.write(leader, b"2q")
            assert keys.poll() == "2" and keys.poll() == "q" and keys.poll() is None
    finally:
        os.close(leader)
        os.close(follower)
