"""How fast the motion core runs: `analyze` over a long recording, and the live cost per sample.

    python benchmarks/bench_throughput.py [--minutes 60] [--rate 200]

The recording is simulated sets back to back (one clock), analysed in one go as `tempocoach analyze`
does; the live figure feeds the same samples in 10-sample packets, as a BLE sensor would.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import MotionPipeline, analyze_recording
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.sim_lifter import LifterConfig
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo


def long_recording(minutes: float, rate_hz: float, rest_s: float = 0.0) -> ImuBatch:
    """Simulated sets, back to back (the worst case: the lifter never stops) or with the bar resting
    `rest_s` after each, as in a training session. Each set has its own simulated sensor (mount,
    biases), so the joins are not physical: this measures speed, not accuracy (bench_detector does)."""
    parts: list[ImuBatch] = []
    t_end = 0.0
    seed = 0
    lifter = LifterConfig(linger_s=(rest_s, rest_s)) if rest_s else None
    while t_end < minutes * 60:
        sim = simulate_set("back-squat", "31X0", reps=8, placement="bar", rate_hz=rate_hz, seed=seed,
                           lifter=lifter)
        b = sim.batch
        t = b.t_s - b.t_s[0] + t_end + 1.0 / rate_hz
        parts.append(ImuBatch(t, b.acc_mps2, b.gyr_radps))
        t_end = float(t[-1])
        seed += 1
    return ImuBatch.concat(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rest", type=float, default=120.0, help="seconds the bar rests after each set")
    args = parser.parse_args(argv)
    exercise, tempo = get_exercise("back-squat"), parse_tempo("31X0")
    for label, rest_s in (("sets back to back", 0.0), (f"sets with {args.rest:g} s rests", args.rest)):
        recording = long_recording(args.minutes, args.rate, rest_s)
        start = time.perf_counter()
        record = analyze_recording(recording, exercise, tempo, "bar")
        analyze_s = time.perf_counter() - start
        print(f"analyze, {label}: {recording.duration_s / 60:.1f} min at {args.rate:g} Hz "
              f"({len(recording):,} samples) in {analyze_s:.2f} s = {recording.duration_s / analyze_s:,.0f}x "
              f"real time ({len(record.reps)} reps found)")

    batch = long_recording(args.minutes, args.rate)

    live = MotionPipeline(exercise, tempo, "bar", args.rate)
    packets = batch.chunks(10)
    costs = np.empty(len(packets))
    for i, packet in enumerate(packets):
        t0 = time.perf_counter()
        live.update(packet)
        costs[i] = time.perf_counter() - t0
    live.finish()
    per_sample_us = 1e6 * costs.sum() / len(batch)
    print(f"live: {per_sample_us:.1f} us/sample on average; per 10-sample packet p50 "
          f"{1e6 * np.median(costs):.0f} us, p99 {1e6 * np.percentile(costs, 99):.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
