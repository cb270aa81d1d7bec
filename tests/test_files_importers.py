"""Every importer on small files written here in that vendor's exact layout, against a known motion."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from tempocoach.errors import DataFormatError
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray
from tempocoach.sensors.files import load_recording

G0 = STANDARD_GRAVITY


def truth(t_s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Specific force (+g up at rest, device tilted) and angular rate; omega is linear in time so
    that interpolating it between two timestamps is exact."""
    f = np.column_stack([1.5 * np.sin(2 * t_s), 2.0 + 0 * t_s, 9.3 + 0.5 * np.cos(3 * t_s)])
    w = np.column_stack([0.1 + 0.2 * t_s, -0.3 + 0 * t_s, 0.05 * t_s])
    return f, w


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    return ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


def fmt(x: float) -> str:
    return f"{x:.6f}"


def test_coremotion_watch_layout_converts_to_specific_force(tmp_path: Path) -> None:
    t_s = np.round(np.arange(0, 3, 0.01), 2)
    f, w = truth(t_s)
    gravity_g = -f / np.linalg.norm(f, axis=1, keepdims=True)  # CoreMotion gravity points down
    user_g = -f / G0 - gravity_g  # so that -(user + gravity) * g0 == f
    quat = ["0.1", "0.2", "0.3", "0.9"]
    header = ["secondsElapsed"] + [f"wristMotion_{q}{a}" for q in ("rotationRate", "gravity", "acceleration")
                                   for a in "XYZ"]
    header += [f"wristMotion_quaternion{a}" for a in "WXYZ"] + ["weight", "set", "reps", "activity",
                                                                 "activityEncoded", "label"]
    tail = ["61.0", "1.0", "12.0", "APULL", "28", "Pullups"]
    rows = [[fmt(t_s[i])] + [""] * 13 + tail for i in range(3)]  # documented empty start-up rows
    rows += [[fmt(t_s[i]), *map(fmt, w[i]), *map(fmt, gravity_g[i]), *map(fmt, user_g[i]), *quat, *tail]
             for i in range(3, len(t_s))]
    path = tmp_path / "watch.csv"
    path.write_text(csv_text(header, rows))
    batch, report = load_recording(path)
    assert report.format == "applewatch-coremotion"
    assert report.empty_rows_dropped == 3 and len(batch) == len(t_s) - 3
    np.testing.assert_allclose(batch.t_s, t_s[3:], atol=1e-9)
    np.testing.assert_allclose(batch.acc_mps2, f[3:], atol=1e-4)
    np.testing.assert_allclose(batch.gyr_radps, w[3:], atol=1e-6)


def test_coremotion_partly_empty_row_is_an_error(tmp_path: Path) -> None:
    header = ["secondsElapsed"] + [f"wristMotion_{q}{a}" for q in ("rotationRate", "gravity", "acceleration")
                                   for a in "XYZ"]
    rows = [["0.0"] + ["0.1"] * 9, ["0.01"] + ["0.1"] * 4 + [""] + ["0.1"] * 4]
    path = tmp_path / "watch.csv"
    path.write_text(csv_text(header, rows))
    with pytest.raises(DataFormatError, match=r"watch.csv line 3, column 'wristMotion_gravityY': '' is not"):
        load_recording(path)


def test_exermote_iphone_layout(tmp_path: Path) -> None:
    t_s = np.arange(0, 5, 0.1)
    f, w = truth(t_s)
    gravity_g = -f / np.linalg.norm(f, axis=1, keepdims=True)
    user_g = -f / G0 - gravity_g
    beacon = ["Right Hand: nearableID", "Right Hand: rssi", "Right Hand: timeStampRecorded"]
    device = [f"Device: {a}{q}" for q in ("Gravity", "Acceleration") for a in "xyz"]
    device += ["Device: pitch", "Device: roll", "Device: yaw"] + [f"Device: {a}RotationRate" for a in "xyz"]
    header = beacon + device + ["exerciseType", "exerciseSubType", "timeStampSaved", "individual"]

    def stamp(s: float) -> str:
        ms = round(s * 1000) + 48_558
        return f"2017-04-22 15:16:{ms // 1000:02d}:{ms % 1000:03d}"

    rows = [["15b97f918a0f190e", "-52", "2017-04-22 15:16:48:515"] + [""] * 12
            + ["setBreak", "setBreak", stamp(-0.1), "1"]]
    rows += [["15b97f918a0f190e", "-52", "2017-04-22 15:16:48:515", *map(fmt, gravity_g[i]),
              *map(fmt, user_g[i]), "1.1", "1.2", "-0.9", *map(fmt, w[i]), "Squat", "firstHalf",
              stamp(t_s[i]), "1"]
             for i in range(len(t_s))]
    path = tmp_path / "exermote.csv"
    path.write_text(csv_text(header, rows))
    batch, report = load_recording(path)
    assert report.format == "exermote-iphone" and report.empty_rows_dropped == 1
    np.testing.assert_allclose(batch.t_s, t_s, atol=1e-9)
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-4)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-6)


