"""`tempocoach demo`: a coached set with no hardware, end to end.

A simulated lifter is served as a real BLE sensor (the emulated Polar by default) and read through the
unmodified bleak client; the same session runner as `tempocoach run` coaches the set aloud; the screen
shows what the detector sees as it happens; the adherence table and the figure close it. The demo keeps
its own throwaway logbook, so it never shows up in the user's history.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.text import Text

from tempocoach.coach.report import build_report
from tempocoach.coach.report_render import render_figure
from tempocoach.commands.analysis import write_output
from tempocoach.commands.training import run_with_player
from tempocoach.config import UserConfig
from tempocoach.errors import TempoCoachError
from tempocoach.events import MotionFrame, Phase, PhaseEvent, PhaseSpan, Rep, SetRecord
from tempocoach.exercises import get_exercise
from tempocoach.logbook import Logbook
from tempocoach.motion.pipeline import MotionPipeline
from tempocoach.plan import Load, PlannedSet, parse_protocol
from tempocoach.rest import RealClock, terminal_keys_or_none
from tempocoach.sensors.base import ImuBatch
from tempocoach.session import SessionOptions, SessionParts, run_session
from tempocoach.session_io import ConsoleDisplay, PlayerVoice, SilentVoice, Voice
from tempocoach.session_runner import Pipeline, SourceProvider
from tempocoach.session_sources import EmulatedSources, SimulatedSources
from tempocoach.tempo import TempoCode, parse_tempo

PHASE_WORDS = {
    Phase.ECCENTRIC: "eccentric",
    Phase.BOTTOM_PAUSE: "bottom pause",
    Phase.CONCENTRIC: "concentric",
    Phase.TOP_PAUSE: "top pause",
}


class DetectorView:
    """What the detector sees, on screen: each phase as it is detected, and (on a terminal) a live line
    with the rep, the phase and its seconds against the target."""

    def __init__(self, console: Console, tempo: TempoCode, planned_reps: int) -> None:
        self.console, self.tempo, self.planned_reps = console, tempo, planned_reps
        self._live: Live | None = None
        self._current: tuple[int, Phase, float] | None = None

    def start(self) -> None:
        if self.console.is_terminal:
            self._live = Live(Text(""), console=self.console, refresh_per_second=8, transient=True)
            self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _target(self, phase: Phase) -> str:
        target = self.tempo.target_s(phase)
        return "as fast as you can" if target is None else f"{target:g} s"

    def event(self, event: PhaseEvent) -> None:
        late_ms = 1000 * (event.detected_s - event.start_s)
        if event.kind == "phase" and event.phase is not None:
            # The same phase of the same rep again: what came before was not that rep (a walk-out
            # dip, a false start) and the detector starts it over from here.
            again = self._current is not None and self._current[:2] == (event.rep_index, event.phase)
            self._current = (event.rep_index, event.phase, event.start_s)
            began = "began again" if again else "began"
            # A pause's start is extrapolated to where the settling movement comes to rest, which
            # may still lie ahead when the detector calls it.
            timing = (f"seen {late_ms:.0f} ms after it {began}" if late_ms >= 0
                      else f"called {-late_ms:.0f} ms before it {began}, as the bar settled")
            self.console.print(
                Text(f"  detector: rep {event.rep_index} {PHASE_WORDS[event.phase]} "
                     f"(target {self._target(event.phase)}), {timing}", style="dim")
            )
        elif event.kind == "rep" and event.rep is not None:
            parts = ", ".join(f"{PHASE_WORDS[p.phase]} {p.duration_s:.1f} s" for p in event.rep.phases
                              if p.duration_s > 0.05)
            self.console.print(Text(f"  detector: rep {event.rep_index} done: {parts}", style="green"))

    def tick(self, now_s: float) -> None:
        if self._live is None or self._current is None:
            return
        rep, phase, since_s = self._current
        line = (f"rep {rep}/{self.planned_reps} · {PHASE_WORDS[phase]} "
                f"{max(0.0, now_s - since_s):4.1f} s / {self._target(phase)}")
        self._live.update(Text(line, style="bold magenta"))


class WatchedPipeline:
    """The motion pipeline with the view looking over its shoulder."""

    def __init__(self, inner: MotionPipeline, view: DetectorView) -> None:
        self.inner, self.view = inner, view

    def update(self, batch: ImuBatch) -> list[PhaseEvent]:
        events = self.inner.update(batch)
        for event in events:
            self.view.event(event)
        self.view.tick(float(batch.t_s[-1]))
        return events

    def finish(self) -> list[PhaseEvent]:
        events = self.inner.finish()
        for event in events:
            self.view.event(event)
        return events

    @property
    def reps(self) -> list[Any]:
        return self.inner.reps

    def refined(self) -> tuple[list[Rep], MotionFrame]:
        return self.inner.refined()


def shift_record(record: SetRecord, by_s: float) -> SetRecord:
    """The same set on a clock moved by by_s seconds."""
    reps = [Rep(r.index, tuple(PhaseSpan(p.phase, p.start_s + by_s, p.end_s + by_s) for p in r.phases),
                r.range_of_motion) for r in record.reps]
    motion = record.motion
    if motion is not None:
        motion = replace(motion, t_s=motion.t_s + by_s)
    return SetRecord(record.exercise, record.tempo, record.placement, reps=reps, motion=motion,
                     source=record.source)


def demo_protocol(exercise: str, tempo: TempoCode, reps: int, load: str) -> Any:
    """A one-set protocol for the demo, validated like any protocol file."""
    text = (
        'name = "Demo"\ndescription = "One coached set with a simulated lifter."\n'
        '[[blocks]]\nname = "Demo"\n[[blocks.sets]]\n'
        f'exercise = "{exercise}"\ntempo = "{tempo}"\nreps = {reps}\nload = "{load}"\nrest_s = 0\n'
    )
    return parse_protocol(text, "demo", "demo")


def demo(
    exercise: Annotated[str, typer.Option("--exercise", "-e", help="Exercise id or alias")] = "back-squat",
    tempo: Annotated[str, typer.Option("--tempo", "-t", help="Tempo code")] = "31X0",
    reps: Annotated[int, typer.Option(help="Reps in the set", min=1, max=30)] = 5,
    load: Annotated[str, typer.Option(help="Load: 70%, RPE8@5 (sets the focus of the cues)")] = "75%",
    speed: Annotated[float, typer.Option(help="N times real time")] = 1.0,
    device: Annotated[str, typer.Option(help="emulated:<family> (polar, witmotion, movesense, metawear, "
                                              "thingy, open) or 'simulator' (no BLE)")] = "emulated:polar",
    no_audio: Annotated[bool, typer.Option("--no-audio", help="Write the audio to a WAV instead")] = False,
    wav: Annotated[Path | None, typer.Option(help="Write the coach's audio to this WAV file")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the figure (and the WAV with --no-audio)")] = Path(
        "tempocoach-demo"),
    seed: Annotated[int, typer.Option(help="The simulated lifter's seed")] = 7,
) -> None:
    """Watch and hear a coached set: a simulated lifter on an emulated BLE sensor, no hardware needed."""
    code = parse_tempo(tempo)
    lift = get_exercise(exercise)
    if speed <= 0:
        raise TempoCoachError(f"--speed {speed:g}: must be above 0")
    try:
        Load.parse(load)
    except ValueError as exc:
        raise TempoCoachError(f"--load: {exc}") from None
    protocol = demo_protocol(lift.id, code, reps, load)
    console = Console(highlight=False)
    display = ConsoleDisplay(console)
    clock = RealClock(speed)
    sources: SourceProvider = (SimulatedSources(clock, seed=seed) if device == "simulator"
                               else EmulatedSources(device, clock, speed, seed))
    wav_path = wav or out / "demo.wav"
    voice: Voice
    if no_audio or wav is not None:
        voice = PlayerVoice.open(clock, "wav", wav_path, on_notice=lambda m: display.show(m, "warn"))
    else:
        voice = PlayerVoice.open(clock, "speaker", on_notice=lambda m: display.show(m, "warn"))
    view = DetectorView(console, code, reps)

    watched: list[WatchedPipeline] = []

    def make_pipeline(planned: PlannedSet) -> Pipeline:
        plan = planned.plan
        inner = MotionPipeline(get_exercise(plan.exercise), parse_tempo(plan.tempo or str(code)),
                               plan.placement_for())
        watched.append(WatchedPipeline(inner, view))
        return watched[-1]

    config = UserConfig.load()
    latency_s = config.output_latency_s if isinstance(voice, PlayerVoice) else 0.0
    options = SessionOptions(device=device, resume=False, rating_timeout_s=0.0, output_latency_s=latency_s,
                             speech_rate_wpm=config.speech_rate_wpm)
    console.rule(f"[bold]tempocoach demo[/bold] · {lift.name} · tempo {code} · {reps} reps · {load}")
    console.print(f"sensor: {device} (simulated lifter, read through bleak)" if device != "simulator"
                  else "sensor: simulator (no BLE)")
    with tempfile.TemporaryDirectory(prefix="tempocoach-demo-") as scratch, \
            Logbook(Path(scratch) / "demo.sqlite3") as book, terminal_keys_or_none() as keys:
        parts = SessionParts(clock, keys, sources, book, voice, display, make_pipeline=make_pipeline)
        start: Callable[[], Any] = lambda: run_session(protocol, parts, options)  # noqa: E731
        view.start()
        try:
            result = asyncio.run(run_with_player(start, voice, sources))
        finally:
            view.stop()
            voice.close()
    if not result.set_ids or not watched or not len(watched[-1].inner.motion()):
        raise TempoCoachError("demo: the set recorded no samples; try --device simulator")
    # The figure shows the post-set report's view (the refined set, as the logbook has it), on a clock
    # that starts at zero (a Polar sensor counts nanoseconds since 2000).
    refined_reps, refined_motion = watched[-1].inner.refined()
    record = SetRecord(lift.id, str(code), lift.default_placement(), reps=refined_reps, motion=refined_motion,
                       source="demo")
    figure = out / "demo.png"
    shifted = shift_record(record, -float(record.motion.t_s[0])) if record.motion is not None else record
    write_output(figure, render_figure(build_report(shifted), shifted), "the demo figure")
    console.print(f"figure of the set written to [bold]{figure}[/bold]")
    if no_audio or wav is not None:
        console.print(f"the coach's audio was written to [bold]{wav_path}[/bold]")
    if isinstance(voice, SilentVoice):
        console.print("(no audio)")


def register(app: typer.Typer) -> None:
    app.command()(demo)
