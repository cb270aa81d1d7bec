"""The session survives garbled packets and a missing sound card, and its audio can go to a WAV file."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from tempocoach.logbook import Logbook
from tempocoach.plan import PlannedSet, Protocol, parse_protocol
from tempocoach.rest import NoKeys, VirtualClock
from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.session import SessionOptions, SessionParts, SessionResult, run_session
from tempocoach.session_io import ListDisplay, PlayerVoice, Voice
from tempocoach.session_sources import SimulatedSources

TESTS = Path(__file__).resolve().parent
ONE_SET = """
name = "One set"
description = "two reps"
[[blocks]]
name = "B"
[[blocks.sets]]
exercise = "back-squat"
tempo = "2010"
reps = 2
rest_s = 0
"""


class GarbledSource:
    """Wraps a source and re-sends every 7th packet after the next one (a repeat with old timestamps)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.garbled = 0

    @property
    def name(self) -> str:
        return self.inner.name

    async def batches(self):  # type: ignore[no-untyped-def]
        held: ImuBatch | None = None
        count = 0
        async for batch in self.inner.batches():
            count += 1
            yield batch
            if held is not None:
                self.garbled += 1
                yield held
                held = None
            if count % 7 == 0:
                held = batch


class GarblingSources(SimulatedSources):
    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.sources: list[GarbledSource] = []

    def for_set(self, planned: PlannedSet) -> Source:
        source = GarbledSource(super().for_set(planned))
        self.sources.append(source)
        return source


def _run(protocol: Protocol, tmp_path: Path, sources: SimulatedSources | None = None,
         voice: Voice | None = None, display: ListDisplay | None = None) -> tuple[SessionResult, Logbook]:
    clock = sources._clock if sources is not None else VirtualClock()
    assert isinstance(clock, VirtualClock)
    book = Logbook(tmp_path / f"log-{len(list(tmp_path.glob('log-*')))}.sqlite3")
    sources = sources or SimulatedSources(clock)
    parts = SessionParts(clock, NoKeys(), sources, book, display=display or ListDisplay())
    if voice is not None:
        parts.voice = voice
    options = SessionOptions(rating_timeout_s=1.0)
    return asyncio.run(run_session(protocol, parts, options)), book


def test_garbled_packets_are_dropped_and_counted_without_losing_reps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    protocol = parse_protocol(ONE_SET, "one.toml", "one")
    sources = GarblingSources(VirtualClock())
    garbled, _ = _run(protocol, tmp_path, sources)
    clean, _ = _run(protocol, tmp_path)
    injected = sum(s.garbled for s in sources.sources)
    assert injected > 10
    assert garbled.sets[0].dropped_batches == injected
    assert garbled.sets[0].reps == clean.sets[0].reps


def test_missing_sound_card_falls_back_to_screen_once_and_the_session_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    monkeypatch.setenv("ALSA_CONFIG_PATH", f"/usr/share/alsa/alsa.conf:{TESTS / 'asound-nocard.conf'}")
    clock = VirtualClock()
    display = ListDisplay()
    voice = PlayerVoice.open(clock, "speaker", on_notice=lambda m: display.show(m, "warn"))
    result, book = _run(parse_protocol(ONE_SET, "one.toml", "one"), tmp_path, SimulatedSources(clock),
                        voice, display)
    voice.close()
    assert result.status == "complete" and len(book.sets()) == 1
    warnings = [text for kind, text in display.lines if kind == "warn"]
    assert len(warnings) == 1 and "no sound device" in warnings[0]


def test_session_audio_written_to_a_wav_timeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    clock = VirtualClock()
    wav_path = tmp_path / "session.wav"
    voice = PlayerVoice.open(clock, "wav", wav_path)
    result, _ = _run(parse_protocol(ONE_SET, "one.toml", "one"), tmp_path, SimulatedSources(clock), voice)
    voice.close()
    with wave.open(str(wav_path)) as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16).astype(float)
    assert len(samples) / rate == pytest.approx(clock.now(), abs=6.0)

    def loud(at_s: float) -> bool:
        window = samples[int(at_s * rate): int((at_s + 0.4) * rate)]
        return bool(window.size) and float(np.sqrt(np.mean(window ** 2))) > 300.0

    said = dict((text, t) for t, text in reversed(result.transcript))
    assert loud(said["Go"]) and loud(said["Set 1 of 1: Back squat. 2 reps, tempo 2 0 1 0."])
    assert loud(said["down"])
    # Silence where nothing was said: the countdown's gaps.
    assert not loud(said["3"] + 0.6)