def metawear_files(folder: Path, gyro_hole: tuple[float, float] | None = None) -> tuple[Path, Path]:
    """MetaBase exports: accelerometer 100 Hz in g, gyroscope 50 Hz in deg/s, clocks offset by 3 ms."""
    epoch0_ms = 1_556_712_000_000
    acc_t = np.arange(0, 4, 0.01)
    gyr_t = np.arange(-0.003, 4.05, 0.02)
    if gyro_hole:
        gyr_t = gyr_t[(gyr_t < gyro_hole[0]) | (gyr_t > gyro_hole[1])]
    f, _ = truth(acc_t)
    _, w = truth(gyr_t)

    def rows(t: FloatArray, xyz: FloatArray) -> list[list[str]]:
        return [[str(round(epoch0_ms + s * 1000)), "2019-05-01T12.00.00.000", f"{s - t[0]:.3f}",
                 *(f"{v:.5f}" for v in row)] for s, row in zip(t, xyz, strict=True)]

    base = ["epoch (ms)", "time (-13:00)", "elapsed (s)"]
    acc = folder / "MetaWear_2019-05-01T12.00.00.000_D1:2F:BA:4D:52:A1_Accelerometer_1.4.5.csv"
    gyr = folder / "MetaWear_2019-05-01T12.00.00.000_D1:2F:BA:4D:52:A1_Gyroscope_1.4.5.csv"
    acc.write_text(csv_text(base + [f"{a}-axis (g)" for a in "xyz"], rows(acc_t, f / G0)))
    gyr.write_text(csv_text(base + [f"{a}-axis (deg/s)" for a in "xyz"], rows(gyr_t, np.degrees(w))))
    return acc, gyr


@pytest.mark.parametrize("given", ["folder", "both", "accelerometer"])
def test_metawear_streams_fused_on_accelerometer_clock(tmp_path: Path, given: str) -> None:
    acc, gyr = metawear_files(tmp_path)
    arg = {"folder": tmp_path, "both": [acc, gyr], "accelerometer": acc}[given]
    batch, report = load_recording(arg)  # type: ignore[arg-type]
    assert report.format == "metawear-metabase" and report.unpaired_dropped == 0
    f, w = truth(batch.t_s)
    assert len(batch) == 400 and batch.t_s[0] == pytest.approx(0.0)
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-3)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-4)


def test_metawear_gyro_gap_is_not_bridged(tmp_path: Path) -> None:
    load_recording(metawear_files(tmp_path, gyro_hole=(1.0, 2.0))[0])  # both load
    batch, report = load_recording(tmp_path)
    assert report.unpaired_dropped > 90  # ~1 s of accelerometer samples without gyroscope
    assert not np.any((batch.t_s > 1.03) & (batch.t_s < 1.97))
    assert report.gaps == 1 and report.largest_gap_s > 0.9


def test_metawear_without_gyroscope_loads_and_says_so(tmp_path: Path) -> None:
    # An accelerometer-only export (the gyro not streamed) still reads: up comes from the accelerometer.
    acc, gyr = metawear_files(tmp_path)
    gyr.unlink()
    batch, report = load_recording(acc)
    assert len(batch) == 400 and batch.meta["gyro"] == "absent"
    assert not np.any(batch.gyr_radps)
    f, _ = truth(batch.t_s)
    np.testing.assert_allclose(batch.acc_mps2, f, atol=2e-3)  # g to m/s^2, 4 decimals of g
    assert any("no gyroscope" in note for note in report.notes)
    (tmp_path / "gyro").mkdir()
    acc_file, gyr_only = metawear_files(tmp_path / "gyro")
    acc_file.unlink()
    with pytest.raises(DataFormatError, match=r"MetaWear export without an accelerometer \(x-axis \(g\)\)"):
        load_recording(gyr_only)


