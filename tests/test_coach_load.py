"""Load parsing: %1RM, weights with a given or estimated 1RM, RPE at reps; one-line errors."""

from __future__ import annotations

import itertools

import pytest

from tempocoach.coach.load import (
    LB_TO_KG,
    RPE_CHART,
    brzycki_one_rm_kg,
    epley_one_rm_kg,
    estimate_one_rm,
    parse_load,
    parse_mass_kg,
    rpe_percent_1rm,
)
from tempocoach.errors import TempoCoachError


@pytest.mark.parametrize("text", ["70%", "70 %", "70%1RM", " 70 % 1rm "])
def test_percent_forms(text: str) -> None:
    load = parse_load(text)
    assert load.percent_1rm == pytest.approx(70.0)
    assert load.method == "percent"


def test_weight_with_given_one_rm_in_kg_and_lb() -> None:
    assert parse_load("100kg", one_rm="140kg").percent_1rm == pytest.approx(100 / 140 * 100)
    load = parse_load("225lb", one_rm="315 lbs")
    assert load.percent_1rm == pytest.approx(225 / 315 * 100)
    assert load.mass_kg == pytest.approx(225 * LB_TO_KG)
    assert parse_load("100kg", one_rm=125.0).percent_1rm == pytest.approx(80.0)


def test_weight_with_estimated_one_rm_uses_mean_of_epley_and_brzycki() -> None:
    one_rm_kg, how = estimate_one_rm("120kg x5")
    assert one_rm_kg == pytest.approx((120 * (1 + 5 / 30) + 120 * 36 / 32) / 2)
    assert "Epley" in how and "Brzycki" in how
    load = parse_load("100kg", recent_set="120kg x5")
    assert load.method == "weight_with_estimated_1rm"
    assert load.percent_1rm == pytest.approx(100 * 100 / one_rm_kg)
    # The two formulas agree at 10 reps and Brzycki is lower below it.
    assert epley_one_rm_kg(100, 10) == pytest.approx(brzycki_one_rm_kg(100, 10))
    assert brzycki_one_rm_kg(100, 3) < epley_one_rm_kg(100, 3)


def test_recent_set_with_rpe_reads_the_chart() -> None:
    one_rm_kg, how = estimate_one_rm("100kg x3 @8")
    assert one_rm_kg == pytest.approx(100 / 0.863)
    assert "RPE" in how


@pytest.mark.parametrize("text", ["RPE8@5", "rpe 8 @ 5", "5@8", "5 @ RPE8", "RPE8x5"])
def test_rpe_forms(text: str) -> None:
    load = parse_load(text)
    assert load.method == "rpe_chart"
    assert load.percent_1rm == pytest.approx(81.1)


def test_rpe_chart_values_and_structure() -> None:
    assert rpe_percent_1rm(10, 1) == 100.0
    assert rpe_percent_1rm(9.5, 3) == 90.7
    assert rpe_percent_1rm(6, 12) == 57.4
    assert sorted(RPE_CHART) == [6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
    for rpe, row in RPE_CHART.items():
        assert len(row) == 12
        assert all(a > b for a, b in itertools.pairwise(row)), f"RPE {rpe} not decreasing"
        # One RPE lower is one more rep in reserve: the same %1RM as one more rep at one RPE higher.
        if rpe + 1 in RPE_CHART:
            assert row[:-1] == RPE_CHART[rpe + 1][1:]
        if rpe + 0.5 in RPE_CHART:
            assert all(a < b for a, b in zip(row, RPE_CHART[rpe + 0.5], strict=True))


def test_mass_units() -> None:
    assert parse_mass_kg("140kg") == 140.0
    assert parse_mass_kg("300 LB") == pytest.approx(300 * LB_TO_KG)


@pytest.mark.parametrize(
    ("text", "kwargs", "needle"),
    [
        ("heavy-ish", {}, "not understood"),
        ("100kg", {}, "--one-rm"),
        ("100kg", {"one_rm": "lots"}, "1RM 'lots'"),
        ("100kg", {"recent_set": "120 x5"}, "recent set '120 x5'"),
        ("100kg", {"recent_set": "120kg x20"}, "1-12 reps"),
        ("RPE5@5", {}, "RPE must be 6 to 10"),
        ("RPE8.3@5", {}, "steps of 0.5"),
        ("RPE8@13", {}, "1-12 reps"),
        ("0%", {}, "outside"),
        ("150%", {}, "outside"),
        ("200kg", {"one_rm": "100kg"}, "outside"),
    ],
)
def test_bad_loads_give_one_line_errors_naming_the_text(
    text: str, kwargs: dict[str, str], needle: str
) -> None:
    with pytest.raises(TempoCoachError) as info:
        parse_load(text, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert needle in message
    assert text in message or any(v in message for v in kwargs.values())


def test_error_lists_accepted_forms() -> None:
    with pytest.raises(TempoCoachError, match=r"70%.*100kg.*RPE8@5"):
        parse_load("a lot")
