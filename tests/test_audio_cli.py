"""The voice commands: say, voices, calibrate-latency (typed, refused, and measured in a real terminal)."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tempocoach.audio.calibration import latency_from_ms, latency_from_taps
from tempocoach.audio.clip import read_wav
from tempocoach.commands import voice
from tempocoach.config import UserConfig
from tempocoach.errors import AudioError

TESTS = Path(__file__).parent
FILE_SINK_CONF = f"/usr/share/alsa/alsa.conf:{TESTS / 'asound-file.conf'}"
NO_CARD_CONF = f"/usr/share/alsa/alsa.conf:{TESTS / 'asound-nocard.conf'}"


def voice_app() -> typer.Typer:
    app = typer.Typer()
    voice.register(app)
    return app


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path / "home"))


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(voice_app(), list(args))
    return result.exit_code, result.output, result.exception


def test_say_out_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "said.wav"
    code, output, _ = invoke("say", "push the floor away", "--out", str(out), "--rate", "150")
    assert code == 0, output
    assert f"wrote {out}" in output
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
    clip = read_wav(out)
    assert clip.rms() > 0.02 and 0.8 < clip.duration_s < 4.0


def test_say_plays_through_the_sound_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = tmp_path / "sink.raw"
    monkeypatch.setenv("ALSA_CONFIG_PATH", FILE_SINK_CONF)
    monkeypatch.setenv("TEMPOCOACH_ALSA_SINK", str(sink))
    code, output, _ = invoke("say", "hold", "--engine", "espeak-ng")
    assert code == 0, output
    reference = tmp_path / "hold.wav"
    invoke("say", "hold", "--engine", "espeak-ng", "--out", str(reference))
    expected = read_wav(reference).samples.astype("<i2").tobytes()
    deadline = time.monotonic() + 5
    while (not sink.exists() or sink.stat().st_size < len(expected)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sink.read_bytes() == expected


def test_say_without_a_sound_card_points_to_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", NO_CARD_CONF)
    code, _, exc = invoke("say", "hold")
    assert code != 0 and isinstance(exc, AudioError)
    assert "no sound device" in str(exc) and "--out" in str(exc)


def test_voices_lists_english_and_marks_the_current_one() -> None:
    code, output, _ = invoke("voices")
    assert code == 0
    lines = output.splitlines()
    assert any("en-us" in line and "(current)" in line for line in lines)
    assert not any(line.startswith("fr") for line in lines)
    code, everything, _ = invoke("voices", "--all")
    assert any(line.startswith("fr") for line in everything.splitlines())


def test_calibrate_set_stores_the_latency() -> None:
    code, output, _ = invoke("calibrate-latency", "--set", "220")
    assert code == 0 and "220 ms" in output
    assert UserConfig.load().output_latency_s == pytest.approx(0.22)
    code, _, exc = invoke("calibrate-latency", "--set", "5000")
    assert code != 0 and isinstance(exc, AudioError) and "150-280 ms" in str(exc)
    assert UserConfig.load().output_latency_s == pytest.approx(0.22)


def test_calibrate_without_a_terminal_asks_for_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", FILE_SINK_CONF)
    monkeypatch.setenv("TEMPOCOACH_ALSA_SINK", str(tmp_path / "sink.raw"))
    code, _, exc = invoke("calibrate-latency")
    assert code != 0 and isinstance(exc, AudioError)
    assert "not a terminal" in str(exc) and "--set MS" in str(exc)


def test_calibrate_without_a_sound_card_asks_for_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALSA_CONFIG_PATH", NO_CARD_CONF)
    code, _, exc = invoke("calibrate-latency")
    assert code != 0 and isinstance(exc, AudioError)
    assert "no sound device" in str(exc) and "--set MS" in str(exc)


def test_latency_from_taps_takes_the_median_offset() -> None:
    clicks = [1.0 + 0.8 * k for k in range(10)]
    jitter = [0.01, -0.02, 0.0, 0.015, -0.01, 0.02, 0.0, -0.005]
    taps = [c + 0.2 + j for c, j in zip(clicks[1:9], jitter, strict=True)]  # missed two clicks
    taps.append(20.0)  # a stray press far from any click is ignored
    estimate = latency_from_taps(clicks, taps)
    assert estimate.latency_s == pytest.approx(0.2, abs=0.011)
    assert estimate.taps_used == 8
    assert estimate.spread_s < 0.05


def test_latency_from_taps_needs_enough_taps_and_never_goes_negative() -> None:
    clicks = [0.8 * k for k in range(8)]
    with pytest.raises(AudioError, match="only 2 taps"):
        latency_from_taps(clicks, [0.1, 0.9])
    early = latency_from_taps(clicks, [c - 0.05 for c in clicks])
    assert early.latency_s == 0.0
    assert latency_from_ms(150) == pytest.approx(0.15)


def test_calibration_measures_a_simulated_listener_in_a_real_terminal(tmp_path: Path) -> None:
    # The "listener" watches the ALSA file sink grow (each click lands there at once, the null
    # slave is unpaced) and presses Enter 120 ms after each click, through a pseudo-terminal.
    sink = tmp_path / "sink.raw"
    env = {**os.environ, "ALSA_CONFIG_PATH": FILE_SINK_CONF, "TEMPOCOACH_ALSA_SINK": str(sink)}
    script = (
        "import typer, sys\n"
        "from tempocoach.commands import voice\n"
        "app = typer.Typer(); voice.register(app)\n"
        "app(args=sys.argv[1:], standalone_mode=False)\n"
    )
    args = ["calibrate-latency", "--clicks", "6", "--interval", "0.4"]
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    transcript = b""

    def read_available(wait_s: float) -> None:
        nonlocal transcript
        ready, _, _ = select.select([leader], [], [], wait_s)
        if ready:
            with contextlib.suppress(OSError):  # the child may have closed the terminal
                transcript += os.read(leader, 4096)

    deadline = time.monotonic() + 30
    while b"Press Enter to start" not in transcript and time.monotonic() < deadline:
        read_available(0.1)
    os.write(leader, b"\n")
    seen_bytes = sink.stat().st_size if sink.exists() else 0
    while proc.poll() is None and time.monotonic() < deadline:
        size = sink.stat().st_size if sink.exists() else 0
        if size > seen_bytes:
            seen_bytes = size
            time.sleep(0.12)
            os.write(leader, b"\n")
        read_available(0.002)
    read_available(0.2)
    os.close(leader)
    assert proc.wait(timeout=5) == 0, transcript.decode(errors="replace")
    assert b"output latency" in transcript
    latency_s = UserConfig.load().output_latency_s  # the child shares TEMPOCOACH_HOME
    print(f"measured {latency_s * 1000:.0f} ms")
    assert 0.10 <= latency_s <= 0.30, transcript.decode(errors="replace")
