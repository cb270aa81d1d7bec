"""Rep counts on the real third-party recordings in ../shared/data/real (never copied into the repo).

    python benchmarks/bench_real.py [--data ../shared/data/real] [--tempo 2010] [--verbose]

The Apple Watch and feather-barbell labels are set-level counts written by the people who recorded
them (see each dataset's README for how far to trust them); the tempo they lifted at is unknown, so
one nominal tempo is assumed. exermote-arm (a phone on the upper arm, 10 Hz, paced bodyweight
workouts) labels every rep's halves with the audio pacer's schedule: its squat sets are analysed at
the pacer's tempo, and their phase edges are compared with that schedule (which the README trusts to
about 0.2-0.3 s only). Reported per dataset: exact-match rate and mean absolute error of the rep count.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tempocoach.errors import TempoCoachError
from tempocoach.events import ECCENTRIC_FIRST, PhaseSpan, Rep
from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import analyze_recording
from tempocoach.motion.scoring import match_reps
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.files import load_recording
from tempocoach.tempo import parse_tempo

# Apple Watch exercise codes -> the closest catalogue lift (worn on the wrist).
APPLE_WATCH = {
    "APULL": "lat-pulldown", "CGCR": "seated-cable-row", "DWC": "dumbbell-curl", "IDBC": "dumbbell-curl",
    "PREC": "barbell-curl", "30DBP": "dumbbell-press", "DSP": "overhead-press", "MIBP": "incline-bench-press",
    "MTE": "triceps-pushdown", "SACLR": "lateral-raise", "SAOCTE": "overhead-triceps-extension",
    "NGCR": "seated-cable-row", "SBLP": "lat-pulldown", "30BP": "incline-bench-press",
    "45DBP": "dumbbell-press", "SAODTE": "overhead-triceps-extension", "MGTBR": "barbell-row",
    "MSP": "overhead-press", "CGOCTE": "overhead-triceps-extension", "AIDBC": "dumbbell-curl",
    "DLR": "lateral-raise",
}
# Sets a watch on the wrist can hardly see; no catalogue lift moves like them at the wrist. They stay in
# the headline figures and are also left out in a line of their own.
NOT_AT_THE_WRIST = {
    "APULL": "assisted pull-up: the hands hold the handles, the body moves",
    "DWC": "wrist curl: only the hand moves; the watch's forearm stays put",
}
# feather-barbell folders -> catalogue lift (IMU at the centre of the bar).
FEATHER = {"bicep_curl": "barbell-curl", "dead": "deadlift", "rdl": "romanian-deadlift", "row": "barbell-row",
           "shoulder_press": "overhead-press", "squat": "back-squat"}


@dataclass
class Count:
    dataset: str
    name: str
    exercise: str
    label: int
    found: int | None
    note: str = ""


def _count(path: Path | list[Path], exercise: str, placement: str, tempo: str) -> tuple[int | None, str]:
    try:
        batch, _ = load_recording(path)
        record = analyze_recording(batch, get_exercise(exercise), parse_tempo(tempo), placement)
    except TempoCoachError as exc:
        return None, str(exc)
    return len(record.reps), ""


def _whole_recording(active: Path, idle: Path) -> ImuBatch:
    """The dataset cut each recording into the rep span (active, trimmed at the first and last rep
    peaks, so those reps are clipped) and the rest (idle); its README says to merge them by time."""
    parts = [load_recording(path)[0] for path in (active, idle) if path.exists()]
    t = np.concatenate([p.t_s for p in parts])
    order = np.argsort(t, kind="stable")
    keep = np.concatenate([[True], np.diff(t[order]) > 0])
    pick = order[keep]
    acc = np.concatenate([p.acc_mps2 for p in parts])[pick]
    gyr = np.concatenate([p.gyr_radps for p in parts])[pick]
    return ImuBatch(t[pick], acc, gyr)


def _count_batch(batch: ImuBatch, exercise: str, placement: str, tempo: str) -> int:
    record = analyze_recording(batch, get_exercise(exercise), parse_tempo(tempo), placement)
    return len(record.reps)


def apple_watch(root: Path, tempo: str, whole: bool) -> list[Count]:
    """whole=False: the active span only (first and last reps clipped by the dataset's trim);
    whole=True: the full recording, with the handling before and after the set."""
    base = root / "applewatch-gym-kaggle"
    out = []
    with (base / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            exercise = APPLE_WATCH[row["exercise_code"]]
            active, idle = base / "data" / row["active_file"], base / "data" / row["idle_file"]
            try:
                batch = _whole_recording(active, idle) if whole else load_recording(active)[0]
                found: int | None = _count_batch(batch, exercise, "wrist", tempo)
                note = ""
            except TempoCoachError as exc:
                found, note = None, str(exc)
            if row["unilateral_or_alternating"] == "1":
                note = (note + " unilateral: label may count both arms").strip()
            if row["exercise_code"] in NOT_AT_THE_WRIST:
                note = (note + " hidden from the wrist: " + NOT_AT_THE_WRIST[row["exercise_code"]]).strip()
            label = int(row["reps_label"])
            out.append(Count("applewatch", row["exercise_code"], exercise, label, found, note))
    return out


def feather(root: Path, tempo: str, include_flagged: bool) -> list[Count]:
    base = root / "feather-barbell"
    out = []
    with (base / "labels.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["quality_flags"] and not include_flagged:
                continue
            exercise = FEATHER[row["exercise"]]
            found, note = _count(base / "data" / row["file"], exercise, "bar", tempo)
            out.append(Count("feather", row["file"], exercise, int(row["reps_label"]), found,
                             (note + " " + row["quality_flags"]).strip()))
    return out


def exermote_squats(root: Path) -> tuple[list[Count], list[float]]:
    """Each squat set of the exermote-arm recordings (reps less than 8 s apart), analysed as air squats
    with the phone taken for a wrist sensor, at the tempo the pacer set (its median halves, rounded to
    whole seconds). Also returns the phase-edge errors of matched reps against the pacer's schedule."""
    base = root / "exermote-arm"
    by_file: dict[str, list[dict[str, str]]] = {}
    with (base / "reps.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["exercise"] == "Squat":
                by_file.setdefault(row["file"], []).append(row)
    counts, edge_errors = [], []
    down, _, up, _ = ECCENTRIC_FIRST
    for name, reps in sorted(by_file.items()):
        batch, _ = load_recording(base / "data" / name)
        t0 = float(batch.t_s[0])
        sets: list[list[dict[str, str]]] = [[reps[0]]]
        for before, rep in itertools.pairwise(reps):
            if float(rep["start_s"]) - float(before["end_s"]) > 8.0:
                sets.append([])
            sets[-1].append(rep)
        for k, reps_in_set in enumerate(sets, start=1):
            first_s, last_s = float(reps_in_set[0]["start_s"]) - 3.0, float(reps_in_set[-1]["end_s"]) + 3.0
            keep = (batch.t_s - t0 >= first_s) & (batch.t_s - t0 <= last_s)
            part = ImuBatch(batch.t_s[keep], batch.acc_mps2[keep], batch.gyr_radps[keep])
            halves = [statistics.median(float(r[b]) - float(r[a]) for r in reps_in_set)
                      for a, b in (("start_s", "turn_s"), ("turn_s", "end_s"))]
            tempo = f"{round(halves[0])}0{round(halves[1])}0"
            truth = [Rep(i + 1, (PhaseSpan(down, t0 + float(r["start_s"]), t0 + float(r["turn_s"])),
                                 PhaseSpan(up, t0 + float(r["turn_s"]), t0 + float(r["end_s"]))))
                     for i, r in enumerate(reps_in_set)]
            try:
                found = analyze_recording(part, get_exercise("air-squat"), parse_tempo(tempo), "wrist").reps
            except TempoCoachError as exc:
                counts.append(Count("exermote", f"{name} set {k}", "air-squat", len(truth), None, str(exc)))
                continue
            counts.append(Count("exermote", f"{name} set {k}", "air-squat", len(truth), len(found),
                                f"tempo {tempo}"))
            for got, want in match_reps(found, truth):
                spans = {p.phase: p for p in got.phases}
                for p in want.phases:
                    if p.phase in spans:
                        edge_errors += [spans[p.phase].start_s - p.start_s, spans[p.phase].end_s - p.end_s]
    return counts, edge_errors


def summarise(rows: list[Count], title: str) -> str:
    scored = [r for r in rows if r.found is not None]
    if not scored:
        return f"{title}: nothing analysed"
    exact = sum(r.found == r.label for r in scored) / len(scored)
    mae = statistics.mean(abs((r.found or 0) - r.label) for r in scored)
    within1 = sum(abs((r.found or 0) - r.label) <= 1 for r in scored) / len(scored)
    return (f"{title:<34} sets {len(scored):>3}  exact {100 * exact:5.1f}%  within 1 {100 * within1:5.1f}%  "
            f"MAE {mae:4.2f} reps  (errors: {len(rows) - len(scored)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/real")
    parser.add_argument("--tempo", default="2010", help="assumed tempo (the real one is not known)")
    parser.add_argument("--flagged", action="store_true", help="include feather files with quality flags")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"{args.data}: not found; the real recordings live in ../shared/data/real")
        return 0
    watch = apple_watch(args.data, args.tempo, whole=False)
    watch_whole = apple_watch(args.data, args.tempo, whole=True)
    bar = feather(args.data, args.tempo, args.flagged)
    squats, edge_errors = exermote_squats(args.data)
    if args.verbose:
        for r in watch + watch_whole + bar + squats:
            print(f"  {r.dataset:<10} {r.name[:48]:<48} {r.exercise:<28} "
                  f"label {r.label:>3} found {r.found} {r.note}")
    print(f"assumed tempo {args.tempo}")
    watch_sets = ((watch, "Apple Watch (wrist), active span"), (watch_whole, "Apple Watch, whole recording"))
    for rows, title in watch_sets:
        print(summarise(rows, title))
        print(summarise([r for r in rows if "unilateral" not in r.note], "  bilateral only"))
        print(summarise([r for r in rows if "unilateral" not in r.note and "hidden" not in r.note],
                        "  bilateral, seen from the wrist"))
    print(summarise(bar, "feather-barbell (bar)" + (", all" if args.flagged else ", unflagged")))
    for exercise in sorted({r.exercise for r in bar}):
        print(summarise([r for r in bar if r.exercise == exercise], f"  {exercise}"))
    print(summarise(squats, "exermote-arm squats (pacer tempo)"))
    if edge_errors:
        errors = np.abs(edge_errors)
        print(f"  phase edges against the pacer: median {1000 * np.median(errors):.0f} ms, "
              f"p95 {1000 * np.percentile(errors, 95):.0f} ms over {len(errors)} edges "
              f"(signed median {1000 * np.median(edge_errors):+.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
