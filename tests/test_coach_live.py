"""The live coach on a virtual clock, driven by synthetic PhaseEvents from a lifter with known timing."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field

import pytest

from tempocoach.coach.focus import decide_focus
from tempocoach.coach.live import CoachMode, CoachSettings, Cue, LiveCoach, phrases_for_set
from tempocoach.coach.schedule import CueScheduler
from tempocoach.events import Phase, PhaseEvent, PhaseSpan, Rep
from tempocoach.exercises import get_exercise
from tempocoach.tempo import parse_tempo

TICK_S = 0.02  # a BLE batch every 20 ms


@dataclass
class Lifter:
    """A synthetic set: phase durations per rep, and how late the detector reports each phase."""

    exercise: str
    tempo: str
    reps: int
    delay_s: float = 0.1
    start_s: float = 2.0
    jitter_s: float = 0.0
    explosive_s: float = 0.5
    rest_at_top_s: float = 0.0
    off_target_s: dict[tuple[int, Phase], float] = field(default_factory=dict)
    seed: int = 1

    def events(self) -> tuple[list[PhaseEvent], list[Rep]]:
        rng = random.Random(self.seed)
        tempo = parse_tempo(self.tempo)
        t_s, events, reps = self.start_s, [], []
        for index in range(1, self.reps + 1):
            spans = []
            for phase in get_exercise(self.exercise).phase_order:
                target_s = tempo.target_s(phase)
                duration_s = self.explosive_s if target_s is None else target_s
                duration_s += self.off_target_s.get((index, phase), 0.0)
                if duration_s > 0:
                    duration_s = max(0.05, duration_s + rng.gauss(0.0, self.jitter_s))
                    spans.append(PhaseSpan(phase, t_s, t_s + duration_s))
                    events.append(PhaseEvent("phase", index, t_s, t_s + self.delay_s, phase))
                    t_s += duration_s
            t_s += self.rest_at_top_s
            rep = Rep(index, tuple(spans))
            reps.append(rep)
            events.append(PhaseEvent("rep", index, rep.start_s, rep.end_s + self.delay_s, rep=rep))
        return sorted(events, key=lambda e: e.detected_s), reps


@dataclass
class Run:
    cues: list[Cue]
    released_at: dict[int, float]  # id(cue) -> the tick time it was handed over
    reps: list[Rep]
    coach: LiveCoach


def run(
    lifter: Lifter,
    load: float = 85.0,
    mode: str = "voice",
    latency_s: float = 0.0,
    planned: bool | int = True,
    **settings: float,
) -> Run:
    """planned: True for the lifter's own rep count, False for none, or a count."""
    events, reps = lifter.events()
    coach = LiveCoach(
        lifter.exercise,
        lifter.tempo,
        decide_focus(load, lifter.exercise),
        mode,
        CoachSettings(output_latency_s=latency_s, **settings),  # type: ignore[arg-type]
        planned_reps=lifter.reps if planned is True else (planned or None),
    )
    cues: list[Cue] = []
    released_at: dict[int, float] = {}

    def take(now_s: float, new: list[Cue]) -> None:
        for cue in new:
            released_at[id(cue)] = now_s
        cues.extend(new)

    take(0.0, coach.start(0.0))
    end_s = reps[-1].end_s + 3.0
    pending = list(events)
    for step in range(int(end_s / TICK_S) + 1):
        now_s = step * TICK_S
        while pending and pending[0].detected_s <= now_s:
            take(now_s, coach.on_event(pending.pop(0)))
        take(now_s, coach.tick(now_s))
    return Run(cues, released_at, reps, coach)


def counts(cues: list[Cue]) -> list[Cue]:
    return [c for c in cues if c.kind == "count" or (c.kind == "tone" and c.priority == 1)]


def phase_start(reps: list[Rep], rep_index: int, phase: Phase | None) -> float:
    assert phase is not None
    span = reps[rep_index - 1].span(phase)
    assert span is not None
    return span.start_s


def test_counts_land_on_the_seconds_of_the_phase_the_lifter_is_in() -> None:
    result = run(Lifter("back-squat", "4-0-2-0", reps=4, delay_s=0.1, jitter_s=0.2, seed=3))
    spoken = counts(result.cues)
    assert len(spoken) >= 4 * 3  # two, three, four in every eccentric (the concentric's "two" may clash)
    for cue in spoken:
        start_s = phase_start(result.reps, cue.rep_index, cue.phase)
        elapsed_s = cue.at_s - start_s
        assert elapsed_s == pytest.approx(round(elapsed_s), abs=1e-9), cue
        word = ["one", "two", "three", "four"][round(elapsed_s)]
        assert cue.text == word


