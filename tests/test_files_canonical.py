"""Canonical CSV: round trip, free column order, comments, incremental writing, hygiene and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tempocoach.errors import DataFormatError
from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.files import RecordingWriter, load_recording, read_recording, write_recording


def make_batch(n: int = 500, rate_hz: float = 100.0, with_mag: bool = False, seed: int = 0) -> ImuBatch:
    rng = np.random.default_rng(seed)
    t_s = 12.5 + np.arange(n) / rate_hz
    acc = rng.normal(0, 2, (n, 3)) + np.array([0, 0, 9.81])
    gyr = rng.normal(0, 0.5, (n, 3))
    mag = rng.normal(40, 5, (n, 3)) if with_mag else None
    return ImuBatch(t_s, acc, gyr, mag)


def write_rows(path: Path, header: str, rows: list[str], comments: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(f"# {c}\n" for c in comments) + header + "\n" + "\n".join(rows) + "\n")
    return path


def rows_of(batch: ImuBatch) -> list[str]:
    data = np.hstack([batch.t_s[:, None], batch.acc_mps2, batch.gyr_radps])
    return [",".join(f"{x:.6f}" for x in row) for row in data]


@pytest.mark.parametrize("with_mag", [False, True])
def test_round_trip_keeps_every_sample(tmp_path: Path, with_mag: bool) -> None:
    batch = make_batch(with_mag=with_mag)
    path = tmp_path / "set.csv"
    write_recording(path, batch, comments=["exercise: back-squat", "tempo: 31X0"])
    back, report = load_recording(path)
    assert len(back) == len(batch)
    np.testing.assert_allclose(back.t_s, batch.t_s, atol=1e-6)
    np.testing.assert_allclose(back.acc_mps2, batch.acc_mps2, rtol=1e-8)
    np.testing.assert_allclose(back.gyr_radps, batch.gyr_radps, rtol=1e-8)
    assert (back.mag_ut is not None) == with_mag
    if with_mag:
        assert batch.mag_ut is not None and back.mag_ut is not None
        np.testing.assert_allclose(back.mag_ut, batch.mag_ut, rtol=1e-8)
    assert back.meta["comments"] == "exercise: back-squat\ntempo: 31X0"
    assert report.format == "canonical" and report.gaps == 0 and report.repeated_timestamps == 0
    assert report.median_rate_hz == pytest.approx(100.0)
    assert back.meta["format"] == "canonical" and back.meta["read.samples"] == str(len(batch))


def test_column_order_is_free_and_case_insensitive(tmp_path: Path) -> None:
    batch = make_batch(50)
    order = [6, 3, 0, 2, 5, 1, 4]  # gz, gx, t, ay, gy, ax, az
    names = ["t", "ax", "ay", "az", "gx", "gy", "gz"]
    data = np.hstack([batch.t_s[:, None], batch.acc_mps2, batch.gyr_radps])[:, order]
    rows = [",".join(f"{x:.6f}" for x in row) for row in data]
    path = write_rows(tmp_path / "shuffled.csv", ",".join(names[i].upper() for i in order), rows)
    back = read_recording(path)
    np.testing.assert_allclose(back.acc_mps2, batch.acc_mps2, atol=1e-6)
    np.testing.assert_allclose(back.gyr_radps, batch.gyr_radps, atol=1e-6)


def test_writer_appends_batches_and_flushes_before_close(tmp_path: Path) -> None:
    batch = make_batch(300)
    path = tmp_path / "live.csv"
    writer = RecordingWriter(path, comments=["device: test"])
    for chunk in batch.chunks(20)[:8]:  # 160 samples = 1.6 s: at least one flush must have happened
        writer.write(chunk)
    on_disk = path.read_text().splitlines()
    assert on_disk[0] == "# device: test" and on_disk[1] == "t,ax,ay,az,gx,gy,gz"
    assert len(on_disk) - 2 >= 100  # a crash now loses at most the last second
    for chunk in batch.chunks(20)[8:]:
        writer.write(chunk)
    writer.close()
    assert len(read_recording(path)) == 300
    with RecordingWriter(tmp_path / "again.csv") as again:
        again.write(batch.slice(0, 10))
        with pytest.raises(DataFormatError, match="not after the last sample"):
            again.write(batch.slice(5, 15))


def test_reordered_and_duplicated_rows_are_resolved_and_counted(tmp_path: Path) -> None:
    batch = make_batch(100)
    rows = rows_of(batch)
    rows[10], rows[11] = rows[11], rows[10]
    rows.insert(50, rows[49])  # an exact duplicate
    rows.insert(70, rows[68])  # a late duplicate: out of order as well
    rows.insert(20, "")  # a blank line
    back, report = load_recording(write_rows(tmp_path / "messy.csv", "t,ax,ay,az,gx,gy,gz", rows))
    assert len(back) == 100
    np.testing.assert_allclose(back.t_s, batch.t_s, atol=1e-6)
    np.testing.assert_allclose(back.acc_mps2, batch.acc_mps2, atol=1e-6)
    assert report.reordered_rows == 2
    assert report.duplicate_rows_dropped == 2
    assert report.empty_rows_dropped == 1
    assert report.rows_read == 102


def test_equal_timestamps_are_spread_back_not_dropped(tmp_path: Path) -> None:
    batch = make_batch(100)
    stamped_t_s = batch.t_s.copy()
    stamped_t_s[40:44] = stamped_t_s[43]  # a burst: four samples stamped with the arrival time
    data = np.hstack([stamped_t_s[:, None], batch.acc_mps2, batch.gyr_radps])
    rows = [",".join(f"{x:.6f}" for x in row) for row in data]
    back, report = load_recording(write_rows(tmp_path / "burst.csv", "t,ax,ay,az,gx,gy,gz", rows))
    assert len(back) == 100 and report.repeated_timestamps == 3
    assert np.all(np.diff(back.t_s) > 0)
    assert back.t_s[43] == pytest.approx(stamped_t_s[43])
    assert back.t_s[40] > back.t_s[39]  # spread inside the interval since the previous sample
    np.testing.assert_allclose(back.acc_mps2, batch.acc_mps2, atol=1e-6)  # same samples, same order


def test_gaps_stay_gaps(tmp_path: Path) -> None:
    batch = make_batch(400)
    keep = np.r_[0:150, 250:400]  # a 1 s hole
    rows = [rows_of(batch)[i] for i in keep]
    back, report = load_recording(write_rows(tmp_path / "gap.csv", "t,ax,ay,az,gx,gy,gz", rows))
    assert len(back) == 300
    assert report.gaps == 1 and report.largest_gap_s == pytest.approx(1.01, abs=1e-6)
    assert not np.any((back.t_s > batch.t_s[149]) & (back.t_s < batch.t_s[250]))
    assert np.max(np.diff(back.t_s)) == pytest.approx(1.01, abs=1e-6)


def test_repeated_values_are_counted_but_kept_in_canonical(tmp_path: Path) -> None:
    batch = make_batch(100)
    data = np.hstack([batch.t_s[:, None], batch.acc_mps2, batch.gyr_radps])
    data[31, 1:] = data[30, 1:]
    rows = [",".join(f"{x:.6f}" for x in row) for row in data]
    back, report = load_recording(write_rows(tmp_path / "rep.csv", "t,ax,ay,az,gx,gy,gz", rows))
    assert report.repeated_values == 1 and not report.repeated_values_dropped and len(back) == 100


HEADER = "t,ax,ay,az,gx,gy,gz"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "set.csv: the file is empty (no header and no samples)"),
        ("# only a comment\n\n", "set.csv: the file is empty (no header and no samples)"),
        ("t,ax,ay,az\n0,1,2,3\n", "set.csv: missing column 'gx' (gyroscope)"),
        (f"# comment\n{HEADER}\n\n", "set.csv: no samples after the header; is the recording empty?"),
        ("t,ax,ay,az,gx,gy,gz,mx\n0,1,2,3,4,5,6,7\n", "set.csv: magnetometer needs mx,my,mz; found only mx"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0.01,1,2,3,4,5\n", "set.csv line 3: 6 fields but the header has 7"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0.01,1,nan,3,4,5,6\n", "set.csv line 3, column 'ay': value is nan"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0.01,1,2,3,,5,6\n", "set.csv line 3, column 'gx': '' is not a number"),
        (f"{HEADER}\n0,1,2,3,4,5,6\n0,1,2,4,4,5,6\n0,1,2,5,4,5,6\n", "set.csv: all 3 samples share one"),
        ("time;foo;bar\n1;2;3\n", "set.csv: unknown recording format (first row 'time;foo;bar'); expected: "),
    ],
)
def test_malformed_files_give_exact_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "set.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError) as err:
        load_recording(path)
    assert str(err.value).endswith(message) or message in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_number_names_line_and_column_as_an_editor_shows_them(tmp_path: Path) -> None:
    rows = [f"{i / 100:.2f},0,0,9.8,0,0,0" for i in range(20)]
    rows[10] = "0.10,0.1,abc,9.8,0,0,0"  # 2 comment lines + header + 10 rows before it -> line 14
    path = write_rows(tmp_path / "set.csv", HEADER, rows, comments=("recorded by test", "units SI"))
    with pytest.raises(DataFormatError) as err:
        load_recording(path)
    assert str(err.value) == f"{path} line 14, column 'ay': 'abc' is not a number"


def test_unknown_format_lists_what_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "weird.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataFormatError, match="unknown recording format") as err:
        load_recording(path)
    for expected in ("canonical CSV (t,ax,ay,az,gx,gy,gz", "MetaWear", "phyphox", "Sensor Logger", "feather"):
        assert expected in str(err.value)
    with pytest.raises(DataFormatError, match="no such file or folder"):
        load_recording(tmp_path / "missing.csv")


def test_multiline_comment_cannot_break_the_header(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_recording(path, make_batch(10), comments=["note: first\nsecond"])
    back = read_recording(path)
    assert back.meta["comments"] == "note: first second" and len(back) == 10
