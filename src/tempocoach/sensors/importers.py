"""Importers for other apps' exports, detected from header, columns and folder layout.

Units are converted here and nowhere else. Layout facts relied on:
- CoreMotion (Apple Watch "wristMotion_*" or Sensor Logger WristMotion.csv, Exermote "Device: *"):
  userAcceleration and gravity in g, gravity pointing DOWN in device axes (-1 g on z flat on a table),
  so the accelerometer's specific force is -(userAcceleration + gravity) * g0 (Sensor Logger
  COORDINATES.md: iOS uses the inertial-force sign, Android the opposite). With Sensor Logger's
  "Standardise Units & Frames" both are m/s^2 with the Android sign (told apart by |gravity|).
  Verified on the real Apple Watch files: at rest |acc| = 9.8 m/s^2, opposite the gravity vector.
- MetaWear MetaBase: one CSV per sensor, `epoch (ms),time (...),elapsed (s),x-axis (g),...`, gyroscope
  `x-axis (deg/s)` (the header mbientlab's exporter writes); `elapsed` restarts per file, so files are
  aligned on `epoch (ms)`. The accelerometer reads +1 g up at rest (specific force).
- phyphox: `Time (s)`, `Acceleration x (m/s^2)` (with g), `Linear Acceleration x (m/s^2)` (without),
  `Gyroscope x (rad/s)` (the `<data name=...>` export columns of phyphox experiment files); exports are
  a folder or zip with `Accelerometer.csv`/`Gyroscope.csv` or `Raw Data.csv`, comma, tab or semicolon
  with decimal comma. phyphox reports the Android sign (+9.81 up at rest) on both platforms.
- Sensor Logger (tszheichoi/awesome-sensor-logger UNITS.md, COORDINATES.md): `time` (ns epoch),
  `seconds_elapsed` (shared by all files), `z,y,x`; Accelerometer.csv is WITHOUT gravity (m/s^2),
  TotalAcceleration.csv (Android) with it, Gravity.csv in m/s^2; Metadata.csv `platform` is iOS or
  Android, iOS acceleration and gravity carry the opposite (inertial-force) sign.
- feather-barbell: no header, `node,t_ms,ax,ay,az,gx,gy,gz,mx,my,mz` in m/s^2, rad/s, uT; BLE bursts
  resend the same sample, so consecutive identical rows are dropped there (and only there).
- MetaWear, phyphox and Sensor Logger exports without a gyroscope load with the gyro absent (zeros,
  meta gyro=absent, as a Polar H10 streams), as long as gravity is in them: it alone then says which
  way is up.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tempocoach.errors import DataFormatError
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch
from tempocoach.sensors.files import (
    CANONICAL_COLUMNS,
    MAG_COLUMNS,
    ReadReport,
    Stream,
    Table,
    Tally,
    clean_stream,
    finish,
    read_table,
    resample_onto,
)

EXPECTED = (
    "canonical CSV (t,ax,ay,az,gx,gy,gz[,mx,my,mz]); Apple Watch CoreMotion CSV (wristMotion_* columns); "
    "Exermote iPhone CSV (Device: xGravity ...); MetaWear MetaBase accelerometer + gyroscope CSVs "
    "(epoch (ms), x-axis (g) / x-axis (deg/s)) or their folder; phyphox export (Time (s), Acceleration x "
    "(m/s^2), Gyroscope x (rad/s)) as folder, zip or files; Sensor Logger folder or zip (Accelerometer.csv, "
    "Gyroscope.csv, Gravity.csv: time,seconds_elapsed,z,y,x); feather-barbell CSV (11 numbers, no header)"
)
FEATHER_COLUMNS = ["node", "t_ms", "ax", "ay", "az", "gx", "gy", "gz", "mx", "my", "mz"]
XYZ = ("x", "y", "z")
LoadResult = tuple[ImuBatch, ReadReport]


@dataclass
class _File:
    name: str  # for messages: path, or zip path:member
    base: str  # file name without folders
    read: Callable[[], str]
    _text: str | None = None
    _table: Table | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.read()
        return self._text

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = read_table(self.name, self.text)
        return self._table

    @property
    def kind(self) -> str:
        cols = self.table.columns
        low = [c.lower() for c in cols]
        if self.base.lower() == "metadata.csv":
            return "sensorlogger-meta"
        if is_canonical(cols):
            return "canonical"
        if "wristMotion_accelerationX" in cols or {"accelerationX", "gravityX", "rotationRateX"} <= set(cols):
            return "coremotion"  # the Kaggle Apple Watch files, or Sensor Logger's WristMotion.csv
        if "Device: xGravity" in cols:
            return "exermote"
        if low and low[0] == "epoch (ms)":
            return "metawear"
        if low and low[0] == "time (s)":
            return "phyphox"
        if low[:2] == ["time", "seconds_elapsed"]:
            return "sensorlogger"
        if len(cols) == len(FEATHER_COLUMNS) and all(_is_number(c) for c in cols):
            return "feather"
        return "unknown"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read ({exc.strerror})") from None


def _reader(path: Path) -> Callable[[], str]:
    return lambda: _read_text(path)


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def _files_in(path: Path) -> list[_File]:
    if path.is_dir():
        return [_File(str(p), p.name, _reader(p)) for p in sorted(path.glob("*.csv"))]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = [m for m in zf.namelist() if m.lower().endswith(".csv") and "__MACOSX" not in m]
            members = [m for m in members if "/meta/" not in f"/{m}"]  # phyphox device/time metadata
            texts = {m: zf.read(m).decode("utf-8-sig", errors="replace") for m in sorted(members)}
        return [_File(f"{path}:{m}", Path(m).name, _constant(t)) for m, t in texts.items()]
    if path.is_file():
        return [_File(str(path), path.name, lambda: _read_text(path))]
    raise DataFormatError(f"{path}: no such file or folder")


def load_any(paths: list[Path]) -> LoadResult:
    """Detect the format of the given file(s), folder or zip and import it."""
    if not paths:
        raise DataFormatError("no recording given; expected one of: " + EXPECTED)
    files = [f for p in paths for f in _files_in(p)]
    source = ", ".join(str(p) for p in paths)
    if not files:
        raise DataFormatError(f"{source}: no CSV files found; expected one of: {EXPECTED}")
    if len(files) == 1 and paths[0].is_file() and files[0].kind in ("metawear", "phyphox", "sensorlogger"):
        files = _with_siblings(files[0], paths[0])
    by_kind: dict[str, list[_File]] = {}
    for f in files:
        by_kind.setdefault(f.kind, []).append(f)
    if "coremotion" in by_kind and not any(f.base.lower() == "gyroscope.csv" for f in files):
        by_kind.pop("sensorlogger", None)  # a watch-only Sensor Logger export: use WristMotion.csv
    for kind, reader in _MULTI.items():
        if kind in by_kind:
            return reader(source, by_kind[kind] + by_kind.get("sensorlogger-meta", []))
    singles = [f for f in files if f.kind in _SINGLE]
    if len(singles) == 1:
        return _SINGLE[singles[0].kind](singles[0])
    if len(singles) > 1:
        raise DataFormatError(f"{source}: holds {len(singles)} separate recordings; pass one file")
    header = files[0].text.strip().splitlines()[0][:80] if files[0].text.strip() else ""
    raise DataFormatError(f"{files[0].name}: unknown recording format (first row '{header}'); expected: "
                          f"{EXPECTED}")


def _with_siblings(file: _File, path: Path) -> list[_File]:
    """A single stream of a multi-file export: add its partners from the same folder."""
    siblings = [f for f in _files_in(path.parent) if f.base != file.base]
    if file.kind == "metawear":
        partner = [f for f in siblings if f.base in {file.base.replace("Accelerometer", "Gyroscope"),
                                                   file.base.replace("Gyroscope", "Accelerometer")}]
        return [file, *partner] if partner else [file, *siblings]
    return [file, *siblings]


# ------------------------------------------------------------------------------------- single-file formats


def _coremotion(file: _File) -> LoadResult:
    prefix = "wristMotion_" if "wristMotion_accelerationX" in file.table.columns else ""
    time_col = "secondsElapsed" if "secondsElapsed" in file.table.columns else "seconds_elapsed"
    names = [f"{prefix}{q}{a}" for q in ("acceleration", "gravity", "rotationRate") for a in "XYZ"]
    return _coremotion_table(file, "applewatch-coremotion", time_col, names)


def _exermote(file: _File) -> LoadResult:
    names = [f"Device: {a}{q}" for q in ("Acceleration", "Gravity", "RotationRate") for a in XYZ]
    return _coremotion_table(file, "exermote-iphone", "timeStampSaved", names)


def _coremotion_table(file: _File, fmt: str, time_col: str, names: list[str]) -> LoadResult:
    table = file.table
    for col in [time_col, *names]:
        if col not in table.columns:
            raise DataFormatError(f"{file.name}: missing column '{col}' for a CoreMotion export")
    values, lines, dropped = table.numbers(names, drop_empty_rows=True)
    if time_col == "timeStampSaved":
        t_s, meta = _clock_times(file, table, lines), {"clock": "seconds since the first timeStampSaved"}
    else:
        t_s, meta = table.numbers([time_col])[0][:, 0], {"clock": "secondsElapsed"}
        t_s = t_s[np.searchsorted(table.line_numbers, lines)] if dropped else t_s
    user_g, gravity_g, gyr = values[:, 0:3], values[:, 3:6], values[:, 6:9]
    tally = Tally(empty_rows_dropped=dropped + table.blank_lines)
    if dropped:
        tally.notes.append(f"dropped {dropped} rows without motion data (CoreMotion start-up)")
    if float(np.median(np.linalg.norm(gravity_g, axis=1))) > 3.0:  # Sensor Logger "Standardise Units
        tally.notes.append("acc = userAcceleration + gravity (m/s^2, standardised frames)")  # & Frames"
        acc = user_g + gravity_g
    else:
        tally.notes.append("acc = -(userAcceleration + gravity) * g0 (CoreMotion gravity points down)")
        acc = -(user_g + gravity_g) * STANDARD_GRAVITY
    clean = clean_stream(Stream(file.name, t_s, np.hstack([acc, gyr]), lines), tally)
    return finish(fmt, file.name, clean.t_s, clean.values[:, :3], clean.values[:, 3:], None, tally, meta)


def _clock_times(file: _File, table: Table, lines: np.ndarray) -> FloatArray:
    """`2017-04-22 15:16:48:558` (milliseconds after a colon) -> seconds since the first row."""
    col = table.index("timeStampSaved")
    rows = np.searchsorted(table.line_numbers, lines)
    stamps = []
    for r in rows:
        text = table.lines[r].split(",")[col].strip() if col < len(table.lines[r].split(",")) else ""
        try:
            stamps.append(np.datetime64(f"{text[:10]}T{text[11:19]}.{text[20:23]}", "ms"))
        except ValueError:
            raise DataFormatError(
                f"{file.name} line {table.line_numbers[r]}, column 'timeStampSaved': '{text}' is not a "
                "time like 2017-04-22 15:16:48:558"
            ) from None
    ms = np.array(stamps, dtype="datetime64[ms]").astype(np.int64)
    return np.asarray((ms - ms.min()) / 1000.0, dtype=np.float64)


def _feather(file: _File) -> LoadResult:
    table = read_table(file.name, file.text, has_header=False)
    table = Table(table.name, FEATHER_COLUMNS, table.lines, table.line_numbers, table.delimiter,
                  table.comments, table.blank_lines)
    values, lines, _ = table.numbers(FEATHER_COLUMNS)
    nodes = np.unique(values[:, 0])
    if len(nodes) > 1:
        raise DataFormatError(f"{file.name}: rows from {len(nodes)} nodes {nodes.tolist()}; split per node")
    tally = Tally(empty_rows_dropped=table.blank_lines)
    tally.notes.append("BLE bursts: consecutive rows with identical values are resends and were dropped")
    clean = clean_stream(Stream(file.name, values[:, 1] / 1000.0, values[:, 2:], lines), tally, True)
    v = clean.values
    meta = {"clock": "Arduino millis() since boot", "node": str(int(nodes[0]))}
    return finish("feather-barbell", file.name, clean.t_s, v[:, 0:3], v[:, 3:6], v[:, 6:9], tally, meta)


def is_canonical(columns: Sequence[str]) -> bool:
    names = {c.strip().lower() for c in columns}
    return "t" in names and {"ax", "ay", "az"} <= names


def read_canonical(name: str, text: str) -> tuple[ImuBatch, ReadReport]:
    """Parse the canonical CSV (header t,ax,ay,az,gx,gy,gz[,mx,my,mz], any order, SI units)."""
    table = read_table(name, text)
    table = Table(table.name, [c.lower() for c in table.columns], table.lines, table.line_numbers,
                  table.delimiter, table.comments, table.blank_lines)
    for col in CANONICAL_COLUMNS:
        if col not in table.columns:
            what = "gyroscope" if col.startswith("g") else "accelerometer" if col.startswith("a") else "time"
            raise DataFormatError(
                f"{name}: missing column '{col}' ({what}); a recording needs the header "
                f"{','.join(CANONICAL_COLUMNS)} (optional {','.join(MAG_COLUMNS)})"
            )
    present_mag = [c for c in MAG_COLUMNS if c in table.columns]
    if present_mag and len(present_mag) != 3:
        raise DataFormatError(f"{name}: magnetometer needs mx,my,mz; found only {','.join(present_mag)}")
    wanted = list(CANONICAL_COLUMNS) + present_mag
    values, lines, _ = table.numbers(wanted)
    tally = Tally(empty_rows_dropped=table.blank_lines)
    clean = clean_stream(Stream(name, values[:, 0], values[:, 1:], lines), tally)
    v = clean.values
    meta = {"comments": "\n".join(table.comments)} if table.comments else {}
    return finish("canonical", name, clean.t_s, v[:, 0:3], v[:, 3:6], v[:, 6:9] if present_mag else None,
                  tally, meta)


def _canonical(file: _File) -> LoadResult:
    return read_canonical(file.name, file.text)


_SINGLE: dict[str, Callable[[_File], LoadResult]] = {
    "canonical": _canonical, "coremotion": _coremotion, "exermote": _exermote, "feather": _feather,
}


# -------------------------------------------------------------------------------------- multi-file formats


def _stream(file: _File, time_col: str, cols: list[str], scale: float = 1.0, t_scale: float = 1.0) -> Stream:
    values, lines, _ = file.table.numbers([time_col, *cols])
    return Stream(file.name, values[:, 0] * t_scale, values[:, 1:] * scale, lines)


def _combine(fmt: str, source: str, acc: Stream, gyr: Stream | None, tally: Tally, meta: dict[str, str],
             gravity: Stream | None = None, acc_sign: float = 1.0) -> LoadResult:
    """Clean each stream, then put gyroscope (and gravity) on the accelerometer's timestamps. No
    gyroscope (gyr None): the batch says so (meta gyro=absent) and its gyro reads zero."""
    acc = clean_stream(acc, tally)
    acc_v = acc.values
    if gyr is None:
        gyr_v, ok = np.zeros_like(acc_v), np.ones(len(acc.t_s), dtype=bool)
        meta = {**meta, "gyro": "absent"}
        tally.notes.append("no gyroscope in the export: up comes from the accelerometer alone, and rotation "
                           "lifts are followed along the sensor's path")
    else:
        gyr_v, ok = resample_onto(acc.t_s, clean_stream(gyr, tally))
        tally.notes.append("gyroscope linearly interpolated onto accelerometer timestamps "
                           "(never across gaps)")
    if gravity is not None:
        gravity_v, ok_gravity = resample_onto(acc.t_s, clean_stream(gravity, tally))
        acc_v, ok = acc_v + gravity_v, ok & ok_gravity
    if not ok.any():
        other = "gyroscope" if gyr is not None else "gravity"
        raise DataFormatError(f"{source}: the accelerometer and {other} samples never overlap in time")
    tally.unpaired_dropped += int((~ok).sum())
    return finish(fmt, source, acc.t_s[ok], acc_sign * acc_v[ok], gyr_v[ok], None, tally, meta)


def _no_up(source: str, fmt: str, export: str) -> DataFormatError:
    """Neither a gyroscope nor gravity in the export: nothing tells which way is up."""
    return DataFormatError(f"{source}: {fmt} export with neither a gyroscope nor gravity; nothing says which "
                           f"way is up: {export}")


def _one(files: list[_File], what: str, source: str, test: Callable[[_File], bool]) -> _File | None:
    found = [f for f in files if test(f)]
    if len(found) > 1:
        names = ", ".join(f.base for f in found)
        raise DataFormatError(f"{source}: {len(found)} {what} files ({names}); keep one")
    return found[0] if found else None


def _metawear(source: str, files: list[_File]) -> LoadResult:
    def unit(u: str) -> Callable[[_File], bool]:
        return lambda f: any(c.lower() == f"x-axis ({u})" for c in f.table.columns)

    acc_file = _one(files, "accelerometer", source, unit("g"))
    gyr_file = _one(files, "gyroscope", source, unit("deg/s"))
    if acc_file is None:
        raise DataFormatError(f"{source}: MetaWear export without an accelerometer (x-axis (g)) CSV; "
                              "pass it (and the gyroscope's) or their folder")
    acc = _stream(acc_file, "epoch (ms)", [f"{a}-axis (g)" for a in XYZ], STANDARD_GRAVITY, 1e-3)
    t0_s = float(acc.t_s.min())
    acc = Stream(acc.name, acc.t_s - t0_s, acc.values, acc.lines)
    gyr = None
    if gyr_file is not None:
        gyr = _stream(gyr_file, "epoch (ms)", [f"{a}-axis (deg/s)" for a in XYZ], np.pi / 180.0, 1e-3)
        gyr = Stream(gyr.name, gyr.t_s - t0_s, gyr.values, gyr.lines)
    meta = {"clock": "seconds since the first accelerometer epoch", "epoch_start_s": f"{t0_s:.3f}"}
    return _combine("metawear-metabase", source, acc, gyr, Tally(), meta)


def _phyphox(source: str, files: list[_File]) -> LoadResult:
    def has(prefix: str) -> Callable[[_File], bool]:
        return lambda f: f"{prefix} x (m/s^2)" in f.table.columns or f"{prefix} x (rad/s)" in f.table.columns

    with_g = _one(files, "acceleration with g", source, has("Acceleration"))
    linear = _one(files, "linear acceleration", source, has("Linear Acceleration"))
    gyr_file = _one(files, "gyroscope", source, has("Gyroscope"))
    tally = Tally()
    acc_file, acc_prefix = (with_g, "Acceleration") if with_g else (linear, "Linear Acceleration")
    if acc_file is None:
        raise DataFormatError(f"{source}: phyphox export without 'Acceleration x (m/s^2)' columns")
    if gyr_file is None and with_g is None:
        raise _no_up(source, "phyphox", "export 'Acceleration with g' or the Gyroscope too")
    if with_g is None:
        tally.notes.append("gravity missing: only linear acceleration was exported; acc has no gravity")
    time_col = next(c for c in acc_file.table.columns if c.lower() == "time (s)")
    acc = _stream(acc_file, time_col, [f"{acc_prefix} {a} (m/s^2)" for a in XYZ])
    gyr = None
    if gyr_file is not None:
        gyr_time = next(c for c in gyr_file.table.columns if c.lower() == "time (s)")
        gyr = _stream(gyr_file, gyr_time, [f"Gyroscope {a} (rad/s)" for a in XYZ])
    return _combine("phyphox", source, acc, gyr, tally, {"clock": "phyphox experiment time"})


def _sensorlogger(source: str, files: list[_File]) -> LoadResult:
    def named(base: str) -> _File | None:
        return _one(files, base, source, lambda f: f.base.lower() == base.lower())

    total, linear = named("TotalAcceleration.csv"), named("Accelerometer.csv")
    gravity_file = named("Gravity.csv")
    gyr_file, meta_file = named("Gyroscope.csv"), named("Metadata.csv")
    if gyr_file is None and total is None and gravity_file is None:
        raise _no_up(source, "Sensor Logger", "enable the gyroscope or gravity")
    tally = Tally()
    platform = _platform(meta_file) if meta_file else ""
    meta = {"clock": "Sensor Logger seconds_elapsed", "platform": platform or "unknown"}
    gyr = _stream(gyr_file, "seconds_elapsed", list(XYZ)) if gyr_file is not None else None
    if total is not None:
        tally.notes.append("acc from TotalAcceleration.csv (gravity included)")
        acc = _stream(total, "seconds_elapsed", list(XYZ))
        return _combine("sensorlogger", source, acc, gyr, tally, meta)
    if linear is None:
        raise DataFormatError(f"{source}: Sensor Logger export lacks Accelerometer.csv/TotalAcceleration.csv")
    sign = -1.0 if platform.lower() == "ios" else 1.0
    if not platform:
        tally.notes.append("no Metadata.csv platform: assumed Android sign convention (+g up at rest)")
    elif sign < 0:
        tally.notes.append("iOS: acceleration and gravity negated to specific force")
    gravity = _stream(gravity_file, "seconds_elapsed", list(XYZ)) if gravity_file else None
    if gravity is None:
        tally.notes.append("gravity missing (no Gravity.csv): acc is linear acceleration without gravity")
    acc = _stream(linear, "seconds_elapsed", list(XYZ))
    return _combine("sensorlogger", source, acc, gyr, tally, meta, gravity, sign)


def _platform(file: _File) -> str:
    table = file.table
    col = next((i for i, c in enumerate(table.columns) if c.lower() == "platform"), None)
    if col is None or not table.lines:
        return ""
    fields_ = table.lines[0].split(table.delimiter)
    return fields_[col].strip() if col < len(fields_) else ""


_MULTI: dict[str, Callable[[str, list[_File]], LoadResult]] = {
    "metawear": _metawear, "phyphox": _phyphox, "sensorlogger": _sensorlogger,
}
