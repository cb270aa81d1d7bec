"""Audio figures: phrase pre-render time (cold and warm cache) and event -> playback-start latency.

Run: .venv/bin/python benchmarks/bench_audio.py [--protocol classic-tempo] [--events 200]
Playback goes to the ALSA file sink in tests/asound-file.conf (no sound card needed); the sink is
unpaced, so the latency measured is this program's share (scheduling + handing the clip to ALSA),
not the device's own buffering, which `tempocoach calibrate-latency` measures by ear.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def set_phrases(exercise: str, tempo: str, reps: int | None) -> set[str]:
    from tempocoach.coach.focus import decide_focus
    from tempocoach.coach.live import phrases_for_set

    return phrases_for_set(exercise, tempo, decide_focus(None, exercise), planned_reps=reps)


def protocol_phrases(protocol: str) -> set[str]:
    from tempocoach.plan import find_protocol

    phrases: set[str] = set()
    for planned in find_protocol(protocol).planned_sets():
        plan = planned.plan
        if plan.tempo is not None:
            phrases |= set_phrases(plan.exercise, plan.tempo, plan.reps)
    return phrases


def bench_prerender(protocol: str) -> None:
    from tempocoach.audio.speech import SpeechRenderer

    workloads = {
        "one set (back-squat 31X0, 8 reps)": set_phrases("back-squat", "31X0", 8),
        f"protocol {protocol}": protocol_phrases(protocol),
    }
    print("pre-render (espeak-ng 1.51, en-us, 170 wpm; 2-core VM)")
    print(f"  {'engine':<10} {'workload':<36} {'phrases':>7} {'cold s':>8} {'ms/phrase':>9} {'warm s':>8}")
    for engine in ("pyttsx3", "espeak-ng"):
        for name, phrases in workloads.items():
            with tempfile.TemporaryDirectory() as cache:
                renderer = SpeechRenderer("en-us", 170, Path(cache), engine=engine)
                cold = renderer.prerender(phrases)
                warm = SpeechRenderer("en-us", 170, Path(cache), engine=engine).prerender(phrases)
            per_phrase_ms = 1000 * cold.seconds / max(cold.cold, 1)
            print(
                f"  {engine:<10} {name:<36} {len(phrases):>7} {cold.seconds:>8.3f} "
                f"{per_phrase_ms:>9.1f} {warm.seconds:>8.4f}"
            )


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def spread(values_ms: list[float]) -> str:
    p50, p99 = percentile(values_ms, 50), percentile(values_ms, 99)
    return f"p50 {p50:.2f} ms  p99 {p99:.2f} ms  max {max(values_ms):.2f} ms  (n={len(values_ms)})"


async def _events(player: object, n_events: int, ahead_s: float) -> None:
    from tempocoach.audio.player import CuePlayer
    from tempocoach.audio.tones import tick

    assert isinstance(player, CuePlayer)
    stop = asyncio.Event()
    runner = asyncio.create_task(player.run(stop))
    clip = tick(0.01)
    for _ in range(n_events):
        await asyncio.sleep(0.02)
        player.schedule(player.clock.now_s() + ahead_s, clip, expires_s=player.clock.now_s() + 10)
    await asyncio.sleep(0.1)
    stop.set()
    await runner


def bench_latency(n_events: int) -> None:
    from tempocoach.audio.outputs import SimpleaudioOutput
    from tempocoach.audio.player import CuePlayer, MonotonicClock

    with tempfile.TemporaryDirectory() as sink_dir:
        os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{REPO / 'tests' / 'asound-file.conf'}"
        os.environ["TEMPOCOACH_ALSA_SINK"] = str(Path(sink_dir) / "sink.raw")
        print(f"\nevent -> playback start, {n_events} events into the ALSA file sink (async player loop)")
        immediate = CuePlayer(SimpleaudioOutput(), MonotonicClock())
        asyncio.run(_events(immediate, n_events, ahead_s=0.0))
        dispatch_ms = [1000 * r.dispatch_latency_s for r in immediate.history if r.dispatch_latency_s]
        print(f"  immediate event: schedule() -> play_buffer returned  {spread(dispatch_ms)}")
        ahead = CuePlayer(SimpleaudioOutput(), MonotonicClock())
        asyncio.run(_events(ahead, n_events, ahead_s=0.1))
        late_ms = [1000 * (r.started_s - r.at_s) for r in ahead.history if r.started_s is not None]
        print(f"  cue due 100 ms ahead: start minus due time          {spread(late_ms)}")
        for player in (immediate, ahead):
            player.close()  # let the last write reach the sink before its folder goes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--protocol", default="classic-tempo")
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("TEMPOCOACH_HOME", tempfile.mkdtemp(prefix="tempocoach-bench-"))
    bench_prerender(args.protocol)
    bench_latency(args.events)


if __name__ == "__main__":
    main()
