"""How fast the simulator generates sets: sets/s over the whole catalogue, and one long 200 Hz set.

Run: .venv/bin/python benchmarks/bench_simulator.py [n_sets]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tempocoach.sensors.simulator import simulate_set, simulate_suite


def main(n_sets: int = 200) -> None:
    simulate_set("back-squat", "31X0")  # warm imports and caches
    samples = 0
    recorded_s = 0.0
    start = time.perf_counter()
    for sim in simulate_suite(n_sets, seed=0):
        samples += len(sim.batch)
        recorded_s += sim.batch.duration_s
    elapsed = time.perf_counter() - start
    print(
        f"simulate_suite (catalogue mix, 50-200 Hz, 3-12 reps): {n_sets} sets in {elapsed:.2f} s "
        f"= {n_sets / elapsed:.1f} sets/s"
    )
    print(
        f"  {recorded_s / n_sets:.1f} s recorded per set, {samples / elapsed:,.0f} samples/s, "
        f"{recorded_s / elapsed:.0f}x real time"
    )
    reps = 1
    while True:
        sim = simulate_set("back-squat", "4141", reps=reps, rate_hz=200.0, seed=1)
        if sim.batch.duration_s >= 90.0:
            break
        reps += 1
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        simulate_set("back-squat", "4141", reps=reps, rate_hz=200.0, seed=1)
        runs.append(time.perf_counter() - start)
    print(
        f"long set: {sim.batch.duration_s:.0f} s at 200 Hz ({len(sim.batch)} samples, {reps} reps) "
        f"in {np.median(runs) * 1000:.0f} ms (median of 5)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
