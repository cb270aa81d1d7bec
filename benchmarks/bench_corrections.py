"""How often the live coach's corrections are right: the correction it would give after each live rep,
checked against the simulated lifter's true phases.

    python benchmarks/bench_corrections.py [--sets 240] [--seed 0] [--jobs 2] [--breaths 0.5] [--off-tempo]

Each live rep that matches a true rep goes through the coach's own CorrectionPlanner (one correction
per rep at most, never the same words twice in a row, none after the last planned rep). A correction
is right when the report's rule, applied to the true rep, finds the same phase off the same way.
The simulated lifter keeps the tempo to within 10-20% and never skips a pause, so on the default
grid most corrections have nothing real to catch: what is printed is chiefly the false-alarm rate.
--breaths makes that share of the tempo's 0 s pauses a real 0.3-1.5 s breath (something to catch).
--off-tempo has the lifter keep another tempo than the programmed one (bench_detector's draw): then
most reps have something real to correct.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from bench_detector import grid, lifted_tempo
from tempocoach.coach.corrections import CorrectionPlanner, rep_deviations
from tempocoach.coach.cues import cue_library
from tempocoach.coach.report import ReportSettings
from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import MotionPipeline
from tempocoach.motion.scoring import match_reps
from tempocoach.sensors.sim_lifter import LifterConfig
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo

REPS = 6
PAUSES = ("bottom_pause", "top_pause")


def run_one(args: tuple[tuple[str, str, str, float, int], float]) -> tuple[int, list[tuple[str, bool]]]:
    """(live reps matched, [(kind of correction, right?)]) for one simulated set."""
    (exercise_id, tempo_code, placement, rate_hz, seed), breaths = args
    exercise, tempo = get_exercise(exercise_id), parse_tempo(tempo_code)
    sim = simulate_set(exercise_id, lifted_tempo(tempo_code, seed), reps=REPS, placement=placement,
                       rate_hz=rate_hz, seed=seed, lifter=LifterConfig(unplanned_pause_prob=breaths))
    pipe = MotionPipeline(exercise, tempo, placement, rate_hz)
    for batch in sim.batches(max(1, round(rate_hz / 20))):
        pipe.update(batch)
    pipe.finish()
    settings = ReportSettings()
    planner = CorrectionPlanner(exercise, tempo, cue_library(), settings, planned_reps=REPS)
    pairs = match_reps(pipe.reps, sim.truth)
    outcomes = []
    for found, true in pairs:
        pending = planner.on_rep(found)
        if pending is None:
            continue
        planner.spoken(pending.text, pending.rep_index)
        real = {(d.phase, d.deviation) for d in rep_deviations(true, tempo, settings)}
        said = next(d for d in rep_deviations(found, tempo, settings) if d.phase is pending.phase)
        kind = "pause" if pending.phase.value in PAUSES else "movement"
        outcomes.append((f"{kind} {said.deviation}", (said.phase, said.deviation) in real))
    return len(pairs), outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--breaths", type=float, default=0.0,
                        help="share of the tempo's 0 s pauses the lifter turns into a real breath")
    parser.add_argument("--off-tempo", action="store_true", help="the lifter keeps another tempo")
    args = parser.parse_args(argv)
    specs = [(spec, args.breaths) for spec in grid(args.sets, args.seed)]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_one, specs, chunksize=4))
    reps = sum(n for n, _ in results)
    said, right = Counter[str](), Counter[str]()
    for _, outcomes in results:
        for kind, ok in outcomes:
            said[kind] += 1
            right[kind] += ok
    total = sum(said.values())
    lifter = ", off tempo" if args.off_tempo else ""
    print(f"{args.sets} sets, seed {args.seed}, breaths {args.breaths:g}{lifter}: {reps} live reps matched, "
          f"{total} corrections ({total / max(reps, 1):.2f} per rep), "
          f"{sum(right.values()) / max(total, 1):.0%} right")
    for kind in sorted(said):
        print(f"  {kind:18s} {said[kind]:4d} said  {right[kind] / said[kind]:5.0%} right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