def phyphox_export(folder: Path, quoted: bool = True, delimiter: str = ",", decimal: str = ".") -> None:
    t_s = np.arange(0, 2, 0.005)
    f, w = truth(t_s)
    q = '"' if quoted else ""

    def write(name: str, cols: list[str], xyz: FloatArray) -> None:
        header = delimiter.join(f"{q}{c}{q}" for c in cols)
        absolute = np.linalg.norm(xyz, axis=1)
        body = "\n".join(delimiter.join(f"{v:.9E}" for v in (s, x, y, z, a)) for s, (x, y, z), a in
                         zip(t_s, xyz, absolute, strict=True))
        body = body.replace(".", decimal)
        (folder / name).write_text(header + "\n" + body + "\n")

    write("Accelerometer.csv", ["Time (s)"] + [f"Acceleration {a} (m/s^2)" for a in "xyz"]
          + ["Absolute acceleration (m/s^2)"], f)
    write("Gyroscope.csv", ["Time (s)"] + [f"Gyroscope {a} (rad/s)" for a in "xyz"] + ["Absolute (rad/s)"], w)


def test_phyphox_folder_and_zip(tmp_path: Path) -> None:
    folder = tmp_path / "phyphox"
    (folder / "meta").mkdir(parents=True)
    (folder / "meta" / "device.csv").write_text('"property","value"\n"model","Pixel"\n')
    phyphox_export(folder)
    batch, report = load_recording(folder)
    f, w = truth(batch.t_s)
    assert report.format == "phyphox" and len(batch) == 400
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-6)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-6)
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in folder.rglob("*.csv"):
            zf.write(p, p.relative_to(folder))
    from_zip = load_recording(zpath)[0]
    np.testing.assert_array_equal(from_zip.acc_mps2, batch.acc_mps2)


@pytest.mark.parametrize(("delimiter", "decimal"), [("\t", "."), (";", "."), ("\t", ","), (";", ",")])
def test_phyphox_tab_and_semicolon_exports_with_either_decimal_mark(tmp_path: Path, delimiter: str,
                                                                    decimal: str) -> None:
    # phyphox's CSV choices besides comma-separated: tab or semicolon, each with a decimal point or comma.
    phyphox_export(tmp_path, delimiter=delimiter, decimal=decimal)
    batch = load_recording(tmp_path)[0]
    f, w = truth(batch.t_s)
    assert len(batch) == 400
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-6)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-6)


def test_phyphox_accelerometer_alone_loads_but_linear_acceleration_alone_cannot(tmp_path: Path) -> None:
    phyphox_export(tmp_path, quoted=False)
    (tmp_path / "Gyroscope.csv").unlink()
    batch, report = load_recording(tmp_path / "Accelerometer.csv")
    assert batch.meta["gyro"] == "absent" and not np.any(batch.gyr_radps)
    assert any("no gyroscope" in note for note in report.notes)
    # Without gravity as well, nothing says which way is up.
    accelerometer = tmp_path / "Accelerometer.csv"
    accelerometer.write_text(accelerometer.read_text().replace("Acceleration ", "Linear Acceleration "))
    with pytest.raises(DataFormatError, match="phyphox export with neither a gyroscope nor gravity"):
        load_recording(accelerometer)


def sensorlogger_export(folder: Path, platform: str | None, gravity: bool = True) -> None:
    t_s = np.arange(0, 2, 0.01)
    f, w = truth(t_s)
    g_vec = 9.5 * f / np.linalg.norm(f, axis=1, keepdims=True)  # Android convention: +up like f
    linear = f - g_vec
    sign = -1.0 if platform == "iOS" else 1.0  # iOS: inertial-force sign on acceleration and gravity

    def write(name: str, xyz: FloatArray) -> None:
        epoch_ns = 1_698_501_144_401_773_000
        rows = [[str(epoch_ns + round(s * 1e9)), f"{s:.9f}", *(f"{v:.9f}" for v in row[::-1])]
                for s, row in zip(t_s, xyz, strict=True)]
        (folder / name).write_text(csv_text(["time", "seconds_elapsed", "z", "y", "x"], rows))

    write("Accelerometer.csv", sign * linear)
    write("Gyroscope.csv", w)
    if gravity:
        write("Gravity.csv", sign * g_vec)
    if platform:
        (folder / "Metadata.csv").write_text(
            "version,device name,recording time,platform\n3,Phone,2023-10-28_13-52-24," + platform + "\n")


@pytest.mark.parametrize("platform", ["iOS", "Android", None])
def test_sensorlogger_adds_gravity_with_the_platform_sign(tmp_path: Path, platform: str | None) -> None:
    sensorlogger_export(tmp_path, platform)
    batch, report = load_recording(tmp_path)
    f, w = truth(batch.t_s)
    assert report.format == "sensorlogger" and len(batch) == 200
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-6)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-6)
    assert ("assumed Android sign" in report.summary()) == (platform is None)


