"""Focus policy: load bands, isolation vs compound, beginners, overrides, configurable thresholds."""

from __future__ import annotations

import pytest

from tempocoach.coach.focus import Experience, FocusKind, FocusSettings, decide_focus
from tempocoach.coach.load import parse_load
from tempocoach.errors import TempoCoachError
from tempocoach.events import Phase

INTERNAL, EXTERNAL = FocusKind.INTERNAL, FocusKind.EXTERNAL
ECC, BOT, CON, TOP = Phase.ECCENTRIC, Phase.BOTTOM_PAUSE, Phase.CONCENTRIC, Phase.TOP_PAUSE


def kinds(plan_load: float | None, exercise: str, experience: str = "intermediate") -> dict[Phase, FocusKind]:
    plan = decide_focus(plan_load, exercise, experience)
    return {p: plan.for_phase(p).kind for p in Phase}


@pytest.mark.parametrize("load", [30.0, 55.0, 60.0])
def test_light_compound_is_internal_everywhere(load: float) -> None:
    assert set(kinds(load, "back-squat").values()) == {INTERNAL}


@pytest.mark.parametrize("load", [60.5, 70.0, 79.9])
def test_moderate_compound_mixes_internal_eccentric_and_pauses_external_concentric(load: float) -> None:
    got = kinds(load, "bench-press")
    assert got == {ECC: INTERNAL, BOT: INTERNAL, CON: EXTERNAL, TOP: INTERNAL}


@pytest.mark.parametrize("load", [80.0, 90.0, 105.0])
def test_heavy_compound_is_external_everywhere(load: float) -> None:
    assert set(kinds(load, "deadlift").values()) == {EXTERNAL}


def test_isolation_lifts_favour_internal() -> None:
    assert set(kinds(70.0, "barbell-curl").values()) == {INTERNAL}
    heavy = kinds(85.0, "lateral-raise")
    assert heavy == {ECC: INTERNAL, BOT: INTERNAL, CON: EXTERNAL, TOP: INTERNAL}
    assert set(kinds(50.0, "leg-extension").values()) == {INTERNAL}


@pytest.mark.parametrize("load", [40.0, 70.0, 90.0])
def test_beginners_get_external_cues_on_compounds(load: float) -> None:
    plan = decide_focus(load, "back-squat", "beginner")
    assert {plan.for_phase(p).kind for p in Phase} == {EXTERNAL}
    assert "beginner" in plan.for_phase(ECC).reason


def test_beginners_on_isolation_follow_the_isolation_rule() -> None:
    assert kinds(70.0, "barbell-curl", "beginner") == kinds(70.0, "barbell-curl", "advanced")


def test_advanced_and_intermediate_follow_the_load_bands() -> None:
    assert kinds(70.0, "back-squat", "advanced") == kinds(70.0, "back-squat", "intermediate")


def test_load_object_and_unknown_load() -> None:
    plan = decide_focus(parse_load("RPE9@3"), "back-squat")  # 89.2% by the chart: heavy
    assert plan.percent_1rm == pytest.approx(89.2)
    assert plan.for_phase(CON).kind is EXTERNAL
    unknown = decide_focus(None, "back-squat")
    assert unknown.percent_1rm is None
    assert unknown.for_phase(CON).kind is EXTERNAL and unknown.for_phase(ECC).kind is INTERNAL


def test_thresholds_are_configurable() -> None:
    strict = FocusSettings(internal_max_percent=50.0, external_min_percent=70.0)
    assert decide_focus(55.0, "back-squat", settings=strict).for_phase(CON).kind is EXTERNAL
    assert decide_focus(75.0, "back-squat", settings=strict).for_phase(ECC).kind is EXTERNAL
    assert decide_focus(55.0, "back-squat").for_phase(CON).kind is INTERNAL
    no_isolation_rule = FocusSettings(isolation_favours_internal=False)
    assert decide_focus(70.0, "barbell-curl", settings=no_isolation_rule).for_phase(CON).kind is EXTERNAL
    no_beginner_rule = FocusSettings(beginner_external_on_compounds=False)
    assert (
        decide_focus(40.0, "back-squat", "beginner", settings=no_beginner_rule).for_phase(ECC).kind
        is INTERNAL
    )
    with pytest.raises(TempoCoachError, match="internal_max_percent"):
        FocusSettings(internal_max_percent=90.0, external_min_percent=80.0)


def test_overrides_win_and_pause_covers_both_pauses() -> None:
    plan = decide_focus(
        90.0, "back-squat", "beginner", overrides={"eccentric": "internal", "pause": "internal"}
    )
    assert plan.for_phase(ECC).kind is INTERNAL
    assert plan.for_phase(BOT).kind is INTERNAL and plan.for_phase(TOP).kind is INTERNAL
    assert plan.for_phase(CON).kind is EXTERNAL
    assert plan.for_phase(ECC).reason.startswith("override")
    with pytest.raises(TempoCoachError, match="focus override 'sideways=internal'"):
        decide_focus(70.0, "back-squat", overrides={"sideways": "internal"})


def test_reasons_are_one_line_and_explain_covers_every_phase() -> None:
    for load in (50.0, 70.0, 90.0, None):
        for exercise in ("back-squat", "cable-fly"):
            for level in Experience:
                plan = decide_focus(load, exercise, level)
                for phase in Phase:
                    reason = plan.for_phase(phase).reason
                    assert reason and "\n" not in reason
                text = plan.explain()
                assert all(p.value in text for p in Phase)
                assert exercise in text


def test_bad_experience_and_exercise() -> None:
    with pytest.raises(TempoCoachError, match=r"experience 'expert'.*beginner, intermediate, advanced"):
        decide_focus(70.0, "back-squat", "expert")
    with pytest.raises(TempoCoachError, match="unknown exercise"):
        decide_focus(70.0, "underwater basket weaving")
