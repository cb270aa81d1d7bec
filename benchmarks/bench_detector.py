"""Rep and phase detection accuracy on the simulator, and live detection delay.

    python benchmarks/bench_detector.py [--sets 240] [--seed 0] [--jobs 2] [--live | --analyze] [--no-gyro]
                                        [--packet-ms 50]

Each set is a fresh simulated lifter and sensor (exercise, tempo, placement, rate and seed drawn from a
seeded grid over the whole catalogue). Reported:
- rep F1 (a detected rep matches a true rep when their spans overlap by at least half the shorter one),
- phase-boundary error (every phase start and end of matched reps), median and p95,
- per-rep phase-duration error p95,
- live detection delay (true phase start -> PhaseEvent for that phase), median and p95, both as
  decided (the sample time the detector decided at) and as delivered (the last sample time of the
  packet whose update returned the event: what a lifter could hear at the earliest),
broken down by exercise, tempo and placement. --no-gyro scores the translation lifts with the gyro
removed from the stream (an accelerometer-only sensor such as a Polar H10: the gravity-frame path).
--packet-ms sizes the packets the live pipeline is fed (1 ms: one sample each, as a WitMotion sends).
--off-tempo: the simulated lifter ignores the programmed tempo and lifts at another drawn from the same
list (one in nine draws the programmed one); the set is analysed at the programmed tempo and scored
against what the lifter did. A coach must count the reps of a lifter who does not keep the tempo.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from tempocoach.events import Phase, PhaseEvent, Rep
from tempocoach.exercises import catalog, get_exercise
from tempocoach.motion.pipeline import MotionPipeline, analyze_recording
from tempocoach.motion.scoring import match_reps
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo

TEMPOS = ["4040", "5010", "31X0", "3110", "4212", "2020", "20X1", "3010", "2110"]
RATES = [50.0, 100.0, 200.0]
# Which reps are scored: a live session's post-set report (refined), the live ones, or `analyze`'s.
MODE = "live" if "--live" in sys.argv else "analyze" if "--analyze" in sys.argv else "refined"
NO_GYRO = "--no-gyro" in sys.argv
# Read here, not in main: the worker processes import this module and need them too.
PACKET_S = float(sys.argv[sys.argv.index("--packet-ms") + 1]) / 1000 if "--packet-ms" in sys.argv else 0.05
OFF_TEMPO = "--off-tempo" in sys.argv


def lifted_tempo(programmed: str, seed: int) -> str:
    """The tempo the simulated lifter keeps: the programmed one, or with --off-tempo one drawn from
    TEMPOS by the set's seed (from a generator of its own, so the grid is the same either way)."""
    return str(np.random.default_rng(seed + 1_000_003).choice(TEMPOS)) if OFF_TEMPO else programmed


def _without_gyro(batch: ImuBatch) -> ImuBatch:
    return ImuBatch(batch.t_s, batch.acc_mps2, np.zeros_like(batch.gyr_radps), None, {"gyro": "absent"})


@dataclass
class SetResult:
    exercise: str
    tempo: str
    placement: str
    rate_hz: float
    seed: int
    lifted: str
    true_reps: int
    found_reps: int
    matched: int
    boundary_errors_s: list[float] = field(default_factory=list)
    duration_errors_s: list[float] = field(default_factory=list)
    delays_s: list[float] = field(default_factory=list)
    delivered_delays_s: list[float] = field(default_factory=list)


def _edges(rep: Rep) -> dict[Phase, tuple[float, float]]:
    return {p.phase: (p.start_s, p.end_s) for p in rep.phases}


