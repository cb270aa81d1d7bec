"""Recordings on disk: delimited tables, sample hygiene, the canonical CSV, loading any export, replay.

Every reader turns rows into `Stream`s, cleans them with `clean_stream` (sort, drop exact duplicates,
spread bursts of equal timestamps, count everything) and builds the ImuBatch with `finish`, which also
measures gaps and writes the `ReadReport` into `ImuBatch.meta`. Gaps are never filled.
Readers for each layout (the canonical CSV included) live in `importers.py`.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np
import numpy.typing as npt

from tempocoach.errors import DataFormatError
from tempocoach.sensors.base import FloatArray, ImuBatch

IntArray = npt.NDArray[np.int64]
PathLike = str | os.PathLike[str]

CANONICAL_COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
MAG_COLUMNS = ("mx", "my", "mz")
GAP_FACTOR = 3.0  # a step longer than this many median periods is reported as a gap


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """A delimited text table: header names and body lines, each with its 1-based line number."""

    name: str
    columns: list[str]
    lines: list[str]
    line_numbers: IntArray
    delimiter: str
    comments: list[str] = field(default_factory=list)
    blank_lines: int = 0

    def index(self, column: str) -> int:
        return self.columns.index(column)

    def numbers(self, columns: Sequence[str], drop_empty_rows: bool = False
                ) -> tuple[FloatArray, IntArray, int]:
        """Parse the named columns as floats -> (values (n, k), line numbers, rows dropped as empty).

        Rows whose wanted fields are all empty are dropped only when `drop_empty_rows` (a format's
        documented start-up rows); any other unparsable field is an error naming line and column.
        """
        idx = [self.index(c) for c in columns]
        lines, line_numbers = self.lines, self.line_numbers
        try:
            values = _loadtxt(lines, self.delimiter, idx)
            dropped = 0
        except ValueError:
            keep = self._diagnose(idx, drop_empty_rows)
            dropped = len(lines) - len(keep)
            lines = [lines[i] for i in keep]
            line_numbers = line_numbers[keep]
            try:
                values = _loadtxt(lines, self.delimiter, idx)
            except ValueError as exc:  # e.g. quoted delimiters: give up politely, with numpy's reason
                raise DataFormatError(f"{self.name}: cannot parse the numbers ({exc})") from None
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise DataFormatError(
                f"{self.name} line {line_numbers[row]}, column '{columns[col]}': value is "
                f"{values[row, col]}; every sample needs finite numbers (fix or delete the row)"
            )
        return values, line_numbers, dropped

    def _diagnose(self, idx: list[int], drop_empty_rows: bool) -> list[int]:
        """Slow path after the fast parser failed: find the first bad field, or the empty rows to drop."""
        keep: list[int] = []
        for i, fields_ in enumerate(csv.reader(self.lines, delimiter=self.delimiter)):
            line = int(self.line_numbers[i])
            if len(fields_) <= max(idx):
                raise DataFormatError(
                    f"{self.name} line {line}: {len(fields_)} fields but the header has {len(self.columns)} "
                    "columns (a truncated or merged row?)"
                )
            wanted = [fields_[j].strip() for j in idx]
            if drop_empty_rows and not any(wanted):
                continue
            for j, text in zip(idx, wanted, strict=True):
                try:
                    float(text)
                except ValueError:
                    raise DataFormatError(
                        f"{self.name} line {line}, column '{self.columns[j]}': '{text}' is not a number"
                    ) from None
            keep.append(i)
        return keep


def _loadtxt(lines: list[str], delimiter: str, idx: list[int]) -> FloatArray:
    if not lines:
        return np.zeros((0, len(idx)))
    out = np.loadtxt(lines, delimiter=delimiter, usecols=idx, ndmin=2, dtype=np.float64, comments=None)
    return np.asarray(out, dtype=np.float64)


def read_table(name: str, text: str, has_header: bool = True) -> Table:
    """Split text into leading `#` comments, a header row and body lines (blank lines are counted)."""
    all_lines = text.splitlines()
    comments: list[str] = []
    start = 0
    while start < len(all_lines) and (not all_lines[start].strip() or all_lines[start].lstrip()[:1] == "#"):
        if all_lines[start].strip():
            comments.append(all_lines[start].lstrip()[1:].strip())
        start += 1
    if start >= len(all_lines):
        raise DataFormatError(f"{name}: the file is empty (no header and no samples)")
    first = all_lines[start].lstrip("\ufeff")
    delimiter = max((",", ";", "\t"), key=first.count)
    columns: list[str] = []
    if has_header:
        columns = [c.strip() for c in next(csv.reader([first], delimiter=delimiter))]
        start += 1
    body = all_lines[start:]
    numbered = [(i, s) for i, s in enumerate(body, start=start + 1) if s.strip()]
    lines = [s for _, s in numbered]
    if lines and '"' in lines[0]:  # phyphox quotes every field
        lines = [s.replace('"', "") for s in lines]
    if delimiter != "," and lines and "," in lines[0]:
        # Decimal commas: phyphox's "CSV (Semicolon, decimal comma)" and "CSV (Tabulator, decimal comma)".
        lines = [s.replace(",", ".") for s in lines]
    line_numbers = np.fromiter((i for i, _ in numbered), dtype=np.int64, count=len(numbered))
    return Table(name, columns, lines, line_numbers, delimiter, comments, len(body) - len(lines))


# --------------------------------------------------------------------------------------------- hygiene


@dataclass(frozen=True)
class Stream:
    """One sensor's rows as parsed: times (s), values (n, k) and the file line of each row."""

    name: str
    t_s: FloatArray
    values: FloatArray
    lines: IntArray


