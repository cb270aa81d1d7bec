"""Voice and sound commands: say, voices, calibrate-latency."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from tempocoach.audio.calibration import (
    TYPICAL_BLUETOOTH_S,
    LatencyEstimate,
    latency_from_ms,
    latency_from_taps,
)
from tempocoach.audio.clip import read_wav, silence
from tempocoach.audio.outputs import AudioDeviceUnavailable, SimpleaudioOutput
from tempocoach.audio.speech import SpeechRenderer, open_engine
from tempocoach.audio.tones import click
from tempocoach.config import UserConfig
from tempocoach.errors import AudioError

_LOW_MS, _HIGH_MS = (round(s * 1000) for s in TYPICAL_BLUETOOTH_S)
BLUETOOTH_HINT = f"Bluetooth earbuds are typically {_LOW_MS}-{_HIGH_MS} ms"
LEAD_IN_CLICKS = 3  # clicks to settle into the beat before taps count


def say(
    text: Annotated[str, typer.Argument(help="What to say.")],
    voice: Annotated[str | None, typer.Option(help="espeak-ng voice, e.g. en-us (see `voices`).")] = None,
    rate: Annotated[int | None, typer.Option(help="Speech rate in words per minute.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write a WAV file instead of playing.")] = None,
    engine: Annotated[str, typer.Option(help="auto, pyttsx3 or espeak-ng.")] = "auto",
) -> None:
    """Speak TEXT with the coach's voice (or write it to a WAV with --out)."""
    config = UserConfig.load()
    renderer = SpeechRenderer(voice or config.voice, rate or config.speech_rate_wpm, engine=engine)
    rendered = renderer.render(text)
    clip = read_wav(rendered)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(rendered, out)
        typer.echo(f"wrote {out} ({clip.duration_s:.2f} s, {renderer.engine_name}, voice {renderer.voice})")
        return
    try:
        output = SimpleaudioOutput()
        output.play(clip.scaled(config.volume), 0.0)
        output.close()
    except AudioDeviceUnavailable as exc:
        raise AudioError(f"{exc}; write it to a file instead: tempocoach say TEXT --out say.wav") from exc


def voices(
    all_languages: Annotated[bool, typer.Option("--all", help="Every language, not only English.")] = False,
    engine: Annotated[str, typer.Option(help="auto, pyttsx3 or espeak-ng.")] = "auto",
) -> None:
    """List the speech voices espeak-ng offers (English ones unless --all)."""
    found = open_engine(engine).voices()
    if not all_languages:
        found = [v for v in found if v.language.lower().startswith("en")]
    current = UserConfig.load().voice
    typer.echo(f"{'language':<14} {'voice id':<24} name")
    for v in sorted(found, key=lambda v: v.language):
        mark = "  (current)" if v.matches(current) else ""
        typer.echo(f"{v.language:<14} {v.id:<24} {v.name}{mark}")


def calibrate_latency(
    set_ms: Annotated[
        float | None, typer.Option("--set", help=f"Enter the output latency in ms. {BLUETOOTH_HINT}.")
    ] = None,
    clicks: Annotated[int, typer.Option(help="Clicks to tap along with.")] = 12,
    interval_s: Annotated[float, typer.Option("--interval", help="Seconds between clicks.")] = 0.8,
) -> None:
    """Measure (tap Enter in time with clicks) or enter the delay before you hear the cues."""
    config = UserConfig.load()
    if set_ms is not None:
        config.output_latency_s = latency_from_ms(set_ms)
        path = config.save()
        typer.echo(f"output latency set to {set_ms:g} ms (saved in {path})")
        return
    output = _open_speaker()
    if not sys.stdin.isatty():
        raise AudioError(
            "calibrate-latency needs you to press Enter on each click, but stdin is not a terminal; "
            f"enter the latency instead: tempocoach calibrate-latency --set MS ({BLUETOOTH_HINT})"
        )
    typer.echo(
        f"You will hear {clicks + LEAD_IN_CLICKS} clicks, {interval_s:g} s apart. Press Enter exactly "
        "in time with each click you HEAR (tap along with the beat, do not wait and react)."
    )
    input("Press Enter to start... ")
    estimate = _measure(output, clicks, interval_s)
    config.output_latency_s = estimate.latency_s
    path = config.save()
    typer.echo(
        f"output latency {estimate.latency_s * 1000:.0f} ms from {estimate.taps_used} taps "
        f"(spread {estimate.spread_s * 1000:.0f} ms); saved in {path}"
    )
    if estimate.spread_s > 0.1:
        typer.echo("your taps were unsteady (spread > 100 ms); run it again for a better figure")


def _open_speaker() -> SimpleaudioOutput:
    try:
        output = SimpleaudioOutput()
        output.play(silence(0.02), 0.0)  # opening the device is the only reliable test
        output.wait_done()
        return output
    except AudioDeviceUnavailable as exc:
        raise AudioError(
            f"{exc}: there is nothing to calibrate against; enter the latency instead: "
            f"tempocoach calibrate-latency --set MS ({BLUETOOTH_HINT})"
        ) from exc


def _measure(output: SimpleaudioOutput, clicks: int, interval_s: float) -> LatencyEstimate:
    taps: list[float] = []

    def read_taps() -> None:
        while sys.stdin.readline():
            taps.append(time.monotonic())

    threading.Thread(target=read_taps, name="tempocoach-taps", daemon=True).start()
    sound = click()
    click_times: list[float] = []
    start = time.monotonic() + 0.5
    for k in range(clicks + LEAD_IN_CLICKS):
        time.sleep(max(0.0, start + k * interval_s - time.monotonic()))
        click_times.append(time.monotonic())
        output.play(sound, 0.0)
    time.sleep(interval_s)
    counted = click_times[LEAD_IN_CLICKS:]
    first = counted[0] - interval_s / 2
    return latency_from_taps(counted, [t for t in taps if t >= first])


def register(app: typer.Typer) -> None:
    app.command("say")(say)
    app.command("voices")(voices)
    app.command("calibrate-latency")(calibrate_latency)
