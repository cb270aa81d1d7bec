"""Run a protocol end to end: announce, coach, judge, ask, log, rest, next set; resume after a crash.

The session is wired from small parts (SessionParts): a clock, a key source, a per-set sample source,
the motion pipeline and live coach factories, a voice, a display and the logbook. Each finished set
is written to the logbook in one transaction before the rest starts, so a crash or quit loses at most
the set in progress, and the next run of the same protocol and week resumes at the first set not
logged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tempocoach.errors import AudioError
from tempocoach.events import Rep, SetRecord
from tempocoach.exercises import get_exercise
from tempocoach.logbook import Logbook, SetResult
from tempocoach.plan import Load, PlannedSet
from tempocoach.plan import Protocol as TrainingProtocol
from tempocoach.rest import (
    KEY_PAUSE,
    KEY_QUIT,
    KEY_SKIP,
    RATING_KEYS,
    Clock,
    KeySource,
    countdown,
    rest_timer,
)
from tempocoach.session_io import Display, ListDisplay, SilentVoice, Voice
from tempocoach.session_runner import (
    Coach,
    Pipeline,
    SetLimits,
    SetRun,
    SetStream,
    SourceProvider,
    cue_text,
    run_rep_set,
    run_timed_set,
)
from tempocoach.session_words import announcement, focus_line, focus_plan_for, hold_summary
from tempocoach.tempo import parse_tempo

PipelineFactory = Callable[[PlannedSet], Pipeline]
CoachFactory = Callable[[PlannedSet], Coach | None]


def motion_pipeline(planned: PlannedSet) -> Pipeline:
    from tempocoach.motion.pipeline import MotionPipeline

    plan = planned.plan
    pipeline: Pipeline = MotionPipeline(get_exercise(plan.exercise), parse_tempo(plan.tempo or "2010"),
                                        plan.placement_for())
    return pipeline


def no_coach(planned: PlannedSet) -> Coach | None:
    """No live cues: the session itself counts each finished rep."""
    return None


@dataclass
class SessionParts:
    clock: Clock
    keys: KeySource
    sources: SourceProvider
    logbook: Logbook
    voice: Voice = field(default_factory=SilentVoice)
    display: Display = field(default_factory=ListDisplay)
    make_pipeline: PipelineFactory = motion_pipeline
    make_coach: CoachFactory | None = None  # None: tempocoach.coach.live.LiveCoach with the set's focus


@dataclass(frozen=True)
class SessionOptions:
    week: int = 1
    load: str | None = None  # overrides every set's load
    one_rm_kg: float | None = None  # turns a load in kg into %1RM
    output_latency_s: float = 0.0  # the coach releases cues this early (the player pays it too)
    speech_rate_wpm: float = 170.0  # the coach's estimate of how long a phrase takes
    device: str = ""
    countdown_s: int = 3
    rating_timeout_s: float = 10.0
    resume: bool = True
    keep_samples: bool = True
    limits: SetLimits = field(default_factory=SetLimits)


@dataclass(frozen=True)
class LoggedSet:
    """What the session saw of a set it logged (tests compare it with the logbook)."""

    position: int
    set_id: int
    outcome: str
    reps: tuple[Rep, ...]
    rating: str | None
    moved_s: float | None
    reconnects: int
    dropped_batches: int


@dataclass
class SessionResult:
    session_id: int
    status: str  # complete | quit
    sets: list[LoggedSet] = field(default_factory=list)
    resumed_at: int | None = None
    transcript: list[tuple[float, str]] = field(default_factory=list)

    @property
    def set_ids(self) -> list[int]:
        return [s.set_id for s in self.sets]


def _set_duration_s(run: SetRun) -> float:
    """First rep's start to last rep's end (a hold: how long it was held)."""
    if run.reps:
        return run.reps[-1].end_s - run.reps[0].start_s
    return run.hold_s


class SessionRunner:
    def __init__(self, protocol: TrainingProtocol, parts: SessionParts, options: SessionOptions) -> None:
        self.protocol, self.parts, self.options = protocol, parts, options
        self.planned = protocol.planned_sets(options.week)
        self.transcript: list[tuple[float, str]] = []
        self._wall_origin = datetime.now(UTC)
        self._clock_origin = parts.clock.now()
        self._audio_ok = True
        self._quit = False

    # --- output ------------------------------------------------------------------------------------
    def wall_time(self) -> datetime:
        """Wall time as the session's clock sees it (a virtual clock gives a virtual date)."""
        return self._wall_origin + timedelta(seconds=self.parts.clock.now() - self._clock_origin)

    def say(self, text: str, at_s: float | None = None) -> None:
        """Say something now (or at session-clock time at_s) and show it."""
        when_s = self.parts.clock.now() if at_s is None else at_s
        self.transcript.append((when_s, text))
        self.parts.display.show(text, "say")
        self._voice(lambda voice: voice.say(text, when_s))

    async def until_said(self) -> None:
        """Wait (on the session clock) until the voice has finished what it was given."""
        try:
            left_s = self.parts.voice.busy_until() - self.parts.clock.now()
        except AudioError:
            return
        if left_s > 0:
            await self.parts.clock.sleep(left_s)

    def _voice(self, act: Callable[[Voice], None]) -> None:
        if not self._audio_ok:
            return
        try:
            act(self.parts.voice)
        except AudioError as exc:
            self._audio_ok = False
            self.parts.display.show(f"audio off for this session ({exc}); cues continue on screen", "warn")

    # --- keys --------------------------------------------------------------------------------------
    async def _rest_key(self, key: str) -> bool:
        if key == KEY_QUIT:
            self._quit = True
            return True
        if key == KEY_SKIP:
            self.say("Rest skipped")
            return True
        if key == KEY_PAUSE:
            self.say("Paused. Press p to continue.")
            while (next_key := self.parts.keys.poll()) != KEY_PAUSE:
                if next_key in (KEY_SKIP, KEY_QUIT):
                    return await self._rest_key(next_key)
                await self.parts.clock.sleep(self.options.limits.pause_poll_s)
            self.say("Continue")
        return False

    async def ask_rating(self) -> str | None:
        """Connection quality by key (1 strong, 2 moderate, 3 weak); None on timeout or Enter."""
        self.say("Connection? 1 strong, 2 moderate, 3 weak.")
        await self.until_said()
        clock = self.parts.clock
        deadline = clock.now() + self.options.rating_timeout_s
        while clock.now() < deadline:
            key = self.parts.keys.poll()
            if key in RATING_KEYS:
                self.say(RATING_KEYS[key].capitalize())
                return RATING_KEYS[key]
            if key in ("\n", "\r", KEY_SKIP):
                return None
            if key == KEY_QUIT:
                self._quit = True
                return None
            await clock.sleep(0.1)
        return None

    # --- one set -----------------------------------------------------------------------------------
    def _load_text(self, planned: PlannedSet) -> str | None:
        if self.options.load is not None:
            return self.options.load
        return planned.plan.load.text if planned.plan.load is not None else None

    def _load_percent(self, planned: PlannedSet) -> float | None:
        """%1RM for the focus policy; a weight needs the lifter's --one-rm, else it is unknown."""
        text = self._load_text(planned)
        if not text:
            return None
        try:
            return Load.parse(text).estimate_percent_1rm(self.options.one_rm_kg)
        except ValueError:
            return None

    async def perform_set(self, planned: PlannedSet) -> SetRun:
        parts, plan = self.parts, planned.plan
        run = SetRun()
        stream = SetStream(parts.sources, planned, parts.clock, self.options.limits, run)
        speaker = _SetSpeaker(self, run)
        if plan.is_timed:
            self.say("Get into position.")
            await self.until_said()
            await countdown(parts.clock, self.say, self.options.countdown_s)
            return await run_timed_set(planned, stream, run, parts.keys, parts.clock, self.options.limits,
                                       speaker)
        pipeline, coach = parts.make_pipeline(planned), self._coach(planned)
        self._voice(lambda voice: voice.prepare(self._phrases(planned)))
        await self.until_said()
        await countdown(parts.clock, self.say, self.options.countdown_s)
        return await run_rep_set(planned, stream, run, pipeline, coach, parts.keys, parts.clock,
                                 self.options.limits, speaker)

    def _coach(self, planned: PlannedSet) -> Coach | None:
        if self.parts.make_coach is not None:
            return self.parts.make_coach(planned)
        from tempocoach.coach.live import CoachSettings, LiveCoach

        plan = planned.plan
        focus = focus_plan_for(planned, self._load_percent(planned))
        settings = CoachSettings(output_latency_s=self.options.output_latency_s,
                                 speech_rate_wpm=self.options.speech_rate_wpm)
        return LiveCoach(plan.exercise, plan.tempo or "2010", focus, settings=settings,
                         planned_reps=plan.reps)

    def _phrases(self, planned: PlannedSet) -> set[str]:
        """What the coach may say in this set, so the voice can render it before the first rep."""
        if self.parts.make_coach is not None or planned.plan.is_timed:
            return set()
        from tempocoach.coach.live import phrases_for_set

        plan = planned.plan
        focus = focus_plan_for(planned, self._load_percent(planned))
        return phrases_for_set(plan.exercise, plan.tempo or "2010", focus, planned_reps=plan.reps)

    def _report(self, planned: PlannedSet, run: SetRun) -> tuple[str, str, float | None, float]:
        """(spoken summary, report JSON, adherence, time under tension s) for a finished set."""
        plan = planned.plan
        if plan.is_timed:
            summary = hold_summary(run, float(plan.duration_s or 0))
            data: dict[str, Any] = {"kind": plan.kind, "exercise": plan.exercise, "target_s": plan.duration_s,
                                    "held_s": round(run.hold_s, 3), "moved_s": round(run.moved_s or 0.0, 3),
                                    "summary": {"time_under_tension": round(run.hold_s, 3)}}
            return summary, json.dumps(data), None, run.hold_s
        from tempocoach.coach.report import build_report

        record = SetRecord(plan.exercise, plan.tempo or "", plan.placement_for(), run.reps, run.events,
                           None, run.transcript, self.parts.sources.name)
        if not run.reps:
            empty = {"reps": [], "summary": {"reps": 0}}
            return "No reps detected in that set.", json.dumps(empty), None, 0.0
        from tempocoach.coach.spoken import post_set_summary

        report = build_report(record)
        show_report = getattr(self.parts.display, "report", None)  # a terminal draws the table
        if show_report is not None:
            show_report(report)
        else:
            self.parts.display.show(report.summary_text, "info")
        return (post_set_summary(report), json.dumps(report.to_json()), report.summary.adherence,
                report.summary.time_under_tension_s)

    async def finish_set(
        self, session_id: int, planned: PlannedSet, run: SetRun, started: datetime
    ) -> LoggedSet:
        summary, report_json, adherence, tut_s = self._report(planned, run)
        if run.outcome != "skipped":
            self.say(summary)
        rating = await self.ask_rating() if run.outcome != "skipped" else None
        plan = planned.plan
        result = SetResult(
            position=planned.position, block=planned.block, exercise=plan.exercise, kind=plan.kind,
            started_at=started, ended_at=self.wall_time(), outcome=run.outcome, tempo=plan.tempo,
            load=self._load_text(planned), focus=plan.focus, target_reps=plan.reps,
            target_duration_s=plan.duration_s, reps=run.reps,
            duration_s=_set_duration_s(run), time_under_tension_s=tut_s,
            adherence=adherence, rating=rating, moved_s=run.moved_s, report_json=report_json,
            samples=run.samples if self.options.keep_samples and run.batches else None,
        )
        set_id = self.parts.logbook.record_set(session_id, result)
        return LoggedSet(planned.position, set_id, run.outcome, tuple(run.reps), rating, run.moved_s,
                         run.reconnects, run.dropped_batches)

    # --- the session -------------------------------------------------------------------------------
    def _open_session(self) -> tuple[int, set[int]]:
        book, opts = self.parts.logbook, self.options
        session_id = book.open_session(self.protocol.id, opts.week)
        if session_id is not None and not opts.resume:
            book.finish_session(session_id, "abandoned")  # starting over: the old one will not resume
            session_id = None
        if session_id is None:
            session_id = book.start_session(
                self.protocol.id, self.protocol.name, len(self.planned), opts.week, opts.device,
                self.parts.sources.name, self.wall_time())
            return session_id, set()
        return session_id, book.logged_positions(session_id)

    async def run(self) -> SessionResult:
        session_id, logged = self._open_session()
        todo = [p for p in self.planned if p.position not in logged]
        result = SessionResult(session_id, "quit", transcript=self.transcript)
        if logged and todo:
            result.resumed_at = todo[0].position
            self.say(f"Welcome back. Resuming at set {todo[0].position + 1} of {len(self.planned)}.")
        else:
            count = len(self.planned)
            self.say(f"{self.protocol.name}. {count} {'set' if count == 1 else 'sets'}.")
        for i, planned in enumerate(todo):
            self.parts.logbook.mark_current(session_id, planned.position)
            self.say(announcement(planned, len(self.planned), self._load_text(planned)))
            self.say(focus_line(planned, self._load_percent(planned)))
            started = self.wall_time()
            run = await self.perform_set(planned)
            if run.outcome == "quit":
                break  # the unfinished set is not logged: the next run starts it again
            result.sets.append(await self.finish_set(session_id, planned, run, started))
            if self._quit:
                break
            if i + 1 < len(todo) and planned.plan.rest_s > 0:
                await rest_timer(self.parts.clock, self.say, self.parts.keys, planned.plan.rest_s,
                                 self._rest_key)
                if self._quit:
                    break
                self.say(f"Next: {get_exercise(todo[i + 1].plan.exercise).name}.")
        else:
            self.parts.logbook.finish_session(session_id, "complete")
            result.status = "complete"
            self.say("Session complete. Well done.")
            await self.until_said()
            return result
        self.parts.logbook.mark_current(session_id, None)
        self.say("Stopped. Run the same protocol again to resume.")
        await self.until_said()
        return result


