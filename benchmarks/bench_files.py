"""Recording load speed and hygiene on the canonical format and on the real datasets.

Run: .venv/bin/python benchmarks/bench_files.py [--minutes 60] [--quiet]
Prints rows/s for a generated canonical CSV (200 Hz) and for each real dataset in ../shared/data/real
(skipped when absent), then one hygiene summary line per real file unless --quiet.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.files import ReadReport, load_recording, write_recording

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
DATASETS = {
    "applewatch-gym-kaggle": "data/*.csv",
    "exermote-arm": "data/*.csv",
    "feather-barbell": "data/*/*.csv",
}


def canonical(minutes: float, rate_hz: float = 200.0) -> None:
    n = int(minutes * 60 * rate_hz)
    rng = np.random.default_rng(1)
    batch = ImuBatch(np.arange(n) / rate_hz, rng.normal(0, 3, (n, 3)), rng.normal(0, 1, (n, 3)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.csv"
        begun = time.perf_counter()
        write_recording(path, batch)
        write_s = time.perf_counter() - begun
        begun = time.perf_counter()
        loaded, report = load_recording(path)
        load_s = time.perf_counter() - begun
        size_mb = path.stat().st_size / 1e6
    assert len(loaded) == n
    print(f"canonical {minutes:g} min @ {rate_hz:g} Hz: {n} rows, {size_mb:.1f} MB")
    print(f"  write {write_s:.2f} s ({n / write_s:,.0f} rows/s); "
          f"load {load_s:.2f} s ({n / load_s:,.0f} rows/s)")
    print(f"  {report.summary()}")


def real(quiet: bool) -> None:
    if not REAL.is_dir():
        print(f"real datasets: {REAL} absent, skipped")
        return
    for name, pattern in DATASETS.items():
        paths = sorted((REAL / name).glob(pattern))
        reports: list[tuple[Path, ReadReport]] = []
        begun = time.perf_counter()
        for path in paths:
            reports.append((path, load_recording(path)[1]))
        took_s = time.perf_counter() - begun
        rows = sum(r.rows_read for _, r in reports)
        samples = sum(r.samples for _, r in reports)
        print(f"{name}: {len(paths)} files, {rows} rows -> {samples} samples in {took_s:.2f} s "
              f"({rows / took_s:,.0f} rows/s)")
        rates = np.array([r.effective_rate_hz for _, r in reports])
        print(f"  effective rate Hz: min {rates.min():.1f} median {np.median(rates):.1f} "
              f"max {rates.max():.1f}; "
              f"files with gaps: {sum(r.gaps > 0 for _, r in reports)}; "
              f"repeated values: {sum(r.repeated_values for _, r in reports)}; "
              f"equal timestamps spread: {sum(r.repeated_timestamps for _, r in reports)}")
        if not quiet:
            for path, report in reports:
                print(f"    {path.name}: {report.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the generated canonical CSV")
    parser.add_argument("--quiet", action="store_true", help="only the per-dataset totals")
    args = parser.parse_args()
    canonical(args.minutes)
    real(args.quiet)


if __name__ == "__main__":
    main()