def test_cues_go_out_early_by_the_output_latency() -> None:
    latency_s = 0.2
    result = run(Lifter("back-squat", "31X0", reps=3, delay_s=0.1), latency_s=latency_s)
    timed = [c for c in result.cues if c.kind in ("count", "phase_call")]
    assert timed
    for cue in timed:
        assert cue.emit_s == pytest.approx(cue.at_s - latency_s)
        # handed over before it had to start, by at most the lookahead plus one tick
        handed_s = result.released_at[id(cue)]
        assert handed_s <= cue.emit_s + 1e-9
        assert cue.emit_s - handed_s <= 0.1 + TICK_S + 1e-9
    # and the counts still land on the lifter's seconds
    for cue in counts(result.cues):
        start_s = phase_start(result.reps, cue.rep_index, cue.phase)
        assert (cue.at_s - start_s) % 1.0 == pytest.approx(0.0, abs=1e-9)


def test_the_up_call_comes_when_the_eccentric_target_is_reached() -> None:
    result = run(Lifter("back-squat", "30X0", reps=2, delay_s=0.3, explosive_s=0.6))
    drives = [c for c in result.cues if c.text == "drive"]
    assert len(drives) == 2
    for cue in drives:
        eccentric_s = phase_start(result.reps, cue.rep_index, Phase.ECCENTRIC)
        assert cue.at_s == pytest.approx(eccentric_s + 3.0)


def test_calls_follow_the_lifter_when_a_phase_starts_late() -> None:
    # Rep 2 reaches the bottom 0.6 s late; its 2-s pause must be counted from the real arrival.
    lifter = Lifter("back-squat", "32X0", reps=3, delay_s=0.2, off_target_s={(2, Phase.ECCENTRIC): 0.6})
    result = run(lifter)
    drive = next(c for c in result.cues if c.text == "drive" and c.rep_index == 2)
    assert drive.at_s == pytest.approx(phase_start(result.reps, 2, Phase.BOTTOM_PAUSE) + 2.0)
    # the early prediction (eccentric start + 3 + 2) was withdrawn, not spoken as well
    assert sum(c.text == "drive" and c.rep_index == 2 for c in result.cues) == 1


def test_late_detected_phases_produce_no_late_counts() -> None:
    # The detector reports each phase 1.3 s late: the count due at +1 s has passed and is dropped.
    result = run(Lifter("back-squat", "40X0", reps=3, delay_s=1.3), latency_s=0.2)
    spoken = counts(result.cues)
    assert {c.text for c in spoken} == {"three", "four"}
    for cue in spoken:
        start_s = phase_start(result.reps, cue.rep_index, cue.phase)
        assert cue.at_s - start_s in (pytest.approx(2.0), pytest.approx(3.0))
        assert result.released_at[id(cue)] <= cue.emit_s + 1e-9
    assert any(c.text == "two" for c in result.coach.scheduler.dropped)


def test_nothing_overlaps() -> None:
    lifter = Lifter("back-squat", "3-1-1-1", reps=8, delay_s=0.15, jitter_s=0.5, seed=7)
    for mode in CoachMode:
        result = run(lifter, mode=mode.value, latency_s=0.15)
        timed = sorted((c for c in result.cues if c.priority > 0), key=lambda c: c.at_s)
        assert len(timed) >= (3 if mode is CoachMode.QUIET else 10)
        for before, after in itertools.pairwise(timed):
            assert after.at_s >= before.end_s - 1e-9, (before, after)


def test_corrections_are_rationed() -> None:
    # Every rep's eccentric is 1.5 s short: the same fault each time.
    fast = {(i, Phase.ECCENTRIC): -1.5 for i in range(1, 9)}
    result = run(Lifter("back-squat", "31X0", reps=8, delay_s=0.1, off_target_s=fast))
    corrections = [c for c in result.cues if c.kind == "correction"]
    assert corrections, "a consistently fast eccentric must be corrected"
    per_rep = [c.rep_index for c in corrections]
    assert len(per_rep) == len(set(per_rep)), "at most one correction per rep"
    assert 8 not in per_rep, "none on the last rep"
    assert all(a.text != b.text for a, b in itertools.pairwise(corrections)), "never twice in a row"
    assert corrections[0].text == "slower on the way down"
    # aimed at the next rep: said at the start of the eccentric it is about
    first = corrections[0]
    assert first.at_s >= phase_start(result.reps, first.rep_index, Phase.ECCENTRIC)


def test_two_faults_alternate_rather_than_repeat() -> None:
    faults = {}
    for i in range(1, 9):
        faults[(i, Phase.ECCENTRIC)] = -1.5
        faults[(i, Phase.BOTTOM_PAUSE)] = -0.9
    result = run(Lifter("back-squat", "32X0", reps=8, delay_s=0.1, off_target_s=faults))
    texts = [c.text for c in result.cues if c.kind == "correction"]
    assert len(texts) >= 4
    assert {"slower on the way down", "hold the pause"} <= set(texts)
    assert all(a != b for a, b in itertools.pairwise(texts))


