"""The exercise catalogue: required lifts, aliases, suggestions, validation."""

from __future__ import annotations

import pytest

from tempocoach.errors import CatalogError
from tempocoach.events import Phase
from tempocoach.exercises import catalog, get_exercise, parse_catalog

REQUIRED = [
    "back-squat", "front-squat", "bench-press", "incline-bench-press", "overhead-press", "deadlift",
    "romanian-deadlift", "barbell-row", "hip-thrust", "lat-pulldown", "seated-cable-row", "leg-press",
    "leg-extension", "leg-curl", "triceps-pushdown", "cable-fly", "dumbbell-curl", "hammer-curl",
    "lateral-raise", "rear-delt-fly", "dumbbell-press", "overhead-triceps-extension", "push-up",
    "pull-up", "glute-bridge", "air-squat", "barbell-curl",
]


def test_catalogue_has_every_required_lift() -> None:
    ids = set(catalog().ids)
    assert len(ids) >= 25
    assert not set(REQUIRED) - ids


ALIASES = [
    ("RDL", "romanian-deadlift"), ("bench", "bench-press"), ("OHP", "overhead-press"),
    ("Lat Pull-Down", "lat-pulldown"), ("bicep curl", "barbell-curl"), ("back_squat", "back-squat"),
    ("lying leg curl", "leg-curl"), ("seated leg curl", "seated-leg-curl"),
]


def test_a_seated_leg_curl_lowers_the_pad_where_a_lying_one_raises_it() -> None:
    assert get_exercise("seated leg curl").concentric == "down"
    assert get_exercise("lying leg curl").concentric == "up"


@pytest.mark.parametrize(("alias", "exercise_id"), ALIASES)
def test_aliases_and_spellings_resolve(alias: str, exercise_id: str) -> None:
    assert get_exercise(alias).id == exercise_id


def test_unknown_name_lists_closest_matches() -> None:
    with pytest.raises(CatalogError) as err:
        get_exercise("bench pres")
    assert "unknown exercise 'bench pres'" in str(err.value)
    assert "bench-press" in str(err.value)


def test_where_a_rep_starts_sets_the_phase_order() -> None:
    assert get_exercise("deadlift").phase_order[0] is Phase.CONCENTRIC
    assert get_exercise("back-squat").phase_order == tuple(Phase)


def test_a_placement_that_cannot_see_the_lift_is_an_error() -> None:
    with pytest.raises(CatalogError, match="leg-press: a wrist sensor does not move"):
        get_exercise("leg-press").motion_for("wrist")
    assert get_exercise("dumbbell-curl").motion_for("wrist") == "rotation"
    assert get_exercise("back-squat").motion_for("bar") == "translation"


def test_invalid_catalogue_entries_name_the_table_and_field() -> None:
    bad = '[squat]\nname = "S"\nkind = "heavy"\nequipment = "barbell"\nstarts_with = "eccentric"\n' \
          'concentric = "up"\nmotion = { bar = "translation" }\nmuscles = ["q"]\nrom_m = 0.5\n'
    with pytest.raises(CatalogError) as err:
        parse_catalog(bad, "mine.toml")
    assert str(err.value).startswith("mine.toml: [squat] kind:")
    missing_rom = bad.replace('kind = "heavy"', 'kind = "compound"').replace("rom_m = 0.5\n", "")
    with pytest.raises(CatalogError, match="needs rom_m"):
        parse_catalog(missing_rom, "mine.toml")
