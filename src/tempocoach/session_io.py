"""The session's outputs: a voice (the audio CuePlayer, or silence) and a display (terminal or list).

Times given to a Voice are on the session clock. A coach's cues carry sample-clock times; the caller
passes the shift that maps them onto the session clock. A voice that fails (no sound card) is the
player's business: it falls back to silence and reports once through `on_notice`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol

from rich.console import Console

from tempocoach.rest import Clock


class Voice(Protocol):
    def say(self, text: str, at_s: float, priority: int = 1) -> None: ...

    def cue(self, cue: Any, shift_s: float) -> None: ...

    def pump(self) -> None: ...

    def prepare(self, phrases: Iterable[str]) -> None: ...

    def busy_until(self) -> float:
        """Session time by which everything said so far will have been heard."""
        ...

    def close(self) -> None: ...


class Display(Protocol):
    def show(self, text: str, kind: str = "info") -> None: ...


class SilentVoice:
    def say(self, text: str, at_s: float, priority: int = 1) -> None:
        return None

    def cue(self, cue: Any, shift_s: float) -> None:
        return None

    def pump(self) -> None:
        return None

    def prepare(self, phrases: Iterable[str]) -> None:
        return None

    def busy_until(self) -> float:
        return 0.0

    def close(self) -> None:
        return None


class ListDisplay:
    """Keeps what would be shown (tests, and a quiet mode)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def show(self, text: str, kind: str = "info") -> None:
        self.lines.append((kind, text))


class ConsoleDisplay:
    """Spoken words, notes and warnings on the terminal, one line each."""

    STYLES: ClassVar[dict[str, str]] = {"say": "bold cyan", "info": "dim", "warn": "yellow", "set": "bold"}

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def show(self, text: str, kind: str = "info") -> None:
        prefix = "» " if kind == "say" else ""
        self.console.print(f"{prefix}{text}", style=self.STYLES.get(kind, ""), markup=False)

    def report(self, report: Any) -> None:
        """The post-set adherence table and summary (tempocoach.coach.report_render)."""
        from tempocoach.coach.report_render import render_report

        self.console.print(render_report(report))


class _PlayerClock:
    """The CuePlayer's clock protocol (now_s) over the session's clock (now)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now_s(self) -> float:
        return self._clock.now()


class PlayerVoice:
    """Speaks through tempocoach.audio's CuePlayer: phrases rendered once, played on the session clock."""

    # Announcements are long and not time-critical: they may start this late and still be worth hearing.
    ANNOUNCE_STALE_S = 5.0

    # Silence left after a spoken line before the next one starts.
    GAP_S = 0.15

    def __init__(self, player: Any) -> None:
        self.player = player
        self._busy_until_s = 0.0

    @staticmethod
    def open(clock: Clock, output_kind: str, wav_path: Any = None, on_notice: Any = None) -> PlayerVoice:
        from tempocoach.audio.outputs import open_output
        from tempocoach.audio.player import CuePlayer
        from tempocoach.audio.speech import SpeechRenderer
        from tempocoach.config import UserConfig

        config = UserConfig.load()
        player = CuePlayer(output=open_output(output_kind, wav_path), clock=_PlayerClock(clock),
                           volume=config.volume, latency_s=config.output_latency_s,
                           renderer=SpeechRenderer(config.voice, config.speech_rate_wpm),
                           on_notice=on_notice, clock_rate=float(getattr(clock, "speed", 1.0)))
        return PlayerVoice(player)

    def say(self, text: str, at_s: float, priority: int = 1) -> None:
        record = self.player.schedule(at_s, text, priority=priority, expires_s=at_s + self.ANNOUNCE_STALE_S)
        self.player.pump()
        duration_s = self._clip_duration_s(text, record)
        self._busy_until_s = max(self._busy_until_s, at_s) + duration_s + self.GAP_S

    def _clip_duration_s(self, text: str, record: Any) -> float:
        if record.started_s is not None and record.ended_s is not None:
            return float(record.ended_s - record.started_s)
        renderer = self.player.renderer
        return float(renderer.clip(text).duration_s) if renderer is not None else 0.0

    def busy_until(self) -> float:
        return self._busy_until_s

    def cue(self, cue: Any, shift_s: float) -> None:
        if dataclasses.is_dataclass(cue) and not isinstance(cue, type):
            changes = {"at_s": float(getattr(cue, "at_s", 0.0)) + shift_s}
            expires = getattr(cue, "expires_s", None)
            if expires is not None:
                changes["expires_s"] = float(expires) + shift_s
            shifted = dataclasses.replace(cue, **changes)
            self.player.schedule_cue(shifted)
        else:
            text = getattr(cue, "text", None) or str(cue)
            self.player.schedule(float(getattr(cue, "at_s", 0.0)) + shift_s, text)
        self.player.pump()

    def pump(self) -> None:
        self.player.pump()

    def prepare(self, phrases: Iterable[str]) -> None:
        """Render the set's phrases now, between sets, so no cue waits for speech synthesis."""
        if self.player.renderer is not None:
            self.player.renderer.prerender(sorted(phrases))

    def close(self) -> None:
        self.player.close()