def run_one(spec: tuple[str, str, str, float, int]) -> SetResult:
    exercise, tempo, placement, rate_hz, seed = spec
    lifted = lifted_tempo(tempo, seed)
    sim = simulate_set(exercise=exercise, tempo=lifted, reps=6, placement=placement, rate_hz=rate_hz,
                       seed=seed)
    if NO_GYRO:
        sim = replace(sim, batch=_without_gyro(sim.batch))
    pipe = MotionPipeline(get_exercise(exercise), parse_tempo(tempo), placement, rate_hz)
    events: list[PhaseEvent] = []
    delivered_s: list[float] = []
    packet = max(1, round(rate_hz * PACKET_S))
    for batch in sim.batches(packet):
        new = pipe.update(batch)
        events += new
        delivered_s += [float(batch.t_s[-1])] * len(new)
    new = pipe.finish()
    events += new
    delivered_s += [float(sim.batch.t_s[-1])] * len(new)
    if MODE == "analyze":
        found = analyze_recording(sim.batch, get_exercise(exercise), parse_tempo(tempo), placement).reps
    else:
        found = pipe.refined()[0] if MODE == "refined" else pipe.reps
    pairs = match_reps(found, sim.truth)
    result = SetResult(exercise, tempo, placement, rate_hz, seed, lifted, len(sim.truth), len(found),
                       len(pairs))
    for f, t in pairs:
        fe, te = _edges(f), _edges(t)
        for phase, (ts, tend) in te.items():
            if phase not in fe:
                continue
            fs, fend = fe[phase]
            result.boundary_errors_s += [fs - ts, fend - tend]
            result.duration_errors_s.append((fend - fs) - (tend - ts))
    phase_events = [(e, at_s) for e, at_s in zip(events, delivered_s, strict=True) if e.kind == "phase"]
    for t in sim.truth:
        for span in t.phases:
            if span.duration_s <= 0.0:
                continue  # a skipped pause has no start to detect
            candidates = [(e.detected_s - span.start_s, at_s - span.start_s) for e, at_s in phase_events
                          if e.phase is span.phase and -0.5 < e.detected_s - span.start_s < 1.0]
            if candidates:
                decided, delivered = min(candidates, key=lambda pair: abs(pair[0]))
                result.delays_s.append(decided)
                result.delivered_delays_s.append(delivered)
    return result


def grid(n_sets: int, seed: int) -> list[tuple[str, str, str, float, int]]:
    rng = np.random.default_rng(seed)
    specs = []
    exercises = list(catalog())
    for i, ex in zip(range(n_sets), itertools.cycle(exercises), strict=False):
        placement = str(rng.choice(sorted(ex.motion)))
        specs.append((ex.id, str(rng.choice(TEMPOS)), placement, float(rng.choice(RATES)), seed * 10_000 + i))
    return specs


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.abs(values), q)) if values else float("nan")


def summarise(results: list[SetResult], title: str) -> str:
    tp = sum(r.matched for r in results)
    found = sum(r.found_reps for r in results)
    true = sum(r.true_reps for r in results)
    precision = tp / found if found else 0.0
    recall = tp / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    bounds = [e for r in results for e in r.boundary_errors_s]
    durs = [e for r in results for e in r.duration_errors_s]
    delays = [d for r in results for d in r.delays_s]
    delivered = [d for r in results for d in r.delivered_delays_s]
    delay_median_ms = 1000 * statistics.median(delays) if delays else float("nan")
    delivered_median_ms = 1000 * statistics.median(delivered) if delivered else float("nan")
    return (
        f"{title:<28} sets {len(results):>4}  reps {true:>5}  "
        f"F1 {f1:.3f} (P {precision:.3f} R {recall:.3f})  "
        f"edge med {1000 * _pct(bounds, 50):5.0f} ms p95 {1000 * _pct(bounds, 95):5.0f} ms  "
        f"dur p95 {1000 * _pct(durs, 95):5.0f} ms  "
        f"delay med {delay_median_ms:4.0f} p95 {1000 * _pct(delays, 95):4.0f} ms "
        f"(delivered {delivered_median_ms:.0f} / {1000 * _pct(delivered, 95):.0f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--live", action="store_true", help="score the live reps, not the refined ones")
    parser.add_argument("--analyze", action="store_true", help="score `analyze` of the whole recording")
    parser.add_argument("--no-gyro", action="store_true", help="translation lifts, gyro removed")
    parser.add_argument("--packet-ms", type=float, default=50.0, help="live packet size")
    parser.add_argument("--off-tempo", action="store_true", help="the lifter keeps another tempo")
    parser.add_argument("--by", choices=["exercise", "tempo", "lifted", "placement", "rate_hz", "none"],
                        nargs="*",
                        default=["exercise", "tempo", "placement", "rate_hz"])
    args = parser.parse_args(argv)
    specs = grid(args.sets, args.seed)
    if args.no_gyro:  # a rotation lift cannot be followed without a gyro
        specs = [s for s in specs if get_exercise(s[0]).motion_for(s[2]) == "translation"]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, specs, chunksize=4))
    print(summarise(results, "ALL"))
    for key in args.by:
        if key == "none":
            continue
        groups: dict[str, list[SetResult]] = defaultdict(list)
        for r in results:
            groups[str(getattr(r, key))].append(r)
        print(f"-- by {key}")
        for name in sorted(groups):
            print(summarise(groups[name], f"  {name}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
