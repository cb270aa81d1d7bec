"""Logbook and session costs: write cost per set, history query time at 10,000 sets, and memory/CPU
over a 60-minute simulated session (growth and timing drift).

Run: .venv/bin/python benchmarks/bench_logbook.py [--speed 60] [--sets 10000]
The 60-minute session runs on a real clock sped up `--speed` times (default 60: about a minute of
wall time), so timer drift is real; `--speed 0` runs it on the virtual clock instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from tempocoach.events import Phase, PhaseSpan, Rep
from tempocoach.logbook import Logbook, SetResult
from tempocoach.plan import parse_protocol
from tempocoach.rest import NoKeys, RealClock, VirtualClock
from tempocoach.sensors.base import ImuBatch
from tempocoach.session import SessionOptions, SessionParts, run_session
from tempocoach.session_io import ListDisplay
from tempocoach.session_sources import SimulatedSources

T0 = datetime(2026, 1, 1, 18, 0, tzinfo=UTC)
EXERCISES = ("back-squat", "bench-press", "barbell-row", "romanian-deadlift", "lat-pulldown")


def _reps(n: int) -> list[Rep]:
    reps = []
    for i in range(n):
        s = 2.0 + 5.0 * i
        spans = (PhaseSpan(Phase.ECCENTRIC, s, s + 3.0), PhaseSpan(Phase.BOTTOM_PAUSE, s + 3.0, s + 4.0),
                 PhaseSpan(Phase.CONCENTRIC, s + 4.0, s + 4.6), PhaseSpan(Phase.TOP_PAUSE, s + 4.6, s + 5.0))
        reps.append(Rep(i + 1, spans))
    return reps


def _samples(duration_s: float, rng: np.random.Generator) -> ImuBatch:
    n = int(duration_s * 100)
    t = np.arange(n) / 100.0
    acc = np.column_stack([np.sin(t), np.cos(t), 9.81 + np.sin(2 * t)]) + rng.normal(0, 0.05, (n, 3))
    return ImuBatch(t, acc, rng.normal(0, 0.02, (n, 3)))


def _result(i: int, when: datetime, samples: ImuBatch | None) -> SetResult:
    return SetResult(position=i, block="Main", exercise=EXERCISES[i % len(EXERCISES)], kind="tempo",
                     started_at=when, ended_at=when + timedelta(seconds=45), tempo="31X0", load="70%",
                     target_reps=8, reps=_reps(8), duration_s=40.0, time_under_tension_s=40.0, adherence=0.8,
                     rating="strong", report_json='{"summary": {"adherence": 0.8}}', samples=samples)


def bench_writes(folder: Path, n_sets: int = 200) -> None:
    rng = np.random.default_rng(1)
    path = folder / "writes.sqlite3"
    samples = _samples(45.0, rng)
    with Logbook(path) as book:
        session = book.start_session("bench", "Bench", n_sets)
        times = []
        for i in range(n_sets):
            start = time.perf_counter()
            book.record_set(session, _result(i, T0 + timedelta(minutes=i), samples))
            times.append(time.perf_counter() - start)
    size = sum(p.stat().st_size for p in folder.glob("writes.sqlite3*"))
    ms = np.array(times) * 1000
    print(f"write: {n_sets} sets (8 reps, 32 phases, 45 s of 100 Hz samples each):"
          f" median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms, max {ms.max():.2f} ms"
          " per set;"
          f" {size / n_sets / 1024:.0f} KiB per set on disk")


def bench_history(folder: Path, n_sets: int) -> None:
    path = folder / "history.sqlite3"
    start = time.perf_counter()
    with Logbook(path) as book:
        session = book.start_session("bench", "Bench", n_sets)
        for i in range(n_sets):
            book.record_set(session, _result(i, T0 + timedelta(hours=8 * i), None))
    fill_s = time.perf_counter() - start
    print(f"history: filled {n_sets} sets (no samples) in {fill_s:.1f} s")
    with Logbook(path) as book:
        recent = T0 + timedelta(hours=8 * n_sets - 24 * 90)
        queries: list[tuple[str, dict[str, object]]] = [
            ("all sets", {}), ("one exercise", {"exercise": "bench-press"}),
            ("one exercise, last 90 days", {"exercise": "bench-press", "since": recent})]
        for label, kwargs in queries:
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                rows = book.sets(**kwargs)  # type: ignore[arg-type]
                runs.append(time.perf_counter() - start)
            print(f"history query, {label}: {len(rows)} rows in {1000 * min(runs):.1f} ms (best of 5)")
        from tempocoach.commands.training import write_trend_plot

        rows = book.sets()
        start = time.perf_counter()
        write_trend_plot(rows, folder / "trend.png")
        print(f"history trend plot of {len(rows)} sets: {time.perf_counter() - start:.2f} s")


LONG_SESSION = """
name = "Hour"
description = "an hour of tempo work"
[[blocks]]
name = "Main"
[[blocks.sets]]
exercise = "back-squat"
tempo = "3110"
reps = 8
sets = 11
load = "65%"
rest_s = 120
[[blocks.sets]]
exercise = "bench-press"
tempo = "3110"
reps = 8
sets = 11
load = "65%"
rest_s = 120
"""


def _rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_session(folder: Path, speed: float) -> None:
    protocol = parse_protocol(LONG_SESSION, "hour.toml", "hour")
    clock: RealClock | VirtualClock = RealClock(speed) if speed > 0 else VirtualClock()
    book = Logbook(folder / "session.sqlite3")
    per_set: list[tuple[float, float, float]] = []  # (session s, cpu s, rss MiB) at each logged set
    original = book.record_set

    def record(session_id: int, result: SetResult) -> int:
        set_id = original(session_id, result)
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        per_set.append((clock.now(), cpu.ru_utime + cpu.ru_stime, _rss_mib()))
        return set_id

    book.record_set = record  # type: ignore[method-assign]
    parts = SessionParts(clock, NoKeys(), SimulatedSources(clock), book, display=ListDisplay())
    wall0 = time.perf_counter()
    result = asyncio.run(run_session(protocol, parts, SessionOptions(rating_timeout_s=10.0)))
    wall_s = time.perf_counter() - wall0
    minutes = clock.now() / 60
    print(f"session: {len(result.sets)} sets, {minutes:.1f} simulated minutes in {wall_s:.1f} s wall"
          f" ({'virtual clock' if speed <= 0 else f'real clock x{speed:g}'})")
    cpu_per_set = np.diff([c for _, c, _ in per_set])
    rss = [r for _, _, r in per_set]
    print(f"session CPU per set: first 5 mean {1000 * cpu_per_set[:5].mean():.0f} ms,"
          f" last 5 mean {1000 * cpu_per_set[-5:].mean():.0f} ms")
    middle = len(rss) // 2
    print(f"session RSS: after set 2 {rss[1]:.1f} MiB, set {middle + 1} {rss[middle]:.1f} MiB,"
          f" set {len(rss)} {rss[-1]:.1f} MiB (second half {rss[-1] - rss[middle]:+.1f} MiB)")
    # Drift: each rest should last exactly its prescribed seconds on the session clock.
    said = result.transcript
    rests = [t for t, text in said if text == "Rest 120 seconds"]
    nexts = [t for t, text in said if text.startswith("Next:")]
    errors = [n - r - 120.0 for r, n in zip(rests, nexts, strict=False)]
    if errors:
        worst = max(errors, key=abs)
        print(f"rest timer: {len(errors)} rests, error first {1000 * errors[0]:+.0f} ms,"
              f" last {1000 * errors[-1]:+.0f} ms, worst {1000 * worst:+.0f} ms (session clock)")
    size = sum(p.stat().st_size for p in folder.glob("session.sqlite3*"))
    print(f"session logbook: {size / 2**20:.1f} MiB for {len(result.sets)} sets with raw samples")
    book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=10_000, help="sets in the history benchmark")
    parser.add_argument("--speed", type=float, default=60.0, help="session speed-up (0: virtual clock)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TEMPOCOACH_HOME"] = tmp
        folder = Path(tmp)
        bench_writes(folder)
        bench_history(folder, args.sets)
        bench_session(folder, args.speed)


if __name__ == "__main__":
    main()