@dataclass
class Tally:
    """What hygiene did, summed over the streams of one recording."""

    rows_read: int = 0
    empty_rows_dropped: int = 0
    duplicate_rows_dropped: int = 0
    repeated_values: int = 0
    repeated_values_dropped: bool = False
    reordered_rows: int = 0
    repeated_timestamps: int = 0
    unpaired_dropped: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadReport:
    """How a file became an ImuBatch. Repeated timestamps (bursts) are spread back in time, not dropped."""

    source: str
    format: str
    rows_read: int
    samples: int
    empty_rows_dropped: int
    duplicate_rows_dropped: int
    repeated_values: int
    repeated_values_dropped: bool
    reordered_rows: int
    repeated_timestamps: int
    unpaired_dropped: int
    gaps: int
    largest_gap_s: float
    duration_s: float
    effective_rate_hz: float
    median_rate_hz: float
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = [
            f"{self.format}: {self.rows_read} rows -> {self.samples} samples over {self.duration_s:.2f} s "
            f"({self.effective_rate_hz:.1f} Hz effective, {self.median_rate_hz:.1f} Hz by median period)",
            f"{self.repeated_values} repeated values {'dropped' if self.repeated_values_dropped else 'kept'}",
            f"{self.repeated_timestamps} equal timestamps spread",
            f"{self.reordered_rows} reordered",
            f"{self.duplicate_rows_dropped} duplicates dropped",
            f"{self.empty_rows_dropped} empty rows dropped",
            f"{self.gaps} gaps > {GAP_FACTOR:g}x median period (largest {self.largest_gap_s:.3f} s, kept)",
        ]
        if self.unpaired_dropped:
            parts.append(f"{self.unpaired_dropped} samples without the other stream dropped")
        return "; ".join(parts + list(self.notes))

    def to_meta(self) -> dict[str, str]:
        meta = {f"read.{f.name}": str(getattr(self, f.name)) for f in fields(self) if f.name != "notes"}
        meta["read.notes"] = " | ".join(self.notes)
        meta.update(source=self.source, format=self.format, read_summary=self.summary())
        return meta


def clean_stream(stream: Stream, tally: Tally, drop_repeated_values: bool = False) -> Stream:
    """Sort, drop exact duplicates, optionally drop resent values, spread equal timestamps; count it all.

    A repeated value is a row whose accelerometer and gyroscope (the first six columns) equal the
    previous row's: a BLE link resending the last sample. Counted always, dropped when asked.

    Equal timestamps with different values are a burst: several samples stamped with one arrival
    time. They were measured earlier, so they are spread back in time towards the previous sample
    (at most one median period apart) instead of dropped; the last keeps the stamped time.
    """
    t, v, ln = stream.t_s, stream.values, stream.lines
    tally.rows_read += len(t)
    if len(t) == 0:
        raise DataFormatError(f"{stream.name}: no samples after the header; is the recording empty?")
    tally.reordered_rows += int(np.count_nonzero(np.diff(t) < 0))
    order = np.argsort(t, kind="stable")
    t, v, ln = t[order], v[order], ln[order]
    duplicate = _exact_duplicates(t, v)
    tally.duplicate_rows_dropped += int(duplicate.sum())
    t, v, ln = t[~duplicate], v[~duplicate], ln[~duplicate]
    imu = v[:, :6]  # a magnetometer updates on its own clock: a resend means acc and gyr both repeat
    repeated = np.concatenate(([False], np.all(imu[1:] == imu[:-1], axis=1)))
    tally.repeated_values += int(repeated.sum())
    if drop_repeated_values:
        tally.repeated_values_dropped = True
        t, v, ln = t[~repeated], v[~repeated], ln[~repeated]
    t, moved = _spread_bursts(stream.name, t)
    tally.repeated_timestamps += moved
    if len(t) > 1 and not bool(np.all(np.diff(t) > 0)):
        i = int(np.argmin(np.diff(t))) + 1
        raise DataFormatError(f"{stream.name} line {ln[i]}: time does not increase even after repair")
    return Stream(stream.name, t, v, ln)


