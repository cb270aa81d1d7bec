"""Internal or external focus, per phase, from load, exercise type and experience.

The rules follow DESIGN.md "The science the coach follows":
- light loads (<= 60% 1RM): internal focus raises target-muscle activation (Calatayud 2016);
- heavy loads (>= 80%): that advantage vanishes or reverses and external focus gives more force;
- in between, mix: internal on the eccentric and pauses, external on the concentric;
- isolation lifts favour internal focus: they move one band towards internal;
- beginners learn the movement pattern first, so compounds get external cues throughout.
Overrides (per phase) win over everything. Every decision carries its reason in one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tempocoach.coach.load import Load
from tempocoach.errors import TempoCoachError
from tempocoach.events import Phase
from tempocoach.exercises import Exercise, get_exercise


class FocusKind(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Experience(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


@dataclass(frozen=True)
class FocusSettings:
    """Where the load bands start and which adjustments apply (percent of 1RM)."""

    internal_max_percent: float = 60.0
    external_min_percent: float = 80.0
    isolation_favours_internal: bool = True
    beginner_external_on_compounds: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.internal_max_percent <= self.external_min_percent:
            raise TempoCoachError(
                f"focus settings: internal_max_percent ({self.internal_max_percent}) must be positive and "
                f"not above external_min_percent ({self.external_min_percent})"
            )


@dataclass(frozen=True)
class Focus:
    kind: FocusKind
    reason: str


@dataclass(frozen=True)
class FocusPlan:
    """The focus for each of the four phases, and the inputs it was decided from."""

    exercise_id: str
    percent_1rm: float | None
    experience: Experience
    by_phase: Mapping[Phase, Focus]

    def for_phase(self, phase: Phase) -> Focus:
        return self.by_phase[phase]

    def explain(self) -> str:
        load = "load unknown" if self.percent_1rm is None else f"{self.percent_1rm:.0f}% 1RM"
        lines = [f"{self.exercise_id}, {load}, {self.experience.value} lifter:"]
        for phase in Phase:
            focus = self.by_phase[phase]
            lines.append(f"  {phase.value:<12} {focus.kind.value:<8} {focus.reason}")
        return "\n".join(lines)


_BANDS = ("light", "moderate", "heavy")
_PAUSES = (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE)


def _band(percent: float | None, settings: FocusSettings) -> str:
    if percent is None:
        return "moderate"
    if percent <= settings.internal_max_percent:
        return "light"
    if percent >= settings.external_min_percent:
        return "heavy"
    return "moderate"


def _band_focus(band: str, phase: Phase) -> FocusKind:
    if band == "light":
        return FocusKind.INTERNAL
    if band == "heavy":
        return FocusKind.EXTERNAL
    return FocusKind.EXTERNAL if phase is Phase.CONCENTRIC else FocusKind.INTERNAL


def _band_reason(band: str, phase: Phase, load_text: str, settings: FocusSettings) -> str:
    if band == "light":
        limit = f"<= {settings.internal_max_percent:g}%"
        return f"light load ({load_text} {limit}): internal focus raises muscle activation"
    if band == "heavy":
        limit = f">= {settings.external_min_percent:g}%"
        return f"heavy load ({load_text} {limit}): external focus gives more force"
    if phase is Phase.CONCENTRIC:
        return f"moderate load ({load_text}): external focus on the concentric for force"
    where = phase.value.replace("_", " ")
    return f"moderate load ({load_text}): internal focus on the {where} for the muscle"


def _percent_of(load: Load | float | None) -> float | None:
    return load.percent_1rm if isinstance(load, Load) else (None if load is None else float(load))


def decide_focus(
    load: Load | float | None,
    exercise: Exercise | str,
    experience: Experience | str = Experience.INTERMEDIATE,
    overrides: Mapping[Phase | str, FocusKind | str] | None = None,
    settings: FocusSettings | None = None,
) -> FocusPlan:
    """Decide internal/external focus per phase; `load` is a Load, a %1RM number or None (unknown)."""
    settings = settings or FocusSettings()
    ex = exercise if isinstance(exercise, Exercise) else get_exercise(exercise)
    level = _experience(experience)
    percent = _percent_of(load)
    band = _band(percent, settings)
    load_text = "load unknown, assumed" if percent is None else f"{percent:.0f}%"
    chosen = _overrides(overrides)
    by_phase: dict[Phase, Focus] = {}
    for phase in Phase:
        if phase in chosen:
            by_phase[phase] = Focus(chosen[phase], f"override: {chosen[phase].value} focus asked for")
        elif level is Experience.BEGINNER and ex.is_compound and settings.beginner_external_on_compounds:
            by_phase[phase] = Focus(
                FocusKind.EXTERNAL, "beginner on a compound: external cues teach the movement pattern first"
            )
        elif not ex.is_compound and settings.isolation_favours_internal:
            by_phase[phase] = _isolation_focus(band, phase, load_text, settings)
        else:
            by_phase[phase] = Focus(_band_focus(band, phase), _band_reason(band, phase, load_text, settings))
    return FocusPlan(exercise_id=ex.id, percent_1rm=percent, experience=level, by_phase=by_phase)


def _isolation_focus(band: str, phase: Phase, load_text: str, settings: FocusSettings) -> Focus:
    """Isolation lifts move one band towards internal: moderate is all internal, heavy is mixed."""
    shifted = {"light": "light", "moderate": "light", "heavy": "moderate"}[band]
    kind = _band_focus(shifted, phase)
    if band == "light":
        return Focus(kind, _band_reason(band, phase, load_text, settings))
    where = f"isolation lift at {band} load ({load_text})"
    if kind is FocusKind.INTERNAL:
        return Focus(kind, f"{where}: internal focus on the target muscle")
    return Focus(kind, f"{where}: external focus on the concentric for force")


def _experience(value: Experience | str) -> Experience:
    try:
        return Experience(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in Experience)
        raise TempoCoachError(f"experience '{value}' not understood; use {allowed}") from None


def _overrides(raw: Mapping[Phase | str, FocusKind | str] | None) -> dict[Phase, FocusKind]:
    chosen: dict[Phase, FocusKind] = {}
    for key, value in (raw or {}).items():
        try:
            phases = _PAUSES if str(key) == "pause" else (Phase(str(key)),)
            kind = FocusKind(str(value))
        except ValueError:
            raise TempoCoachError(
                f"focus override '{key}={value}': phase must be one of "
                f"{', '.join(p.value for p in Phase)} or pause, focus internal or external"
            ) from None
        for phase in phases:
            chosen[phase] = kind
    return chosen
