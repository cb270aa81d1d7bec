"""Real playback through simpleaudio and ALSA into a file sink, and the no-sound-card fallback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tempocoach.audio.clip import Clip
from tempocoach.audio.outputs import AudioDeviceUnavailable, SimpleaudioOutput
from tempocoach.audio.player import CuePlayer, VirtualClock
from tempocoach.audio.tones import phase_tone, start_chime, tick, tone
from tempocoach.events import Phase

TESTS = Path(__file__).parent
ReadSink = Callable[[int], bytes]


def read_when_complete(path: Path, expected_bytes: int, timeout_s: float = 5.0) -> bytes:
    """The sink is fed through `cat` in a pipe, so bytes land a moment after playback returns."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= expected_bytes:
            time.sleep(0.05)  # let a too-long write show up too
            return path.read_bytes()
        time.sleep(0.01)
    return path.read_bytes() if path.exists() else b""


@pytest.fixture
def file_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ReadSink:
    sink = tmp_path / "alsa-out.raw"
    monkeypatch.setenv("ALSA_CONFIG_PATH", f"/usr/share/alsa/alsa.conf:{TESTS / 'asound-file.conf'}")
    monkeypatch.setenv("TEMPOCOACH_ALSA_SINK", str(sink))
    return lambda expected_bytes: read_when_complete(sink, expected_bytes)


@pytest.fixture
def no_sound_card(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", f"/usr/share/alsa/alsa.conf:{TESTS / 'asound-nocard.conf'}")


def test_simpleaudio_writes_exactly_the_played_samples(file_sink: ReadSink) -> None:
    clip = tone(440.0, 0.5)
    output = SimpleaudioOutput()
    output.play(clip, 0.0)
    output.wait_done()
    assert file_sink(2 * len(clip)) == clip.samples.astype("<i2").tobytes()


def test_player_sends_each_cue_to_the_device_in_order_at_volume(file_sink: ReadSink) -> None:
    clips = [start_chime(), phase_tone(Phase.ECCENTRIC), tick(), phase_tone(Phase.CONCENTRIC)]
    output = SimpleaudioOutput()
    clock = VirtualClock()
    player = CuePlayer(output, clock, volume=0.5)
    for k, clip in enumerate(reversed(clips)):
        player.schedule(3.0 - k, clip)  # scheduled out of order on purpose
    while clock.now_s() < 4.0:
        clock.advance(0.05)
        if player.pump():
            output.wait_done()  # the null slave is unpaced: finish the write before the next open
    expected = b"".join(c.scaled(0.5).samples.astype("<i2").tobytes() for c in clips)
    assert file_sink(len(expected)) == expected
    assert [r.outcome for r in player.history] == ["played"] * 4
    assert not any(r.silent for r in player.history)
    assert player.notices == []


def test_played_bytes_decode_back_to_the_clip(file_sink: ReadSink) -> None:
    clip = tone(587.3, 0.3)
    output = SimpleaudioOutput()
    output.play(clip.scaled(0.8), 0.0)
    output.wait_done()
    got = np.frombuffer(file_sink(2 * len(clip)), dtype="<i2")
    assert np.abs(got.astype(np.int32) - np.round(clip.samples * 0.8).astype(np.int32)).max() <= 1


def test_no_sound_card_raises_device_unavailable(no_sound_card: None) -> None:
    output = SimpleaudioOutput()
    with pytest.raises(AudioDeviceUnavailable, match="no sound device"):
        output.play(tick(), 0.0)


def test_no_sound_card_falls_back_to_silence_and_says_so_once(
    no_sound_card: None, capfd: pytest.CaptureFixture[str]
) -> None:
    told: list[str] = []
    clock = VirtualClock()
    player = CuePlayer(SimpleaudioOutput(), clock, on_notice=told.append)
    for k in range(5):
        player.schedule(0.5 * k, Clip(tick().samples, label=f"tick{k}"))
    while clock.now_s() < 3.0:
        clock.advance(0.05)
        player.pump()
    assert len(told) == 1 and player.notices == told
    assert "no sound device" in told[0] and "--wav" in told[0]
    assert [r.outcome for r in player.history] == ["played"] * 5
    assert all(r.silent for r in player.history)
    assert player.output.name == "silent"
    _, err = capfd.readouterr()
    assert "ALSA lib" not in err  # libasound's own error lines are silenced
