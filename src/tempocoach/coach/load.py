"""How heavy a set is, as a share of one-rep max (%1RM), from what a lifter types.

Accepted forms (case and spaces free):
- "70%" or "70%1RM": a share of 1RM, taken as given;
- "100kg", "225lb": a weight, which needs a 1RM: given ("140kg") or estimated from a recent set
  ("120kg x5", "120kg x5 @8");
- "RPE8@5", "5@RPE8", "5 @ 8": an effort at a number of reps, read off the RPE chart below.

1RM from a recent set: the mean of the Epley (w * (1 + r/30)) and Brzycki (w * 36 / (37 - r))
estimates, for 1-12 reps; the two agree at 10 reps and Brzycki is the more conservative below it.
A recent set with an RPE uses the chart instead (reps in reserve are known, so nothing is guessed).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tempocoach.errors import TempoCoachError

LB_TO_KG = 0.45359237
LOAD_FORMS = "70%, 100kg or 225lb (with a 1RM or a recent set), RPE8@5"
MASS_FORMS = "140kg or 300lb"
RECENT_FORMS = "120kg x5 or 265lb x3 @8"
MAX_ESTIMATE_REPS = 12
MAX_PERCENT_1RM = 110.0

# %1RM by RPE (rows) and reps (columns 1..12): the RTS chart published by Mike Tuchscherer
# (Reactive Training Systems, "The Reactive Training Manual", 2008). Each half RPE is half a rep in
# reserve, so every row is the row above shifted by half a rep; tests check that structure.
RPE_CHART: dict[float, tuple[float, ...]] = {
    10.0: (100.0, 95.5, 92.2, 89.2, 86.3, 83.7, 81.1, 78.6, 76.2, 73.9, 70.7, 68.0),
    9.5: (97.8, 93.9, 90.7, 87.8, 85.0, 82.4, 79.9, 77.4, 75.1, 72.3, 69.4, 66.7),
    9.0: (95.5, 92.2, 89.2, 86.3, 83.7, 81.1, 78.6, 76.2, 73.9, 70.7, 68.0, 65.3),
    8.5: (93.9, 90.7, 87.8, 85.0, 82.4, 79.9, 77.4, 75.1, 72.3, 69.4, 66.7, 64.0),
    8.0: (92.2, 89.2, 86.3, 83.7, 81.1, 78.6, 76.2, 73.9, 70.7, 68.0, 65.3, 62.6),
    7.5: (90.7, 87.8, 85.0, 82.4, 79.9, 77.4, 75.1, 72.3, 69.4, 66.7, 64.0, 61.3),
    7.0: (89.2, 86.3, 83.7, 81.1, 78.6, 76.2, 73.9, 70.7, 68.0, 65.3, 62.6, 59.9),
    6.5: (87.8, 85.0, 82.4, 79.9, 77.4, 75.1, 72.3, 69.4, 66.7, 64.0, 61.3, 58.6),
    6.0: (86.3, 83.7, 81.1, 78.6, 76.2, 73.9, 70.7, 68.0, 65.3, 62.6, 59.9, 57.4),
}

LoadMethod = Literal["percent", "weight_with_1rm", "weight_with_estimated_1rm", "rpe_chart"]

_NUMBER = r"(\d+(?:\.\d+)?)"
_PERCENT = re.compile(rf"^{_NUMBER}%(?:1rm)?$")
_MASS = re.compile(rf"^{_NUMBER}(kg|kgs|lb|lbs)$")
_RPE_FIRST = re.compile(rf"^rpe{_NUMBER}[@x](\d+)$")
_REPS_FIRST = re.compile(rf"^(\d+)@(?:rpe)?{_NUMBER}$")
_RECENT = re.compile(rf"^{_NUMBER}(kg|kgs|lb|lbs)[x×*](\d+)(?:@(?:rpe)?{_NUMBER})?$")


class Load(BaseModel):
    """A set's load as %1RM (0-110), with how that number was reached."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    percent_1rm: float
    method: LoadMethod
    derivation: str
    mass_kg: float | None = None
    one_rm_kg: float | None = None


def _squash(text: str) -> str:
    return "".join(str(text).lower().split())


def parse_mass_kg(text: str, what: str = "weight") -> float:
    """'140kg' / '300lb' -> kilograms."""
    match = _MASS.match(_squash(text))
    if match is None:
        raise TempoCoachError(f"{what} '{text}' not understood; use {MASS_FORMS}")
    value = float(match.group(1))
    kg = value * LB_TO_KG if match.group(2).startswith("lb") else value
    if kg <= 0:
        raise TempoCoachError(f"{what} '{text}' must be more than zero")
    return kg


