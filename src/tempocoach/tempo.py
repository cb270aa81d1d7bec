"""Tempo codes: "31X0", "4-0-4-0", "(10)0X0", "3/1/X/0".

Four fields in the fixed order eccentric, bottom pause, concentric, top pause. A digit is seconds,
X means "as fast as possible", (NN) is a two-digit field. Separators -, /, :, and space split fields
explicitly, in which case a field may also be a multi-digit number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tempocoach.errors import TempoCodeError
from tempocoach.events import Phase

# What an explosive ("X") phase is taken to last when a nominal rep duration is needed.
EXPLOSIVE_NOMINAL_S = 0.6

_SEPARATORS = re.compile(r"[-/: ]+")
_FIELD_NAMES = ("eccentric", "bottom pause", "concentric", "top pause")


@dataclass(frozen=True)
class TempoCode:
    """Per-phase targets in seconds; None marks an explosive (X) phase."""

    eccentric_s: float | None
    bottom_pause_s: float | None
    concentric_s: float | None
    top_pause_s: float | None

    @staticmethod
    def parse(code: str) -> TempoCode:
        return parse_tempo(code)

    def target_s(self, phase: Phase) -> float | None:
        return {
            Phase.ECCENTRIC: self.eccentric_s,
            Phase.BOTTOM_PAUSE: self.bottom_pause_s,
            Phase.CONCENTRIC: self.concentric_s,
            Phase.TOP_PAUSE: self.top_pause_s,
        }[phase]

    def is_explosive(self, phase: Phase) -> bool:
        return self.target_s(phase) is None

    def nominal_s(self, phase: Phase) -> float:
        """Target seconds, with X counted as EXPLOSIVE_NOMINAL_S."""
        target = self.target_s(phase)
        return EXPLOSIVE_NOMINAL_S if target is None else target

    @property
    def rep_duration_s(self) -> float:
        """Nominal length of one rep, all four phases."""
        return sum(self.nominal_s(p) for p in Phase)

    def __str__(self) -> str:
        return "".join(_format_field(self.target_s(p)) for p in Phase)


def _format_field(seconds: float | None) -> str:
    if seconds is None:
        return "X"
    whole = round(seconds)
    if abs(seconds - whole) > 1e-9:
        return f"({seconds:g})"
    return str(whole) if whole < 10 else f"({whole})"


def _field_value(text: str, code: str, position: int) -> float | None:
    if text.upper() == "X":
        return None
    if text.isdigit():
        return float(text)
    bad = next((c for c in text if not (c.isdigit() or c in "xX")), text[0])
    raise TempoCodeError(
        f"tempo '{code}': '{bad}' at position {position} is not a digit, X or (NN)"
    )


def parse_tempo(code: str) -> TempoCode:
    """Parse any accepted tempo form; errors name the offending character and its 1-based position."""
    text = code.strip()
    if not text:
        raise TempoCodeError("tempo '': empty; give four fields like 31X0 or 3-1-X-0")
    fields = _split_separated(text, code) if _SEPARATORS.search(text) else _split_compact(text, code)
    if len(fields) != 4:
        raise TempoCodeError(
            f"tempo '{code}': needs 4 fields ({', '.join(_FIELD_NAMES)}), got {len(fields)}"
        )
    ecc, bottom, con, top = fields
    return TempoCode(ecc, bottom, con, top)


def _split_separated(text: str, code: str) -> list[float | None]:
    fields: list[float | None] = []
    for match in re.finditer(r"[^-/: ]+", text):
        raw = match.group()
        position = match.start() + 1
        if raw.startswith("(") and raw.endswith(")") and len(raw) > 2:
            raw, position = raw[1:-1], position + 1
        fields.append(_field_value(raw, code, position))
    return fields


def _split_compact(text: str, code: str) -> list[float | None]:
    fields: list[float | None] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "(":
            close = text.find(")", i)
            inner = text[i + 1 : close] if close > 0 else ""
            if close < 0 or not inner.isdigit():
                raise TempoCodeError(
                    f"tempo '{code}': '(' at position {i + 1} must enclose a number, as in (10)0X0"
                )
            fields.append(float(inner))
            i = close + 1
            continue
        fields.append(_field_value(char, code, i + 1))
        i += 1
    return fields
