"""`tempocoach cues`: which focus the coach picks for each phase, why, and the words it would use."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tempocoach.coach.cues import Deviation, cue_library
from tempocoach.coach.focus import FocusSettings, decide_focus
from tempocoach.coach.live import CoachMode, phrases_for_set
from tempocoach.coach.load import LOAD_FORMS, Load, parse_load
from tempocoach.coach.spoken import spoken_tempo
from tempocoach.errors import TempoCoachError
from tempocoach.events import Phase
from tempocoach.exercises import get_exercise
from tempocoach.tempo import parse_tempo


def cues(
    exercise: Annotated[str, typer.Argument(help="Exercise name or alias, e.g. back-squat, bench, curl.")],
    load: Annotated[str | None, typer.Option("--load", help=f"How heavy: {LOAD_FORMS}.")] = None,
    one_rm: Annotated[str | None, typer.Option("--one-rm", help="Your 1RM, e.g. 140kg or 300lb.")] = None,
    recent: Annotated[
        str | None, typer.Option("--recent", help="A recent set to estimate 1RM from, e.g. '120kg x5'.")
    ] = None,
    experience: Annotated[
        str, typer.Option("--experience", help="beginner, intermediate or advanced.")
    ] = "intermediate",
    tempo: Annotated[str, typer.Option("--tempo", help="Tempo code, e.g. 31X0.")] = "31X0",
    mode: Annotated[str, typer.Option("--mode", help="voice, tones, voice+tones or quiet.")] = "voice",
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show the rules, the corrections and every phrase.")
    ] = False,
) -> None:
    """Show the focus (internal or external) per phase and the cues the coach would say."""
    ex = get_exercise(exercise)
    code = parse_tempo(tempo)
    try:
        coach_mode = CoachMode(mode)
    except ValueError:
        raise TempoCoachError(
            f"mode '{mode}' not understood; use {', '.join(m.value for m in CoachMode)}"
        ) from None
    parsed: Load | None = parse_load(load, one_rm=one_rm, recent_set=recent) if load else None
    plan = decide_focus(parsed, ex, experience)
    library = cue_library()
    calls = library.calls_for(ex)
    console = Console(highlight=False)
    load_line = parsed.derivation if parsed else "no load given: treated as moderate"
    console.print(f"[bold]{ex.name}[/bold], tempo {code} ({spoken_tempo(code)}), {plan.experience.value}")
    console.print(f"load: {load_line}")
    table = Table(show_edge=False)
    for column in ("phase", "target", "call", "focus", "cue"):
        table.add_column(column)
    for phase in ex.phase_order:
        target_s = code.target_s(phase)
        focus = plan.for_phase(phase)
        row = [
            phase.value,
            "X" if target_s is None else f"{target_s:g} s",
            "-" if target_s == 0 else calls.call(phase, target_s is None),
            focus.kind.value,
            " / ".join(library.focus_cues(ex, focus.kind, phase)),
        ]
        table.add_row(*row)
    console.print(table)
    console.print("\n[bold]Why[/bold]:")
    for phase in ex.phase_order:
        focus = plan.for_phase(phase)
        console.print(f"  {phase.value}: {focus.kind.value}, {focus.reason}")
    if explain:
        rules = FocusSettings()
        light, heavy = f"{rules.internal_max_percent:g}%", f"{rules.external_min_percent:g}%"
        console.print(
            f"\n[bold]Rules[/bold]: <= {light} 1RM internal; between, internal on the eccentric and pauses "
            f"and external on the concentric; >= {heavy} external. Isolation lifts move one band towards "
            "internal; beginners on compounds get external cues."
        )
        console.print("\n[bold]Corrections[/bold] (one per rep at most, aimed at the next rep):")
        for phase in Phase:
            for deviation in _deviations(phase):
                console.print(f"  {phase.value} {deviation}: {library.correction(ex, phase, deviation)}")
        phrases = sorted(phrases_for_set(ex, code, plan, coach_mode))
        console.print(f"\n[bold]Phrases to pre-render[/bold] ({coach_mode.value}, {len(phrases)}):")
        console.print("  " + "; ".join(phrases))


def _deviations(phase: Phase) -> tuple[Deviation, Deviation]:
    return ("short", "long") if phase in (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE) else ("fast", "slow")


def register(app: typer.Typer) -> None:
    app.command("cues")(cues)
