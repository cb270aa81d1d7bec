"""Sensor commands: scan for supported BLE IMUs, record one to the canonical CSV."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tempocoach.sensors.base import ImuBatch, Source
from tempocoach.sensors.files import RecordingWriter

if TYPE_CHECKING:
    from tempocoach.sensors.ble import FoundSensor

# bleak and bumble are imported when a command runs, so `tempocoach --help` does not pay for them.
console = Console(stderr=True)


async def _scan_emulated(timeout_s: float) -> list[FoundSensor]:
    """One emulated sensor of every supported family, advertising on an in-process link."""
    from tempocoach.sensors.ble import FoundSensor, registered_profiles, scan
    from tempocoach.sensors.devices import EmulatedWorld
    from tempocoach.sensors.emulator import EMULATED_PREFIX, EmulatedSensor

    sensors = [EmulatedSensor(type(p)(), [], p.default_rate_hz) for p in registered_profiles()]
    async with EmulatedWorld(sensors) as world:
        found = await scan(timeout_s, world.scanner_kwargs)
    by_address = {s.address: s.profile.family for s in sensors}
    return [
        FoundSensor(f.name, f"{EMULATED_PREFIX}{by_address.get(f.address, f.family)}", f.family, f.rssi)
        for f in found
    ]


def scan_command(
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to listen.")] = 5.0,
    emulated: Annotated[
        bool, typer.Option("--emulated", help="Scan emulated sensors (no Bluetooth needed).")
    ] = False,
) -> None:
    """List supported IMU sensors in range (Polar, WitMotion, Movesense, MetaWear, Thingy, open)."""
    from tempocoach.sensors.ble import scan

    listen_s = min(timeout, 1.0) if emulated else timeout  # emulated sensors advertise every 20 ms
    scanning = _scan_emulated(listen_s) if emulated else scan(listen_s)
    with console.status(f"scanning for {listen_s:g} s..."):
        found = asyncio.run(scanning)
    if not found:
        console.print(
            "no supported sensor found: wake it (move it), check it is charged, close its phone app "
            "(a sensor talks to one device at a time), and see docs/sensors.md"
        )
        raise typer.Exit(1)
    table = Table(title="Supported sensors in range")
    for column in ("name", "address", "family", "RSSI dBm"):
        table.add_column(column, justify="right" if column.startswith("RSSI") else "left", overflow="fold")
    for sensor in found:
        table.add_row(sensor.name, sensor.address, sensor.family, str(sensor.rssi))
    Console().print(table)
    first = found[0]
    console.print(f"next: tempocoach record --device {first.address} --duration 30")


def _default_out(device: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", device).strip("-").lower()
    return Path(f"recording-{slug}-{time.strftime('%Y%m%d-%H%M%S')}.csv")


async def _record(source: Source, out: Path, duration_s: float | None, progress: Progress) -> int:
    """Write batches as they come (the writer flushes every second of samples); return samples written."""
    task = progress.add_task(f"recording {source.name}", total=duration_s, samples=0, info="")
    writer: RecordingWriter | None = None
    written, t0_s = 0, None
    stream: AsyncIterator[ImuBatch] = aiter(source.batches())
    try:
        async for batch in stream:
            t0_s = float(batch.t_s[0]) if t0_s is None else t0_s
            if duration_s is not None:
                batch = batch.slice(0, int((batch.t_s < t0_s + duration_s).sum()))
            if writer is None:
                writer = RecordingWriter(out, with_mag=batch.mag_ut is not None,
                                         comments=[f"tempocoach record --device {source.name}"])
            if writer.with_mag and batch.mag_ut is None:
                batch = ImuBatch(batch.t_s, batch.acc_mps2, batch.gyr_radps, batch.acc_mps2 * float("nan"))
            writer.write(batch)
            written += len(batch)
            elapsed_s = float(batch.t_s[-1]) - t0_s if len(batch) else duration_s or 0.0
            progress.update(task, completed=elapsed_s, samples=written, info=_stream_info(source))
            if duration_s is not None and elapsed_s >= duration_s - 1e-9:
                break
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()  # now, not at garbage collection: sends the stop writes and disconnects
        if writer is not None:
            writer.close()
    return written


def _stream_info(source: Source) -> str:
    ble = getattr(source, "source", None) or source  # an EmulatedSource wraps the BLE source
    stats = getattr(ble, "stats", None)
    if stats is None:
        return ""
    reconnects = getattr(ble, "reconnects", 0)
    return (f"{stats.packets} packets, {stats.malformed} malformed, {stats.lost_samples} lost, "
            f"{reconnects} reconnects")


def record_command(
    device: Annotated[str, typer.Option("--device", help="Address or name from `scan`, or emulated:FAMILY.")],
    out: Annotated[Path | None, typer.Option("--out", help="CSV to write (default recording-*.csv).")] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Seconds to record (default: until Ctrl-C).")
    ] = None,
    rate: Annotated[float | None, typer.Option("--rate", help="Sample rate, Hz (device's nearest).")] = None,
    family: Annotated[str | None, typer.Option("--family", help="Force the protocol, e.g. polar.")] = None,
    exercise: Annotated[str, typer.Option(help="Emulated lifter: exercise.")] = "back-squat",
    tempo: Annotated[str, typer.Option(help="Emulated lifter: tempo code.")] = "31X0",
    reps: Annotated[int, typer.Option(help="Emulated lifter: reps.")] = 6,
    speed: Annotated[float, typer.Option(help="Emulated lifter: times real time.")] = 1.0,
) -> None:
    """Record a sensor to the canonical CSV (t,ax,ay,az,gx,gy,gz[,mx,my,mz]) while showing progress."""
    from tempocoach.sensors.ble import open_source

    source = open_source(device, family=family, rate_hz=rate, exercise=exercise, tempo=tempo, reps=reps,
                         speed=speed)
    path = out or _default_out(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:6.1f} s"),
               TextColumn("{task.fields[samples]} samples"), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        written = asyncio.run(_record(source, path, duration, progress))
    console.print(f"wrote {written} samples to {path} ({_stream_info(source) or source.name})")


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
    app.command("record")(record_command)