def _exact_duplicates(t: FloatArray, v: FloatArray) -> npt.NDArray[np.bool_]:
    """Rows equal in time and every value to an earlier row (searched only among equal timestamps)."""
    duplicate = np.zeros(len(t), dtype=bool)
    tied = np.concatenate(([False], np.diff(t) == 0))
    tied[:-1] |= tied[1:]
    if tied.any():
        rows = np.flatnonzero(tied)
        _, first = np.unique(np.column_stack([t[rows], v[rows]]), axis=0, return_index=True)
        duplicate[rows] = True
        duplicate[rows[first]] = False
    return duplicate


def _spread_bursts(name: str, t: FloatArray) -> tuple[FloatArray, int]:
    dt = np.diff(t)
    if len(t) < 2 or bool(np.all(dt > 0)):
        return t, 0
    if not bool(np.any(dt > 0)):
        raise DataFormatError(f"{name}: all {len(t)} samples share one timestamp; the time column is broken")
    period_s = float(np.median(dt[dt > 0]))
    new_group = np.concatenate(([True], dt > 0))
    group = np.cumsum(new_group) - 1
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, len(t)))
    group_t = t[starts]
    prev_gap = np.concatenate(([np.inf], np.diff(group_t)))
    step = np.minimum(period_s, prev_gap / sizes)
    rank_from_end = (starts + sizes - 1)[group] - np.arange(len(t))
    return t - rank_from_end * step[group], int((sizes - 1).sum())


def resample_onto(base_t: FloatArray, other: Stream) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Linear interpolation of another (clean) stream at base times, only between neighbours that are
    not separated by a gap: fusing two sensors' clocks, never filling a hole in either."""
    t = other.t_s
    if len(t) < 2:
        return np.zeros((len(base_t), other.values.shape[1])), np.zeros(len(base_t), dtype=bool)
    period_s = float(np.median(np.diff(t)))
    j = np.clip(np.searchsorted(t, base_t), 1, len(t) - 1)
    inside = (base_t >= t[0]) & (base_t <= t[-1])
    valid = inside & ((t[j] - t[j - 1]) <= GAP_FACTOR * period_s)
    out = np.column_stack([np.interp(base_t, t, other.values[:, k]) for k in range(other.values.shape[1])])
    return out, valid


def finish(
    fmt: str, source: str, t_s: FloatArray, acc: FloatArray, gyr: FloatArray, mag: FloatArray | None,
    tally: Tally, meta: dict[str, str] | None = None,
) -> tuple[ImuBatch, ReadReport]:
    """Measure gaps and rate, build the report and the batch (report copied into meta as strings)."""
    dt = np.diff(t_s)
    period_s = float(np.median(dt)) if len(dt) else 0.0
    gaps = dt[dt > GAP_FACTOR * period_s] if len(dt) else dt
    duration_s = float(t_s[-1] - t_s[0]) if len(t_s) > 1 else 0.0
    report = ReadReport(
        source=source, format=fmt, rows_read=tally.rows_read, samples=len(t_s),
        empty_rows_dropped=tally.empty_rows_dropped, duplicate_rows_dropped=tally.duplicate_rows_dropped,
        repeated_values=tally.repeated_values, repeated_values_dropped=tally.repeated_values_dropped,
        reordered_rows=tally.reordered_rows, repeated_timestamps=tally.repeated_timestamps,
        unpaired_dropped=tally.unpaired_dropped, gaps=len(gaps),
        largest_gap_s=float(gaps.max()) if len(gaps) else 0.0, duration_s=duration_s,
        effective_rate_hz=(len(t_s) - 1) / duration_s if duration_s > 0 else 0.0,
        median_rate_hz=1.0 / period_s if period_s > 0 else 0.0, notes=tuple(tally.notes),
    )
    all_meta = dict(meta or {})
    all_meta.update(report.to_meta())
    return ImuBatch(t_s, acc, gyr, mag, all_meta), report


# ----------------------------------------------------------------------------------- canonical writer