def rpe_percent_1rm(rpe: float, reps: int, text: str = "") -> float:
    """%1RM for `reps` reps at `rpe` from the RTS chart (RPE 6-10 in halves, 1-12 reps)."""
    label = text or f"RPE{rpe:g}@{reps}"
    row = RPE_CHART.get(rpe) if float(rpe * 2).is_integer() else None
    if row is None:
        raise TempoCoachError(f"load '{label}': RPE must be 6 to 10 in steps of 0.5, as in RPE8@5")
    if not 1 <= reps <= len(row):
        raise TempoCoachError(f"load '{label}': the RPE chart covers 1-{len(row)} reps, got {reps}")
    return row[reps - 1]


def epley_one_rm_kg(mass_kg: float, reps: int) -> float:
    return mass_kg * (1.0 + reps / 30.0)


def brzycki_one_rm_kg(mass_kg: float, reps: int) -> float:
    return mass_kg * 36.0 / (37.0 - reps)


def estimate_one_rm(recent_set: str) -> tuple[float, str]:
    """1RM in kg from a set like '120kg x5' (Epley/Brzycki mean) or '120kg x5 @8' (RPE chart)."""
    match = _RECENT.match(_squash(recent_set))
    if match is None:
        raise TempoCoachError(f"recent set '{recent_set}' not understood; use {RECENT_FORMS}")
    mass_kg = parse_mass_kg(match.group(1) + match.group(2), "recent set weight")
    reps = int(match.group(3))
    if not 1 <= reps <= MAX_ESTIMATE_REPS:
        raise TempoCoachError(
            f"recent set '{recent_set}': 1RM estimates need 1-{MAX_ESTIMATE_REPS} reps, got {reps}"
        )
    if match.group(4) is not None:
        percent = rpe_percent_1rm(float(match.group(4)), reps, recent_set)
        one_rm_kg = mass_kg * 100.0 / percent
        rpe = match.group(4)
        return one_rm_kg, f"1RM {one_rm_kg:.1f} kg from {mass_kg:.1f} kg x{reps} at RPE {rpe} (RPE chart)"
    one_rm_kg = 0.5 * (epley_one_rm_kg(mass_kg, reps) + brzycki_one_rm_kg(mass_kg, reps))
    how = f"estimated from {mass_kg:.1f} kg x{reps} (mean of Epley and Brzycki)"
    return one_rm_kg, f"1RM {one_rm_kg:.1f} kg {how}"


def parse_load(text: str, one_rm: str | float | None = None, recent_set: str | None = None) -> Load:
    """Turn '70%', '100kg', '225lb' or 'RPE8@5' into a Load.

    one_rm: '140kg' / '300lb' or kilograms; recent_set: '120kg x5' (used when one_rm is absent).
    """
    key = _squash(text)
    if match := _PERCENT.match(key):
        percent = float(match.group(1))
        return Load(
            text=text.strip(),
            percent_1rm=_checked_percent(percent, text),
            method="percent",
            derivation=f"{percent:g}% of 1RM as given",
        )
    if (match := _RPE_FIRST.match(key)) or (match := _REPS_FIRST.match(key)):
        rpe_text, reps_text = (
            (match.group(1), match.group(2)) if key.startswith("rpe") else (match.group(2), match.group(1))
        )
        percent = rpe_percent_1rm(float(rpe_text), int(reps_text), text.strip())
        return Load(
            text=text.strip(),
            percent_1rm=percent,
            method="rpe_chart",
            derivation=f"{reps_text} reps at RPE {rpe_text} is {percent:g}% of 1RM (RTS RPE chart)",
        )
    if _MASS.match(key):
        return _load_from_mass(text, one_rm, recent_set)
    raise TempoCoachError(f"load '{text}' not understood; use {LOAD_FORMS}")


def _load_from_mass(text: str, one_rm: str | float | None, recent_set: str | None) -> Load:
    mass_kg = parse_mass_kg(text, "load")
    if one_rm is not None:
        one_rm_kg = float(one_rm) if isinstance(one_rm, int | float) else parse_mass_kg(one_rm, "1RM")
        if one_rm_kg <= 0:
            raise TempoCoachError(f"1RM '{one_rm}' must be more than zero")
        method: LoadMethod = "weight_with_1rm"
        source = f"1RM {one_rm_kg:.1f} kg as given"
    elif recent_set is not None:
        one_rm_kg, source = estimate_one_rm(recent_set)
        method = "weight_with_estimated_1rm"
    else:
        raise TempoCoachError(
            f"load '{text}' is a weight; add a 1RM (--one-rm 140kg) or a recent set (--recent '120kg x5')"
        )
    percent = 100.0 * mass_kg / one_rm_kg
    _checked_percent(percent, f"{text} with {source}")
    return Load(
        text=text.strip(),
        percent_1rm=percent,
        method=method,
        mass_kg=mass_kg,
        one_rm_kg=one_rm_kg,
        derivation=f"{mass_kg:.1f} kg is {percent:.0f}% of 1RM; {source}",
    )


def _checked_percent(percent: float, text: str) -> float:
    if not 0 < percent <= MAX_PERCENT_1RM:
        raise TempoCoachError(f"load '{text}': {percent:.0f}% of 1RM is outside 1-{MAX_PERCENT_1RM:g}%")
    return percent
