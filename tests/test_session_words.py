"""What the session says around a set: announcements, the focus line (from the focus policy), hold results."""

from __future__ import annotations

from tempocoach.coach.cues import cue_library
from tempocoach.coach.focus import FocusKind
from tempocoach.events import Phase
from tempocoach.exercises import get_exercise
from tempocoach.plan import PlannedSet, parse_protocol
from tempocoach.session_runner import SetRun
from tempocoach.session_words import announcement, focus_line, hold_summary

BASE = 'name = "W"\ndescription = "d"\n[[blocks]]\nname = "B"\n[[blocks.sets]]\n'


def _planned(body: str) -> PlannedSet:
    return parse_protocol(BASE + body, "w.toml", "w").planned_sets()[0]


def _cue(exercise: str, kind: FocusKind, phase: Phase) -> str:
    text = cue_library().focus_cues(get_exercise(exercise), kind, phase)[0]
    return text[0].upper() + text[1:] + "."


def test_announcement_names_exercise_reps_tempo_and_load() -> None:
    squat = _planned('exercise = "squat"\ntempo = "31X0"\nreps = 8\nload = "70%"')
    assert announcement(squat, 6, "70%") == "Set 1 of 6: Back squat. 8 reps, tempo 3 1 X 0, 70%."
    hold = _planned('exercise = "glute-bridge"\nkind = "isometric"\nduration_s = 30')
    assert announcement(hold, 2, "bodyweight") == "Set 1 of 2: Glute bridge. isometric, hold 30 seconds."


def test_focus_line_follows_the_load_and_the_protocol_override() -> None:
    light = _planned('exercise = "squat"\ntempo = "3010"\nreps = 12')
    internal = " ".join([_cue("back-squat", FocusKind.INTERNAL, Phase.ECCENTRIC),
                         _cue("back-squat", FocusKind.INTERNAL, Phase.CONCENTRIC)])
    external = " ".join([_cue("back-squat", FocusKind.EXTERNAL, Phase.ECCENTRIC),
                         _cue("back-squat", FocusKind.EXTERNAL, Phase.CONCENTRIC)])
    assert focus_line(light, 50.0) == internal
    assert focus_line(light, 90.0) == external
    mixed = _planned('exercise = "squat"\ntempo = "3010"\nreps = 5\nfocus = "mixed"')
    assert focus_line(mixed, 90.0) == " ".join([_cue("back-squat", FocusKind.INTERNAL, Phase.ECCENTRIC),
                                               _cue("back-squat", FocusKind.EXTERNAL, Phase.CONCENTRIC)])
    forced = _planned('exercise = "squat"\ntempo = "3010"\nreps = 5\nfocus = "internal"')
    assert focus_line(forced, 90.0) == internal
    own = _planned('exercise = "squat"\ntempo = "3010"\nreps = 5\ncue = "Sit between your heels."')
    assert focus_line(own, 50.0) == "Sit between your heels."


def test_hold_summary_reports_time_held_and_movement() -> None:
    still = SetRun(moved_s=0.0, hold_s=30.2)
    assert hold_summary(still, 30.0) == "Held 30 of 30 seconds, still throughout."
    short = SetRun(moved_s=2.46, hold_s=21.4)
    assert hold_summary(short, 30.0) == "Held 21 of 30 seconds; you moved for 2.5 seconds."