class RecordingWriter:
    """Append batches to a canonical CSV; flushes whenever a second of samples has accumulated."""

    def __init__(self, path: PathLike, with_mag: bool = False, comments: Sequence[str] = (),
                 flush_every_s: float = 1.0) -> None:
        self.path = Path(path)
        self.with_mag = with_mag
        self._flush_every_s = flush_every_s
        self._last_t_s: float | None = None
        self._flushed_t_s: float | None = None
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8", newline="\n")
        header = CANONICAL_COLUMNS + (MAG_COLUMNS if with_mag else ())
        lines = [" ".join(c.splitlines()) for c in comments]  # a newline would end the comment
        self._file.write("".join(f"# {c}\n" for c in lines) + ",".join(header) + "\n")
        self._file.flush()

    def write(self, batch: ImuBatch) -> None:
        if self._file is None:
            raise DataFormatError(f"{self.path}: recording already closed")
        if not len(batch):
            return
        if self._last_t_s is not None and batch.t_s[0] <= self._last_t_s:
            raise DataFormatError(
                f"{self.path}: batch starts at {batch.t_s[0]:.6f} s, not after the last sample at "
                f"{self._last_t_s:.6f} s; write batches in time order"
            )
        cols = [batch.t_s[:, None], batch.acc_mps2, batch.gyr_radps]
        if self.with_mag:
            if batch.mag_ut is None:
                raise DataFormatError(f"{self.path}: writer expects magnetometer data but the batch has none")
            cols.append(batch.mag_ut)
        data = np.hstack(cols)
        fmt = ",".join(["%.6f"] + ["%.9g"] * (data.shape[1] - 1))
        self._file.write("\n".join(fmt % tuple(row) for row in data.tolist()) + "\n")
        self._last_t_s = float(batch.t_s[-1])
        if self._flushed_t_s is None or self._last_t_s - self._flushed_t_s >= self._flush_every_s:
            self._file.flush()
            self._flushed_t_s = self._last_t_s

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def write_recording(path: PathLike, batch: ImuBatch, comments: Sequence[str] = ()) -> None:
    """Write a whole batch as a canonical CSV (with mx,my,mz when the batch has a magnetometer)."""
    with RecordingWriter(path, with_mag=batch.mag_ut is not None, comments=comments) as writer:
        writer.write(batch)


# ----------------------------------------------------------------------------------------------- load


def load_recording(path: PathLike | Sequence[PathLike]) -> tuple[ImuBatch, ReadReport]:
    """Read a canonical CSV or any supported export (file, folder, zip, or a list of files)."""
    from tempocoach.sensors.importers import load_any  # importers build on this module

    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    return load_any(paths)


def read_recording(path: PathLike | Sequence[PathLike]) -> ImuBatch:
    """Like `load_recording`, keeping only the batch (its meta holds the report as strings)."""
    return load_recording(path)[0]


# --------------------------------------------------------------------------------------------- replay


class FileReplaySource:
    """Replays a recording as a Source: chunks of `chunk_s` of samples, paced by their timestamps
    at `speed` times real time (None: as fast as the consumer takes them)."""

    def __init__(self, recording: PathLike | ImuBatch, chunk_s: float = 0.1,
                 speed: float | None = None) -> None:
        if chunk_s <= 0 or (speed is not None and speed <= 0):
            raise ValueError("chunk_s and speed must be positive")
        self._recording = recording
        self.chunk_s = chunk_s
        self.speed = speed

    @property
    def name(self) -> str:
        if isinstance(self._recording, ImuBatch):
            return f"replay:{self._recording.meta.get('source', 'batch')}"
        return f"replay:{Path(self._recording).name}"

    def chunks(self) -> list[ImuBatch]:
        batch = self._recording if isinstance(self._recording, ImuBatch) else read_recording(self._recording)
        if not len(batch):
            return []
        edges_s = np.arange(batch.t_s[0], batch.t_s[-1] + self.chunk_s, self.chunk_s)[1:]
        cuts = np.searchsorted(batch.t_s, edges_s)
        bounds = np.unique(np.concatenate(([0], cuts, [len(batch)])))
        return [batch.slice(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]

    async def batches(self) -> AsyncIterator[ImuBatch]:
        chunks = await asyncio.to_thread(self.chunks)  # parsing a long file must not stall the loop
        loop = asyncio.get_running_loop()
        start_wall_s = loop.time()
        for chunk in chunks:
            if self.speed is not None:
                due_s = start_wall_s + (chunk.t_s[-1] - chunks[0].t_s[0]) / self.speed
                await asyncio.sleep(max(0.0, due_s - loop.time()))
            else:
                await asyncio.sleep(0)  # let other tasks run between chunks
            yield chunk
