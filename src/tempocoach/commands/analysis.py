"""`tempocoach analyze` and `tempocoach exercises`: a recorded set in, an adherence report out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tempocoach.coach.report import build_report
from tempocoach.coach.report_render import render_figure, render_report
from tempocoach.errors import TempoCoachError
from tempocoach.exercises import catalog, get_exercise
from tempocoach.motion.pipeline import analyze_recording
from tempocoach.sensors.files import load_recording
from tempocoach.tempo import parse_tempo


def write_output(path: Path, data: bytes, what: str) -> None:
    """Write a result file at the edge, with a one-line error naming the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise TempoCoachError(f"cannot write {what} to {path}: {exc.strerror or exc}") from exc


def analyze(
    files: Annotated[
        list[Path], typer.Argument(help="Recording: canonical CSV, an app export, or its folder")
    ],
    tempo: Annotated[str, typer.Option("--tempo", "-t", help="Tempo code, e.g. 31X0 or 4-0-4-0")],
    exercise: Annotated[str, typer.Option("--exercise", "-e", help="Exercise id or alias")],
    placement: Annotated[
        str | None, typer.Option("--placement", "-p", help="wrist or bar (default: the exercise's usual one)")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the analysis JSON here")] = None,
    plot_out: Annotated[Path | None, typer.Option("--plot", help="Write the PNG figure here")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table, only files")] = False,
) -> None:
    """Find every rep and phase in a recorded set and report how well the tempo was kept."""
    code = parse_tempo(tempo)
    lift = get_exercise(exercise)
    where = placement or lift.default_placement()
    lift.motion_for(where)
    for path in files:
        if not path.exists():
            raise TempoCoachError(f"{path}: no such file or folder")
    batch, read_report = load_recording(files if len(files) > 1 else files[0])
    record = analyze_recording(batch, lift, code, where, source=str(files[0]))
    report = build_report(record)
    console = Console()
    if not quiet:
        console.print(f"[dim]{read_report.summary()}[/dim]")
        console.print(render_report(report))
    if json_out is not None:
        payload = report.to_json()
        payload["recording"] = {"source": str(files[0]), "read": read_report.summary()}
        write_output(json_out, (json.dumps(payload, indent=2) + "\n").encode(), "the analysis JSON")
        if not quiet:
            console.print(f"analysis JSON written to {json_out}")
    if plot_out is not None:
        write_output(plot_out, render_figure(report, record), "the figure")
        if not quiet:
            console.print(f"figure written to {plot_out}")


def exercises() -> None:
    """List the exercise catalogue."""
    table = Table(title="Exercises")
    for column in ("id", "name", "kind", "starts with", "placements", "aliases"):
        table.add_column(column)
    for ex in catalog():
        placements = ", ".join(f"{p} ({m})" for p, m in ex.motion.items())
        table.add_row(ex.id, ex.name, ex.kind, ex.starts_with, placements, ", ".join(ex.aliases[:3]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(analyze)
    app.command()(exercises)
