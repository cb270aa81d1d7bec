"""Timing of the live coach's counts over a simulated 10-minute session.

Run: .venv/bin/python benchmarks/bench_coach.py [--minutes 10] [--latency 0.2] [--no-pipeline]

Part 1 (synthetic detector): sets of 8 reps at 31X0 / 4-0-2-0 / 3-1-1-1, 30 s rest, the lifter
off tempo by N(0, 0.3 s) per phase, the detector reporting each phase 0.1-0.5 s late with a
N(0, 30 ms) error in its start estimate, one tick per 20-ms BLE batch, 0.2 s output latency.
A count's error is when it is heard (at_s, already early by the latency) minus the true phase
start + its second. Drift is the least-squares slope of that error against session time.

Part 2 (simulator + MotionPipeline, when both import): the same measure with the real detector on
simulated IMU data, counts matched to the simulator's ground-truth phase starts.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from tempocoach.coach.focus import decide_focus
from tempocoach.coach.live import CoachSettings, Cue, LiveCoach
from tempocoach.events import PhaseEvent, PhaseSpan, Rep
from tempocoach.exercises import get_exercise
from tempocoach.tempo import parse_tempo

TICK_S = 0.02
WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
TEMPOS = ("31X0", "4-0-2-0", "3-1-1-1")


@dataclass
class Measured:
    error_s: list[float]
    heard_at_s: list[float]
    late_handover_s: list[float]
    due: int  # counts the tempo called for
    said: int
    dropped_late: int
    crowded_out: int = 0
    misplaced: int = 0  # spoken in no true phase of that name (a detector false positive)


def synthetic_set(
    exercise: str, tempo: str, reps: int, start_s: float, rng: random.Random
) -> tuple[list[PhaseEvent], list[Rep]]:
    code = parse_tempo(tempo)
    t_s, events, truth = start_s, [], []
    for index in range(1, reps + 1):
        spans = []
        for phase in get_exercise(exercise).phase_order:
            target_s = code.target_s(phase)
            if target_s == 0:
                continue
            duration_s = max(0.2, (0.6 if target_s is None else target_s) + rng.gauss(0.0, 0.3))
            spans.append(PhaseSpan(phase, t_s, t_s + duration_s))
            reported_s = t_s + rng.gauss(0.0, 0.03)
            events.append(PhaseEvent("phase", index, reported_s, t_s + rng.uniform(0.1, 0.5), phase))
            t_s += duration_s
        t_s += rng.uniform(0.2, 0.6)  # a breath at the top
        rep = Rep(index, tuple(spans))
        truth.append(rep)
        events.append(PhaseEvent("rep", index, rep.start_s, rep.end_s + 0.3, rep=rep))
    return sorted(events, key=lambda e: e.detected_s), truth


def drive(
    coach: LiveCoach, events: list[PhaseEvent], until_s: float, from_s: float
) -> list[tuple[float, Cue]]:
    """Feed events at their detection times and tick every TICK_S; returns (handed-over time, cue)."""
    out: list[tuple[float, Cue]] = []
    pending = list(events)
    step = int(from_s / TICK_S)
    while step * TICK_S <= until_s:
        now_s = step * TICK_S
        while pending and pending[0].detected_s <= now_s:
            out += [(now_s, c) for c in coach.on_event(pending.pop(0))]
        out += [(now_s, c) for c in coach.tick(now_s)]
        step += 1
    return out


def measure(
    handed: Iterable[tuple[float, Cue]], truth: list[PhaseSpan], due: int, coach: LiveCoach
) -> Measured:
    """Error of each count against the true phase it falls in; counts in no such phase are misplaced."""
    stale = {c.slot for c in coach.scheduler.stale if c.kind == "count"}
    crowded = {c.slot for c in coach.scheduler.dropped if c.kind == "count"} - stale
    m = Measured([], [], [], due, 0, len(stale), len(crowded))
    for handed_s, cue in handed:
        if cue.kind != "count" or cue.phase is None:
            continue
        m.said += 1
        second = WORDS.index(cue.text)
        spans = [s for s in truth if s.phase is cue.phase and s.start_s - 0.5 <= cue.at_s <= s.end_s + 0.5]
        if not spans:
            m.misplaced += 1
            continue
        span = min(spans, key=lambda s: abs(cue.at_s - second - s.start_s))
        m.error_s.append(cue.at_s - (span.start_s + second))
        m.heard_at_s.append(cue.at_s)
        m.late_handover_s.append(max(0.0, handed_s - cue.emit_s))
    return m


def counts_due(truth: list[Rep], tempo: str) -> int:
    code = parse_tempo(tempo)
    return sum(
        int(np.ceil((code.target_s(s.phase) or 0) - 1e-9)) - 1
        for rep in truth
        for s in rep.phases
        if (code.target_s(s.phase) or 0) > 1
    )


def synthetic_session(minutes: float, latency_s: float, seed: int = 1) -> Measured:
    rng = random.Random(seed)
    settings = CoachSettings(output_latency_s=latency_s)
    t_s, n, total = 5.0, 0, Measured([], [], [], 0, 0, 0)
    while t_s < minutes * 60:
        tempo = TEMPOS[n % len(TEMPOS)]
        events, truth = synthetic_set("back-squat", tempo, 8, t_s, rng)
        coach = LiveCoach(
            "back-squat", tempo, decide_focus(75.0, "back-squat"), "voice", settings, planned_reps=8
        )
        end_s = truth[-1].end_s + 1.0
        handed = drive(coach, events, end_s, t_s - 1.0)
        spans = [s for rep in truth for s in rep.phases]
        part = measure(handed, spans, counts_due(truth, tempo), coach)
        for field in ("error_s", "heard_at_s", "late_handover_s"):
            getattr(total, field).extend(getattr(part, field))
        total.due += part.due
        total.said += part.said
        total.dropped_late += part.dropped_late
        total.crowded_out += part.crowded_out
        total.misplaced += part.misplaced
        t_s, n = end_s + 30.0, n + 1
    return total


def pipeline_session(minutes: float, latency_s: float) -> Measured:
    from tempocoach.motion.pipeline import MotionPipeline
    from tempocoach.sensors.simulator import simulate_set

    settings = CoachSettings(output_latency_s=latency_s)
    total = Measured([], [], [], 0, 0, 0)
    offset_s, seed = 0.0, 0
    while offset_s < minutes * 60:
        tempo = TEMPOS[seed % len(TEMPOS)]
        sim = simulate_set(
            exercise="back-squat", tempo=tempo, reps=8, placement="bar", rate_hz=100, seed=seed
        )
        pipe = MotionPipeline(get_exercise("back-squat"), parse_tempo(tempo), "bar")
        coach = LiveCoach(
            "back-squat", tempo, decide_focus(75.0, "back-squat"), "voice", settings, planned_reps=8
        )
        handed: list[tuple[float, Cue]] = []
        for batch in sim.batches(2):  # 20-ms packets at 100 Hz
            now_s = float(batch.t_s[-1])
            for event in pipe.update(batch):
                handed += [(now_s, c) for c in coach.on_event(event)]
            handed += [(now_s, c) for c in coach.tick(now_s)]
        spans = [s for rep in sim.truth for s in rep.phases]
        part = measure(handed, spans, counts_due(sim.truth, tempo), coach)
        total.error_s += part.error_s
        total.heard_at_s += [offset_s + t for t in part.heard_at_s]
        total.late_handover_s += part.late_handover_s
        total.due += part.due
        total.said += part.said
        total.dropped_late += part.dropped_late
        total.crowded_out += part.crowded_out
        total.misplaced += part.misplaced
        offset_s += float(sim.batch.t_s[-1]) + 30.0
        seed += 1
    return total


def report(name: str, m: Measured, wall_s: float) -> None:
    err = np.array(m.error_s) * 1000.0
    if not len(err):
        print(f"{name}: no counts spoken")
        return
    minutes = np.array(m.heard_at_s) / 60.0
    slope = float(np.polyfit(minutes, err, 1)[0]) if len(err) > 2 else float("nan")
    print(f"{name}")
    print(
        f"  counts due {m.due}, spoken {m.said}, dropped as too late {m.dropped_late}, "
        f"crowded out by calls/focus/corrections {m.crowded_out}, misplaced {m.misplaced}"
    )
    worst_ms = err[np.argmax(np.abs(err))]
    p95_ms = np.percentile(np.abs(err), 95)
    print(
        f"  timing error ms: mean {err.mean():+.1f}, |mean| {np.abs(err).mean():.1f}, "
        f"sd {err.std():.1f}, worst {worst_ms:+.1f}, p95 |err| {p95_ms:.1f}"
    )
    print(f"  drift: {slope:+.2f} ms per minute over {minutes.max():.1f} min")
    print(f"  late hand-over to the player: worst {1000 * max(m.late_handover_s):.1f} ms")
    print(f"  compute: {wall_s:.2f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--no-pipeline", action="store_true")
    args = parser.parse_args()
    begun = time.perf_counter()
    synthetic = synthetic_session(args.minutes, args.latency)
    report(
        f"synthetic detector, {args.minutes:g} min, latency {args.latency:g} s",
        synthetic,
        time.perf_counter() - begun,
    )
    if args.no_pipeline:
        return
    begun = time.perf_counter()
    try:
        real = pipeline_session(args.minutes, args.latency)
    except Exception as exc:  # the motion core may not be there yet on this checkout
        print(f"simulator + MotionPipeline: skipped ({type(exc).__name__}: {exc})")
        return
    report(f"simulator + MotionPipeline, {args.minutes:g} min", real, time.perf_counter() - begun)


if __name__ == "__main__":
    main()