def test_no_correction_when_the_reps_are_on_tempo() -> None:
    result = run(Lifter("bench-press", "31X0", reps=6, jitter_s=0.05))
    assert [c for c in result.cues if c.kind == "correction"] == []


def test_without_a_planned_count_the_last_rep_may_still_be_corrected_aimed_at_the_next() -> None:
    faults = {(1, Phase.ECCENTRIC): -1.5, (3, Phase.BOTTOM_PAUSE): -0.9}
    result = run(Lifter("back-squat", "31X0", reps=3, off_target_s=faults), planned=False)
    assert [(c.rep_index, c.text) for c in result.cues if c.kind == "correction"] == [
        (2, "slower on the way down")
    ]
    pending = result.coach.corrections.pending  # rep 3's correction waits for a rep 4
    assert pending is not None and (pending.rep_index, pending.text) == (4, "hold the pause")


def test_focus_cues_come_on_rep_one_and_every_third() -> None:
    result = run(Lifter("bench-press", "40X0", reps=9, delay_s=0.1), load=70.0)
    focus = [c for c in result.cues if c.kind == "focus"]
    assert [c.rep_index for c in focus] == [1, 4, 7]
    plan = decide_focus(70.0, "bench-press")
    lib = result.coach.library
    exercise = get_exercise("bench-press")
    internal_ecc = lib.focus_cues(exercise, plan.for_phase(Phase.ECCENTRIC).kind, Phase.ECCENTRIC)
    external_con = lib.focus_cues(exercise, plan.for_phase(Phase.CONCENTRIC).kind, Phase.CONCENTRIC)
    assert focus[0].text in internal_ecc  # rep 1: about the eccentric
    assert focus[1].text in external_con  # rep 4: about the concentric, said in the eccentric (X has no room)
    for cue in focus:
        assert cue.phase is Phase.ECCENTRIC
    every_other = run(Lifter("bench-press", "40X0", reps=5), load=70.0, focus_every_reps=2)
    assert [c.rep_index for c in every_other.cues if c.kind == "focus"] == [1, 3, 5]


def test_modes() -> None:
    lifter = Lifter("back-squat", "3-1-2-0", reps=4, delay_s=0.1)
    tones = run(lifter, mode="tones")
    assert tones.cues and all(c.text == "" and c.tone_hz for c in tones.cues)
    quiet = run(lifter, mode="quiet")
    assert quiet.cues and {c.kind for c in quiet.cues} == {"focus"}
    mixed = run(lifter, mode="voice+tones")
    kinds = {c.kind for c in mixed.cues}
    assert {"tone", "phase_call", "start"} <= kinds and "count" not in kinds
    assert all(c.tone_hz for c in mixed.cues if c.kind == "tone")
    voice = run(lifter, mode="voice")
    assert "tone" not in {c.kind for c in voice.cues} and "count" in {c.kind for c in voice.cues}


def test_phrases_for_set_covers_everything_said() -> None:
    cases = [
        ("back-squat", "31X0", 85.0, {(2, Phase.ECCENTRIC): -1.5, (4, Phase.BOTTOM_PAUSE): -0.8}),
        ("lat-pulldown", "2-1-2-1", 70.0, {(3, Phase.CONCENTRIC): 1.5}),
        ("barbell-curl", "(10)0X0", 50.0, {(1, Phase.TOP_PAUSE): 1.0}),
    ]
    for exercise, tempo, load, faults in cases:
        for mode in CoachMode:
            lifter = Lifter(exercise, tempo, reps=7, delay_s=0.1, jitter_s=0.2, off_target_s=faults)
            result = run(lifter, load=load, mode=mode.value)
            coach = result.coach
            said = {c.text for c in result.cues + coach.finish(100.0) if c.text}
            needed = phrases_for_set(exercise, tempo, coach.focus_plan, mode, planned_reps=7)
            assert said <= needed, (exercise, mode, said - needed)
            if mode is CoachMode.TONES:
                assert needed == set()


