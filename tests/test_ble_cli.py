"""`tempocoach scan` and `record` against emulated sensors, Ctrl-C during a recording, and the one-line
error a machine without Bluetooth gets from real bleak."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import numpy as np
import pytest
import typer
from rich.progress import Progress
from typer.testing import CliRunner

from tempocoach.commands.sensors import _record, register
from tempocoach.errors import DeviceError
from tempocoach.sensors.ble import BleSensorSource, registered_profiles, scan
from tempocoach.sensors.devices import EmulatedSource, open_source
from tempocoach.sensors.files import read_recording


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TEMPOCOACH_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    application = typer.Typer()
    register(application)
    return application


def test_scan_emulated_lists_every_family(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["scan", "--emulated", "--timeout", "0.5"])
    assert result.exit_code == 0, result.output
    for profile in registered_profiles():
        assert f"emulated:{profile.family}" in result.output
        assert profile.advertised_name in result.output


def test_record_emulated_writes_the_canonical_csv(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "set.csv"
    args = ["record", "--device", "emulated:thingy", "--speed", "40", "--duration", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and str(out) in result.output.replace("\n", "")
    batch = read_recording(out)
    rate_hz = 50.0  # Thingy's default motion rate
    assert 2.9 <= batch.duration_s <= 3.0
    assert abs(len(batch) - 3.0 * rate_hz) <= 3
    gravity = np.linalg.norm(batch.acc_mps2, axis=1)
    assert 5.0 < float(np.median(gravity)) < 15.0  # a lifter on Earth, through Thingy's Q6.10 format


def test_ctrl_c_keeps_what_was_recorded_and_stops_the_sensor(tmp_path: Path) -> None:
    source = open_source("emulated:polar-h10", speed=5.0)  # the set lasts seconds: cut mid-stream
    assert isinstance(source, EmulatedSource)
    out = tmp_path / "cut.csv"

    async def main() -> None:
        with Progress(disable=True) as progress:
            task = asyncio.get_running_loop().create_task(_record(source, out, None, progress))
            while source.source is None or source.source.stats.samples < 300:
                await asyncio.sleep(0.01)
            task.cancel()  # what asyncio.run does on Ctrl-C
            # Depending on where the cancellation lands, the BLE stream may end it as a stop (the
            # recording then returns normally) or it propagates; either way nothing is lost.
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(main())
    batch = read_recording(out)
    assert len(batch) >= 250
    assert source.sensor.writes[-1] == ("fb005c81-02e7-f387-1cad-8acd2d8df0c8", b"\x03\x02")  # stop ACC
    assert not source.sensor.connected


def test_no_bluetooth_stack_is_one_clear_error() -> None:
    """Here there is no D-Bus: bleak's default backend raises FileNotFoundError, we say what to do."""

    async def main() -> None:
        with pytest.raises(DeviceError) as scanning:
            await scan(0.5)
        source = BleSensorSource("AA:BB:CC:DD:EE:FF", scan_timeout_s=0.5)
        with pytest.raises(DeviceError) as streaming:
            async for _ in source.batches():
                pass
        for err in (scanning.value, streaming.value):
            message = str(err)
            assert "\n" not in message
            assert "BlueZ" in message and "emulated:polar" in message

    asyncio.run(main())


def test_unknown_emulated_family_names_the_choices() -> None:
    expected = r"no emulated sensor family 'fitbit'; choose one of .*emulated:witmotion"
    with pytest.raises(DeviceError, match=expected):
        open_source("emulated:fitbit")
