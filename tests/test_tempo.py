"""Tempo codes: every accepted form, canonical formatting, targets, and the errors users see."""

from __future__ import annotations

import pytest

from tempocoach.errors import TempoCodeError
from tempocoach.events import Phase
from tempocoach.tempo import EXPLOSIVE_NOMINAL_S, parse_tempo


@pytest.mark.parametrize(
    ("code", "canonical"),
    [
        ("31X0", "31X0"),
        ("4-0-4-0", "4040"),
        ("(10)0X0", "(10)0X0"),
        ("3/1/x/0", "31X0"),
        ("3:1:X:1", "31X1"),
        ("3 1 X 1", "31X1"),
        ("10-0-X-0", "(10)0X0"),
        (" 2020 ", "2020"),
        ("20x1", "20X1"),
    ],
)
def test_accepted_forms_format_canonically(code: str, canonical: str) -> None:
    assert str(parse_tempo(code)) == canonical
    assert str(parse_tempo(canonical)) == canonical  # canonical form round-trips


def test_targets_per_phase_in_the_fixed_order() -> None:
    tempo = parse_tempo("4212")
    assert [tempo.target_s(p) for p in Phase] == [4.0, 2.0, 1.0, 2.0]
    assert tempo.eccentric_s == 4.0 and tempo.bottom_pause_s == 2.0
    assert tempo.rep_duration_s == 9.0


def test_explosive_phase_has_no_target_but_a_nominal_length() -> None:
    tempo = parse_tempo("31X0")
    assert tempo.is_explosive(Phase.CONCENTRIC)
    assert tempo.target_s(Phase.CONCENTRIC) is None
    assert tempo.nominal_s(Phase.CONCENTRIC) == EXPLOSIVE_NOMINAL_S
    assert tempo.rep_duration_s == pytest.approx(4.0 + EXPLOSIVE_NOMINAL_S)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("3a10", "tempo '3a10': 'a' at position 2 is not a digit, X or (NN)"),
        ("31X", "tempo '31X': needs 4 fields (eccentric, bottom pause, concentric, top pause), got 3"),
        ("31X00", "needs 4 fields"),
        ("3(1", "'(' at position 2 must enclose a number"),
        ("3-b-1-0", "'b' at position 3 is not a digit"),
        ("", "empty"),
    ],
)
def test_bad_codes_name_the_character_and_position(code: str, message: str) -> None:
    with pytest.raises(TempoCodeError) as err:
        parse_tempo(code)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
