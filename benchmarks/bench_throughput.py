"""How fast the motion core runs: `analyze` over a long recording, and the live cost per sample.

    python benchmarks/bench_throughput.py [--minutes 60] [--rate 200]

The recording is a simulated session on one sensor (simulate_session: 8-rep back-squat sets, back to
back or with rests), analysed in one go as `tempocoach analyze` does; the live figure feeds the same
samples in 10-sample packets, as a BLE sensor would.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import MotionPipeline, analyze_recording
from tempocoach.sensors.simulator import SimulatedSession, simulate_session, simulate_set
from tempocoach.tempo import parse_tempo


def long_recording(minutes: float, rate_hz: float, rest_s: float = 0.0) -> SimulatedSession:
    """A training session on one bar sensor: 8-rep back-squat sets of 31X0 with the bar resting rest_s
    before each, as many as fill `minutes`. Short rests are the worst case for speed (more motion per
    minute). With no rest at all (under ~15 s) the re-rack and walk-out between sets move like reps
    and sets run together: analyze then reads them as one long set and loses reps."""
    one_set_s = simulate_set("back-squat", "31X0", reps=8, placement="bar", rate_hz=rate_hz).batch.duration_s
    sets = max(1, math.ceil(minutes * 60 / (one_set_s + rest_s)))
    return simulate_session("back-squat", "31X0", sets=sets, reps=8, rate_hz=rate_hz, rest_s=rest_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rest", type=float, nargs="+", default=[30.0, 120.0],
                        help="seconds the bar rests before each set; one session per value")
    args = parser.parse_args(argv)
    exercise, tempo = get_exercise("back-squat"), parse_tempo("31X0")
    for rest_s in args.rest:
        label = f"sets with {rest_s:g} s rests"
        session = long_recording(args.minutes, args.rate, rest_s)
        recording = session.batch
        start = time.perf_counter()
        record = analyze_recording(recording, exercise, tempo, "bar")
        analyze_s = time.perf_counter() - start
        true_reps = sum(len(reps) for reps in session.truth)
        sets_found = max((rep.set_number for rep in record.reps), default=0)
        print(f"analyze, {label}: {recording.duration_s / 60:.1f} min at {args.rate:g} Hz "
              f"({len(recording):,} samples) in {analyze_s:.2f} s = {recording.duration_s / analyze_s:,.0f}x "
              f"real time ({len(record.reps)} of {true_reps} reps found, in {sets_found} of "
              f"{len(session.truth)} sets)")

    batch = long_recording(args.minutes, args.rate, min(args.rest)).batch

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
