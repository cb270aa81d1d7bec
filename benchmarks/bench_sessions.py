"""How `analyze` reads a recording of several sets (a session on one sensor, as a watch records it).

    python benchmarks/bench_sessions.py [--sets 3] [--reps 6] [--rest 60] [--rate 100] [--seed 0]

Per lift: a simulated session (simulate_session: the sets' own lifters, one sensor, rests in between
with the sensor turning from how one set ended to how the next starts), analysed whole. Prints the
reps matched with the truth, the extra reps, and how many sets were told apart.
"""

from __future__ import annotations

import argparse
import sys

from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import analyze_recording
from tempocoach.motion.scoring import match_reps
from tempocoach.sensors.simulator import simulate_session
from tempocoach.tempo import parse_tempo

LIFTS = (
    ("back-squat", "bar", "31X0"),
    ("deadlift", "bar", "20X1"),
    ("bench-press", "bar", "31X0"),
    ("overhead-press", "bar", "2010"),
    ("seated-cable-row", "bar", "2010"),
    ("barbell-curl", "wrist", "2010"),
    ("hammer-curl", "wrist", "3010"),
    ("lateral-raise", "wrist", "2011"),
    ("lat-pulldown", "wrist", "3010"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", type=int, default=3)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--rest", type=float, default=60.0, help="seconds of rest before each set")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    true_total = found_total = matched_total = sets_right = 0
    for exercise, placement, tempo in LIFTS:
        session = simulate_session(exercise, tempo, sets=args.sets, reps=args.reps, placement=placement,
                                   rate_hz=args.rate, seed=args.seed, rest_s=args.rest)
        record = analyze_recording(session.batch, get_exercise(exercise), parse_tempo(tempo), placement)
        truth = [rep for one_set in session.truth for rep in one_set]
        matched = len(match_reps(record.reps, truth))
        sets_found = max((rep.set_number for rep in record.reps), default=0)
        true_total, found_total, matched_total = (true_total + len(truth), found_total + len(record.reps),
                                                  matched_total + matched)
        sets_right += sets_found == args.sets
        print(f"{exercise:18s} {placement:5s} {tempo:5s} reps {len(truth):3d}  matched {matched:3d}  "
              f"extra {len(record.reps) - matched:2d}  sets found {sets_found} of {args.sets}")
    print(f"ALL: {matched_total} of {true_total} reps matched, {found_total - matched_total} extra; "
          f"the sets told apart in {sets_right} of {len(LIFTS)} sessions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
