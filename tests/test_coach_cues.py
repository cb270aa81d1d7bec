"""The cue library: complete for the catalogue, short in-set cues, validation errors that name the key."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from typing import Any

import pytest

from tempocoach.coach.cues import MAX_IN_SET_WORDS, cue_library, parse_cues, word_count
from tempocoach.coach.focus import FocusKind
from tempocoach.errors import CatalogError
from tempocoach.events import Phase
from tempocoach.exercises import catalog

SHIPPED = resources.files("tempocoach.coach").joinpath("cues.toml").read_text(encoding="utf-8")


def shipped_raw() -> dict[str, Any]:
    return tomllib.loads(SHIPPED)


def to_toml(data: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """Just enough TOML writing for these tests: tables of strings and lists of strings."""
    out = ["[" + ".".join(json.dumps(p) for p in path) + "]"] if path else []
    out += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)]
    out += [to_toml(v, (*path, k)) for k, v in data.items() if isinstance(v, dict)]
    return "\n".join(out)


def test_every_catalogued_exercise_has_internal_and_external_cues_for_both_directions() -> None:
    library = cue_library()
    for exercise in catalog():
        for kind in FocusKind:
            for phase in Phase:
                cues = library.focus_cues(exercise, kind, phase)
                assert cues, f"{exercise.id} {kind} {phase}"
        assert set(library.exercise) == set(catalog().ids)


def test_in_set_cues_are_at_most_six_words() -> None:
    library = cue_library()
    in_set: list[str] = list(library.counts)
    for exercise in catalog():
        calls = library.calls_for(exercise)
        in_set += [calls.call(p) for p in Phase] + [calls.explosive]
        in_set += sorted(library.all_corrections(exercise))
        for kind in FocusKind:
            for phase in Phase:
                in_set += library.focus_cues(exercise, kind, phase)
    assert len(in_set) > 300
    too_long = [c for c in in_set if word_count(c) > MAX_IN_SET_WORDS]
    assert too_long == []


def test_internal_and_external_wording_differ() -> None:
    library = cue_library()
    for exercise in catalog():
        for phase in (Phase.ECCENTRIC, Phase.CONCENTRIC):
            internal = set(library.focus_cues(exercise, FocusKind.INTERNAL, phase))
            external = set(library.focus_cues(exercise, FocusKind.EXTERNAL, phase))
            assert not internal & external, exercise.id


def test_counts_calls_and_lines() -> None:
    library = cue_library()
    assert library.counts[:3] == ["one", "two", "three"] and library.count(10) == "ten"
    assert library.count(11) is None
    squat = catalog().get("back-squat")
    assert [library.calls_for(squat).call(p) for p in (Phase.ECCENTRIC, Phase.BOTTOM_PAUSE)] == [
        "down",
        "hold",
    ]
    assert library.calls_for(squat).call(Phase.CONCENTRIC, explosive=True) == "drive"
    pulldown = catalog().get("lat-pulldown")
    assert library.calls_for(pulldown).call(Phase.CONCENTRIC) == "pull"
    assert library.correction(squat, Phase.ECCENTRIC, "fast") == "slower on the way down"
    assert library.correction(pulldown, Phase.ECCENTRIC, "fast") == "slower on the way up"


def test_shipped_text_round_trips_through_the_test_writer() -> None:
    # Guards the helper below: the rewritten shipped file must still validate.
    parse_cues(to_toml(shipped_raw()), "copy.toml", catalog().ids)


def broken(edit: Any) -> str:
    raw = shipped_raw()
    edit(raw)
    return to_toml(raw)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda r: r["exercise"].pop("dip"), "exercise.dip: catalogued exercise has no cues"),
        (
            lambda r: r["exercise"].__setitem__("zercher-squat", r["exercise"]["dip"]),
            "exercise.zercher-squat: not in",
        ),
        (lambda r: r["exercise"]["dip"].pop("external"), "exercise.dip.external"),
        (
            lambda r: r["exercise"]["dip"]["internal"].__setitem__("concentric", []),
            "exercise.dip.internal.concentric",
        ),
        (
            lambda r: r["exercise"]["dip"]["internal"].__setitem__(
                "eccentric", ["lower yourself very slowly and carefully now"]
            ),
            "exercise.dip.internal.eccentric.0",
        ),
        (
            lambda r: r["corrections"]["up"].__setitem__(
                "eccentric_fast", "please go slower on the way down"
            ),
            "7 words",
        ),
        (lambda r: r["calls"]["up"].pop("explosive"), "calls.up.explosive"),
        (lambda r: r["lines"].__setitem__("start", ["{exercise} at {weight}"]), "lines.start.0"),
        (
            lambda r: r["exercise"]["dip"].__setitem__("corrections", {"sideways": "no"}),
            "corrections.sideways",
        ),
    ],
)
def test_validation_errors_name_the_key(edit: Any, needle: str) -> None:
    with pytest.raises(CatalogError) as info:
        parse_cues(broken(edit), "cues.toml", catalog().ids)
    assert needle in str(info.value)
    assert str(info.value).startswith("cues.toml: ")
    assert "\n" not in str(info.value)


def test_syntax_error_names_the_file() -> None:
    with pytest.raises(CatalogError, match=r"^bad\.toml: "):
        parse_cues("counts = [", "bad.toml", [])
