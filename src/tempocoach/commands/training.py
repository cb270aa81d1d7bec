"""Training commands: run a protocol, list/show/check protocols, history with a trend plot, export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tempocoach.coach.load import parse_mass_kg
from tempocoach.config import UserConfig, data_dir
from tempocoach.errors import TempoCoachError
from tempocoach.logbook import Logbook
from tempocoach.plan import (
    Load,
    Protocol,
    check_week,
    describe,
    find_protocol,
    list_protocols,
    load_protocol_file,
)
from tempocoach.rest import RealClock, terminal_keys_or_none
from tempocoach.session import SessionOptions, SessionParts, SessionResult, run_session
from tempocoach.session_io import ConsoleDisplay, PlayerVoice, SilentVoice, Voice
from tempocoach.session_runner import SourceProvider
from tempocoach.session_sources import EmulatedSources, LiveSources, SimulatedSources

console = Console(highlight=False)
protocols_app = typer.Typer(help="List, show and check training protocols.", no_args_is_help=True)


def _sources(device: str | None, simulate: bool, clock: RealClock, seed: int) -> SourceProvider:
    if simulate == (device is not None):
        raise TempoCoachError("run: give either --device NAME_OR_ADDRESS or --simulate")
    if simulate:
        return SimulatedSources(clock, seed=seed)
    assert device is not None
    if device.startswith("emulated:"):
        return EmulatedSources(device, clock, clock.speed, seed)
    from tempocoach.sensors import ble

    opener = getattr(ble, "open_source", None)
    if opener is None:
        raise TempoCoachError("run --device: this build has no BLE source yet; use --simulate")
    return LiveSources(lambda: opener(device), label=device, clock=clock)


def _voice(clock: RealClock, no_audio: bool, wav: Path | None, display: ConsoleDisplay) -> Voice:
    if wav is not None:
        return PlayerVoice.open(clock, "wav", wav, on_notice=lambda m: display.show(m, "warn"))
    if no_audio:
        return SilentVoice()
    return PlayerVoice.open(clock, "speaker", on_notice=lambda m: display.show(m, "warn"))


async def run_with_player(
    start: Callable[[], Awaitable[SessionResult]], voice: Voice, sources: SourceProvider
) -> SessionResult:
    """Run the session while the audio player pumps on its own (cues land on time between batches)."""
    player = getattr(voice, "player", None)
    stop = asyncio.Event()
    pumping = asyncio.create_task(player.run(stop)) if player is not None else None
    try:
        connect = getattr(sources, "connect", None)
        if connect is not None:
            console.print(f"connecting to {sources.name} ...")
            await connect()
        result = await start()
    finally:
        stop.set()
        if pumping is not None:
            await pumping
        close = getattr(sources, "close", None)
        if close is not None:
            await close()
    return result


def run(
    protocol: Annotated[str, typer.Argument(help="Protocol id, name or .toml file (see `protocols list`).")],
    device: Annotated[str | None, typer.Option(help="Sensor name or address to stream from.")] = None,
    simulate: Annotated[bool, typer.Option(help="A simulated lifter performs each set.")] = False,
    week: Annotated[int, typer.Option(help="Week of a multi-week program.")] = 1,
    load: Annotated[str | None, typer.Option(help="Load for every set: 70%, 100kg, RPE8@5.")] = None,
    one_rm: Annotated[str | None, typer.Option(help="Your 1RM (140kg, 300lb) for loads in weight.")] = None,
    speed: Annotated[float, typer.Option(help="N times real time (--simulate, emulated devices).")] = 1.0,
    no_audio: Annotated[bool, typer.Option(help="No sound; cues on screen only.")] = False,
    wav: Annotated[Path | None, typer.Option(help="Write the session's audio to this WAV file.")] = None,
    fresh: Annotated[bool, typer.Option(help="Start over; do not resume an unfinished session.")] = False,
    rating_timeout: Annotated[float, typer.Option(help="Seconds to wait for a connection rating.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Simulated lifter's seed.")] = 1,
    logbook: Annotated[Path | None, typer.Option(help="Logbook file (default: the user's).")] = None,
) -> None:
    """Run PROTOCOL set by set with live coaching; keys: p pause, s skip, q quit, 1/2/3 rate."""
    chosen = find_protocol(protocol)
    check_week(chosen, week)
    if speed != 1.0 and not (simulate or (device or "").startswith("emulated:")):
        raise TempoCoachError("run: --speed only works with --simulate or an emulated:<family> device")
    if load is not None:
        try:
            Load.parse(load)
        except ValueError as exc:
            raise TempoCoachError(f"--load: {exc}") from None
    one_rm_kg = parse_mass_kg(one_rm, "--one-rm") if one_rm is not None else None
    clock = RealClock(speed)
    display = ConsoleDisplay(console)
    sources = _sources(device, simulate, clock, seed)
    voice = _voice(clock, no_audio, wav, display)
    config = UserConfig.load()
    latency_s = config.output_latency_s if isinstance(voice, PlayerVoice) else 0.0
    options = SessionOptions(week=week, load=load, one_rm_kg=one_rm_kg, device=device or "simulator",
                             resume=not fresh, rating_timeout_s=rating_timeout, output_latency_s=latency_s,
                             speech_rate_wpm=config.speech_rate_wpm)
    with Logbook(logbook) as book, terminal_keys_or_none() as keys:
        parts = SessionParts(clock, keys, sources, book, voice, display)
        try:
            start = lambda: run_session(chosen, parts, options)  # noqa: E731 - created inside the loop
            session = asyncio.run(run_with_player(start, voice, sources))
        finally:
            voice.close()
        rows = book.sets(session_id=session.session_id)
    _print_sets(rows, f"Session {session.session_id}: {chosen.name} ({session.status})")
    if wav is not None:
        console.print(f"audio written to {wav}")


def _print_sets(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    numeric = ("#", "reps", "adherence", "TUT s")
    for column in ("#", "date", "exercise", "kind", "tempo", "load", "reps", "adherence", "TUT s", "rating",
                   "end"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for row in rows:
        adherence = f"{100 * row['adherence']:.0f}%" if row["adherence"] is not None else "-"
        if row["target_duration_s"]:  # a hold: seconds held of seconds asked
            reps = f"{row['duration_s']:.0f}/{row['target_duration_s']:g}s"
        else:
            reps = f"{row['reps_done']}/{row['target_reps'] or '-'}"
        table.add_row(
            str(row["position"] + 1), str(row["started_at"])[:16].replace("T", " "), row["exercise"],
            row["kind"], row["tempo"] or "-", row["load"] or "-", reps, adherence,
            f"{row['time_under_tension_s']:.1f}", row["rating"] or "-", row["outcome"],
        )
    console.print(table)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise TempoCoachError(f"--since '{text}': use a date like 2026-11-01") from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def write_trend_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Adherence and time under tension per set over time, one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    when = [datetime.fromisoformat(r["started_at"]) for r in rows]
    adherence = [100 * r["adherence"] if r["adherence"] is not None else float("nan") for r in rows]
    tut = [r["time_under_tension_s"] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
    top.plot(when, adherence, "o-", color="tab:blue", markersize=3)
    top.set_ylabel("tempo adherence %")
    top.set_ylim(0, 105)
    bottom.plot(when, tut, "o-", color="tab:orange", markersize=3)
    bottom.set_ylabel("time under tension s")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def history(
    exercise: Annotated[str | None, typer.Option(help="Only this exercise (id or name).")] = None,
    since: Annotated[str | None, typer.Option(help="Only sets on or after this date (YYYY-MM-DD).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Where to write the trend PNG.")] = None,
    logbook: Annotated[Path | None, typer.Option(help="Logbook file (default: the user's).")] = None,
) -> None:
    """Show logged sets and write a trend plot of adherence and time under tension."""
    exercise_id = None
    if exercise is not None:
        from tempocoach.exercises import get_exercise

        exercise_id = get_exercise(exercise).id
    with Logbook(logbook) as book:
        rows = book.sets(exercise=exercise_id, since=_since(since))
    if not rows:
        console.print("no sets logged yet" + (" for that filter" if exercise or since else ""))
        return
    _print_sets(rows, f"History: {len(rows)} sets")
    path = write_trend_plot(rows, plot or data_dir() / "history-trend.png")
    console.print(f"trend plot written to {path}")


def _export_rows(book: Logbook, as_json: bool) -> list[dict[str, Any]]:
    rows = book.sets()
    if as_json:
        for row in rows:
            row["reps"] = book.reps(row["id"])
            report = book.report_json(row["id"])
            row["report"] = json.loads(report) if report else None
    return rows


def export(
    format: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
    logbook: Annotated[Path | None, typer.Option(help="Logbook file (default: the user's).")] = None,
) -> None:
    """Export every logged set (csv: one row per set; json: with reps, phases and reports)."""
    if format not in ("csv", "json"):
        raise TempoCoachError(f"export --format '{format}': use csv or json")
    with Logbook(logbook) as book:
        rows = _export_rows(book, format == "json")
    if format == "json":
        text = json.dumps(rows, indent=2)
    else:
        buf = io.StringIO()
        columns = list(rows[0]) if rows else ["id"]
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"{len(rows)} sets written to {out}")


@protocols_app.command("list")
def protocols_list() -> None:
    """Shipped and user protocols side by side."""
    table = Table(title="Protocols")
    for column in ("id", "from", "name", "sets", "weeks", "description"):
        table.add_column(column)
    for entry in list_protocols():
        p = entry.protocol
        if p is None:
            table.add_row(entry.id, entry.origin, "[red]invalid[/red]", "", "", str(entry.error))
            continue
        weeks = str(p.total_weeks) if p.weeks else "-"
        table.add_row(entry.id, entry.origin, p.name, str(len(p.planned_sets())), weeks, p.description)
    console.print(table)


def _show(p: Protocol) -> None:
    console.print(f"[bold]{p.name}[/bold] ({p.id})\n{p.description}")
    if not p.weeks:
        for line in describe(p.planned_sets()):
            console.print(line, markup=False)
        return
    week = 1
    for stage in p.weeks:
        span = f"week {week}" if stage.repeat == 1 else f"weeks {week}-{week + stage.repeat - 1}"
        console.print(f"\n[bold]{stage.name}[/bold] ({span}) {stage.notes}")
        for line in describe(p.planned_sets(week)):
            console.print(line, markup=False)
        week += stage.repeat


@protocols_app.command("show")
def protocols_show(name: Annotated[str, typer.Argument(help="Protocol id, name or file.")]) -> None:
    """Every set of a protocol (every stage of a program)."""
    _show(find_protocol(name))


@protocols_app.command("check")
def protocols_check(file: Annotated[Path, typer.Argument(help="A protocol .toml file.")]) -> None:
    """Validate a protocol file; errors name the field and what is allowed."""
    p = load_protocol_file(file)
    sets = sum(len(p.planned_sets(w)) for w in range(1, p.total_weeks + 1))
    console.print(f"{file}: ok ({p.name}, {sets} sets over {p.total_weeks} week(s))", markup=False)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("history")(history)
    app.command("export")(export)
    app.add_typer(protocols_app, name="protocols")
