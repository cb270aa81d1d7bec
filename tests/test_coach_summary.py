"""The spoken post-set summary, from the report helper's real SetReport; and the spoken tempo."""

from __future__ import annotations

from tempocoach.coach.live import post_set_summary
from tempocoach.coach.report import build_report
from tempocoach.coach.spoken import spoken_tempo
from tempocoach.events import Phase, PhaseSpan, Rep, SetRecord
from tempocoach.tempo import parse_tempo


def record(
    durations: list[dict[Phase, float]], exercise: str = "back-squat", tempo: str = "31X0"
) -> SetRecord:
    reps, t_s = [], 1.0
    for index, phases in enumerate(durations, start=1):
        spans = []
        for phase in (Phase.ECCENTRIC, Phase.BOTTOM_PAUSE, Phase.CONCENTRIC, Phase.TOP_PAUSE):
            duration_s = phases.get(phase, 0.0)
            if duration_s > 0:
                spans.append(PhaseSpan(phase, t_s, t_s + duration_s))
                t_s += duration_s
        reps.append(Rep(index, tuple(spans)))
    return SetRecord(exercise=exercise, tempo=tempo, placement="bar", reps=reps)


ON_TEMPO = {Phase.ECCENTRIC: 3.0, Phase.BOTTOM_PAUSE: 1.0, Phase.CONCENTRIC: 0.6}


def test_a_set_on_tempo_gets_praise_and_nothing_to_fix() -> None:
    text = post_set_summary(build_report(record([ON_TEMPO] * 5)))
    assert text == "5 reps. Tempo was on point. Keep it just like that."


def test_rushed_eccentrics_name_the_fix() -> None:
    rushed = {**ON_TEMPO, Phase.ECCENTRIC: 1.4}
    text = post_set_summary(build_report(record([rushed] * 6)))
    assert text == "6 reps. Tempo was mostly there. Next set: slower on the way down."


def test_a_poor_set_drifted_and_the_worst_phase_is_named() -> None:
    # eccentrics rushed on every rep, pauses skipped on four: the eccentric is off on more reps
    rushed = {**ON_TEMPO, Phase.ECCENTRIC: 1.4}
    both = {**rushed, Phase.BOTTOM_PAUSE: 0.1}
    text = post_set_summary(build_report(record([both] * 4 + [rushed] * 2)))
    assert text == "6 reps. Tempo drifted. Next set: slower on the way down."


def test_skipped_pauses_and_slow_drives() -> None:
    skipped = {**ON_TEMPO, Phase.BOTTOM_PAUSE: 0.1}
    assert post_set_summary(build_report(record([skipped] * 3))).endswith("Next set: hold the pause.")
    grind = {**ON_TEMPO, Phase.CONCENTRIC: 2.5}
    assert post_set_summary(build_report(record([grind] * 6))).endswith("Next set: faster up.")


def test_one_rep_and_no_reps() -> None:
    assert post_set_summary(build_report(record([ON_TEMPO]))).startswith("One rep.")
    assert post_set_summary(build_report(record([]))) == "No reps counted that set."


def test_direction_aware_fix_for_a_pulldown() -> None:
    rushed = {Phase.CONCENTRIC: 2.0, Phase.TOP_PAUSE: 1.0, Phase.ECCENTRIC: 0.8, Phase.BOTTOM_PAUSE: 0.0}
    text = post_set_summary(build_report(record([rushed] * 4, "lat-pulldown", "3021")))
    assert text.endswith("Next set: slower on the way up.")


def test_spoken_tempo() -> None:
    assert spoken_tempo(parse_tempo("31X0")) == "three one X zero"
    assert spoken_tempo(parse_tempo("(10)0X0")) == "ten zero X zero"
    assert spoken_tempo(parse_tempo("12-0-1-0")) == "12 zero one zero"