def test_sensorlogger_without_gravity_says_so(tmp_path: Path) -> None:
    sensorlogger_export(tmp_path, "Android", gravity=False)
    batch, report = load_recording(tmp_path / "Accelerometer.csv")
    assert "gravity missing" in report.summary() and "gravity missing" in batch.meta["read_summary"]
    assert float(np.median(np.linalg.norm(batch.acc_mps2, axis=1))) < 5.0


def test_sensorlogger_without_gyroscope_needs_gravity(tmp_path: Path) -> None:
    sensorlogger_export(tmp_path, "Android")
    (tmp_path / "Gyroscope.csv").unlink()
    batch, report = load_recording(tmp_path)
    f, _ = truth(batch.t_s)
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-6)
    assert batch.meta["gyro"] == "absent" and any("no gyroscope" in note for note in report.notes)
    (tmp_path / "Gravity.csv").unlink()
    with pytest.raises(DataFormatError, match="Sensor Logger export with neither a gyroscope nor gravity"):
        load_recording(tmp_path)


def test_feather_bursts_resends_and_reordering(tmp_path: Path) -> None:
    t_ms = 567_233 + np.arange(200) * 20
    f, w = truth(t_ms / 1000.0)
    mag = np.column_stack([47 + np.arange(200) * 0.01, -43 + 0 * t_ms, 89 + 0 * t_ms])
    rows = [[1, int(t), *f[i], *w[i], *mag[i]] for i, t in enumerate(t_ms)]
    resend = [1, int(t_ms[50] + 4), *f[50], *w[50], *mag[50] + 0.5]  # same acc+gyr, newer mag
    rows.insert(51, resend)
    rows.insert(101, list(rows[100]))  # exact duplicate row
    rows[120][1] = rows[121][1]  # a burst: two samples with one arrival time
    rows[150], rows[151] = rows[151], rows[150]  # arrival out of order
    text = "\n".join(",".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) for r in rows)
    path = tmp_path / "squat_adam_set1_reps10_1.csv"
    path.write_text(text + "\n")
    batch, report = load_recording(path)
    assert report.format == "feather-barbell" and report.repeated_values_dropped
    assert report.repeated_values == 1 and report.duplicate_rows_dropped == 1
    assert report.reordered_rows == 1 and report.repeated_timestamps == 1
    assert len(batch) == 200 and batch.mag_ut is not None
    assert np.all(np.diff(batch.t_s) > 0)
    np.testing.assert_allclose(batch.acc_mps2, np.round(f, 3), atol=1e-9)
    np.testing.assert_allclose(batch.gyr_radps, np.round(w, 3), atol=1e-9)


def test_folder_with_two_recordings_asks_for_one(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("t,ax,ay,az,gx,gy,gz\n0,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n")
    with pytest.raises(DataFormatError, match="holds 2 separate recordings; pass one file"):
        load_recording(tmp_path)


@pytest.mark.parametrize("standardised", [False, True])
def test_sensorlogger_watch_only_export_uses_wristmotion(tmp_path: Path, standardised: bool) -> None:
    t_s = np.arange(0, 2, 0.01)
    f, w = truth(t_s)
    gravity_g = -f / np.linalg.norm(f, axis=1, keepdims=True)
    user_g = -f / G0 - gravity_g
    if standardised:  # m/s^2 with the Android sign: user + gravity == f
        gravity_g, user_g = -gravity_g * G0, -user_g * G0
    header = ["time", "seconds_elapsed"] + [f"{q}{a}" for q in ("rotationRate", "gravity", "acceleration")
                                            for a in "XYZ"] + ["quaternionW", "quaternionX"]
    rows = [[str(1_700_000_000_000_000_000 + i * 10_000_000), fmt(t_s[i]), *map(fmt, w[i]),
             *map(fmt, gravity_g[i]), *map(fmt, user_g[i]), "0.9", "0.1"] for i in range(len(t_s))]
    (tmp_path / "WristMotion.csv").write_text(csv_text(header, rows))
    (tmp_path / "Metadata.csv").write_text("version,device name,recording time,platform\n3,Phone,x,iOS\n")
    (tmp_path / "Location.csv").write_text("time,seconds_elapsed,latitude,longitude\n1,0.1,51.0,0.0\n")
    batch, report = load_recording(tmp_path)
    assert report.format == "applewatch-coremotion" and len(batch) == 200
    np.testing.assert_allclose(batch.acc_mps2, f, atol=1e-4)
    np.testing.assert_allclose(batch.gyr_radps, w, atol=1e-6)