def test_scheduler_priorities_and_staleness() -> None:
    sched = CueScheduler(latency_s=0.0, lookahead_s=0.1)
    count = Cue(10.0, "two", "count", 1, Phase.ECCENTRIC, 1, expires_s=10.08, duration_s=0.4, slot="c")
    correction = Cue(
        9.9,
        "slower on the way down",
        "correction",
        4,
        Phase.ECCENTRIC,
        1,
        expires_s=12.0,
        duration_s=1.8,
        slot="k",
    )
    focus = Cue(
        9.0,
        "feel your thighs load up",
        "focus",
        2,
        Phase.ECCENTRIC,
        1,
        expires_s=10.5,
        duration_s=1.5,
        slot="f",
    )
    assert sched.offer(count, now_s=8.0)
    assert sched.offer(correction, now_s=8.0)  # outranks the count, which cannot move and is dropped
    assert [c.slot for c in sched.pending] == ["k"] and "c" in {c.slot for c in sched.dropped}
    assert not sched.offer(focus, now_s=8.0)  # would run into the correction; no later gap before expiry
    stale = Cue(5.0, "three", "count", 1, Phase.ECCENTRIC, 1, expires_s=5.08, duration_s=0.4, slot="s")
    assert not sched.offer(stale, now_s=8.0)
    released = sched.release(9.85)
    assert [c.slot for c in released] == ["k"]
    assert not sched.offer(correction, now_s=9.9)  # never repeated
    late = Cue(20.0, "four", "count", 1, Phase.ECCENTRIC, 2, expires_s=20.08, duration_s=0.4, slot="l")
    assert sched.offer(late, now_s=19.0)
    assert sched.release(20.5) == []  # the tick came too late: dropped, not spoken late
    assert "l" in {c.slot for c in sched.dropped}


def test_start_line_yields_to_the_set() -> None:
    result = run(Lifter("back-squat", "31X0", reps=2, start_s=1.0, delay_s=0.05))
    start = next(c for c in result.cues if c.kind == "start")
    assert start.priority == 0
    assert "Back squat" in start.text and "three one X zero" in start.text
    assert any(c.priority > 0 and c.at_s < start.end_s for c in result.cues)


def test_nothing_is_called_for_a_movement_after_the_planned_reps() -> None:
    # The detector may read the walk back to the rack as the next rep's eccentric; "down" there
    # would be the coach's last word on a finished set.
    lifter = Lifter("back-squat", "31X0", reps=3)
    open_ended, planned = run(lifter, planned=False), run(lifter, planned=2)
    assert any(c.rep_index == 3 and c.kind == "phase_call" for c in open_ended.cues)
    assert not any(c.rep_index == 3 for c in planned.cues)
    assert any(c.rep_index == 2 and c.kind == "phase_call" for c in planned.cues)


def test_end_line_after_finish() -> None:
    result = run(Lifter("back-squat", "31X0", reps=2))
    end = result.coach.finish(30.0)
    assert [c.kind for c in end] == ["end"]
    assert math.isclose(end[0].at_s, 30.0)


def test_counts_of_a_later_phase_wait_for_it_to_start() -> None:
    # Rep 1's eccentric runs 1.5 s long: the concentric's "two" must not be said on the tempo's
    # schedule (while the lifter is still going down) but one second into the real concentric.
    lifter = Lifter("back-squat", "4-0-2-0", reps=2, delay_s=0.2, off_target_s={(1, Phase.ECCENTRIC): 1.5})
    result = run(lifter, load=50.0)
    concentric_start_s = phase_start(result.reps, 1, Phase.CONCENTRIC)
    concentric_counts = [c for c in counts(result.cues) if c.rep_index == 1 and c.phase is Phase.CONCENTRIC]
    assert [c.text for c in concentric_counts] == ["two"]
    assert concentric_counts[0].at_s == pytest.approx(concentric_start_s + 1.0)
    # the "up" call was still given when the eccentric target was reached: it tells the lifter to go
    up = next(c for c in result.cues if c.text == "up" and c.rep_index == 1)
    assert up.at_s == pytest.approx(phase_start(result.reps, 1, Phase.ECCENTRIC) + 4.0)


def test_measured_phrase_durations_replace_the_estimate() -> None:
    lifter = Lifter("back-squat", "60X0", reps=1, delay_s=0.05)
    events, _ = lifter.events()
    plan = decide_focus(85.0, "back-squat")
    said: dict[str, list[Cue]] = {}
    for name, durations in (("long", {"four": 1.5}), ("estimated", {})):
        coach = LiveCoach("back-squat", "60X0", plan, planned_reps=1, phrase_durations_s=durations)
        said[name] = []
        pending = list(events)
        for step in range(500):
            now_s = step * TICK_S
            while pending and pending[0].detected_s <= now_s:
                said[name] += coach.on_event(pending.pop(0))
            said[name] += coach.tick(now_s)
    four = next(c for c in said["long"] if c.text == "four")
    assert four.duration_s == pytest.approx(1.5 + CoachSettings().pad_s)
    assert "five" not in {c.text for c in said["long"]}  # a 1.5-s "four" leaves no room one second later
    assert "six" in {c.text for c in said["long"]}
    assert {"four", "five", "six"} <= {c.text for c in said["estimated"]}