class _SetSpeaker:
    """Speech in a set: sample-clock times go to the set's transcript, session-clock ones to the voice."""

    def __init__(self, runner: SessionRunner, run: SetRun) -> None:
        self._runner, self._run = runner, run

    def _shift_s(self) -> float:
        return self._run.clock_offset_s or 0.0

    def say(self, text: str, at_s: float | None = None) -> None:
        if at_s is None:
            self._runner.say(text)
            return
        self._run.transcript.append((at_s, text))
        self._runner.say(text, at_s + self._shift_s())

    def cue(self, cue: Any) -> None:
        text = cue_text(cue)
        at_s = float(getattr(cue, "at_s", 0.0))
        self._run.transcript.append((at_s, text))
        self._runner.transcript.append((at_s + self._shift_s(), text))
        self._runner.parts.display.show(text, "say")
        self._runner._voice(lambda voice: voice.cue(cue, self._shift_s()))

    def pump(self) -> None:
        self._runner._voice(lambda voice: voice.pump())


async def run_session(
    protocol: TrainingProtocol, parts: SessionParts, options: SessionOptions | None = None
) -> SessionResult:
    """Run (or resume) `protocol` with the given parts; see SessionRunner."""
    return await SessionRunner(protocol, parts, options or SessionOptions()).run()
