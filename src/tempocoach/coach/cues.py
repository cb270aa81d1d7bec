"""The cue library (cues.toml): loaded once, validated with pydantic, looked up by exercise and phase.

Validation at load, each error naming the key: every catalogued exercise has internal and external
cues, no unknown exercise ids, in-set cues at most MAX_IN_SET_WORDS words, templates well formed.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from tempocoach.coach.focus import FocusKind
from tempocoach.errors import CatalogError
from tempocoach.events import Phase
from tempocoach.exercises import Exercise, catalog

MAX_IN_SET_WORDS = 6
Direction = Literal["up", "down", "horizontal"]
Deviation = Literal["fast", "slow", "short", "long"]
CallKey = Literal["eccentric", "bottom_pause", "concentric", "explosive", "top_pause"]


def word_count(text: str) -> int:
    return len(text.split())


def _short(text: str) -> str:
    if not text.strip():
        raise ValueError("cue is empty")
    if word_count(text) > MAX_IN_SET_WORDS:
        words = word_count(text)
        raise ValueError(f"'{text}' has {words} words; in-set cues have at most {MAX_IN_SET_WORDS}")
    return text.strip()


InSetCue = Annotated[str, AfterValidator(_short)]


def _template(*allowed: str) -> AfterValidator:
    def check(text: str) -> str:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        unknown = fields - set(allowed)
        if unknown:
            raise ValueError(f"'{text}' uses unknown field(s) {sorted(unknown)}; allowed: {list(allowed)}")
        return text

    return AfterValidator(check)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PhaseCalls(_Strict):
    eccentric: InSetCue
    bottom_pause: InSetCue
    concentric: InSetCue
    explosive: InSetCue
    top_pause: InSetCue

    def call(self, phase: Phase, explosive: bool = False) -> str:
        if phase is Phase.CONCENTRIC and explosive:
            return self.explosive
        return str(getattr(self, phase.value))


class Corrections(_Strict):
    eccentric_fast: InSetCue
    eccentric_slow: InSetCue
    bottom_pause_short: InSetCue
    bottom_pause_long: InSetCue
    concentric_fast: InSetCue
    concentric_slow: InSetCue
    top_pause_short: InSetCue
    top_pause_long: InSetCue


class FocusCues(_Strict):
    eccentric: list[InSetCue] = Field(min_length=1)
    concentric: list[InSetCue] = Field(min_length=1)
    pause: list[InSetCue] = Field(default_factory=list)

    def for_phase(self, phase: Phase) -> list[str]:
        if phase is Phase.ECCENTRIC:
            return self.eccentric
        if phase is Phase.CONCENTRIC:
            return self.concentric
        return self.pause or self.eccentric


class ExerciseCues(_Strict):
    internal: FocusCues
    external: FocusCues
    calls: dict[CallKey, InSetCue] = Field(default_factory=dict)
    corrections: dict[str, InSetCue] = Field(default_factory=dict)


StartLine = Annotated[str, _template("exercise", "reps", "tempo")]
OpenLine = Annotated[str, _template("exercise", "tempo")]


class Lines(_Strict):
    start: list[StartLine] = Field(min_length=1)
    start_open: list[OpenLine] = Field(min_length=1)
    end: list[str] = Field(min_length=1)


class SummaryTemplates(_Strict):
    reps: Annotated[str, _template("reps")]
    one_rep: str
    tempo_good: str
    tempo_mixed: str
    tempo_poor: str
    fix: Annotated[str, _template("fix")]
    no_fix: str
    no_reps: str


class CueLibrary(_Strict):
    counts: list[InSetCue] = Field(min_length=10)
    calls: dict[Direction, PhaseCalls]
    corrections: dict[Direction, Corrections]
    lines: Lines
    summary: SummaryTemplates
    exercise: dict[str, ExerciseCues]

    def calls_for(self, exercise: Exercise) -> PhaseCalls:
        base = self.calls[exercise.concentric]
        overrides = self._cues(exercise).calls
        return base.model_copy(update={str(k): v for k, v in overrides.items()}) if overrides else base

    def correction(self, exercise: Exercise, phase: Phase, deviation: Deviation) -> str:
        key = f"{phase.value}_{deviation}"
        override = self._cues(exercise).corrections.get(key)
        return override or str(getattr(self.corrections[exercise.concentric], key))

    def all_corrections(self, exercise: Exercise) -> set[str]:
        base = self.corrections[exercise.concentric].model_dump()
        base.update(self._cues(exercise).corrections)
        return {str(v) for v in base.values()}

    def focus_cues(self, exercise: Exercise, kind: FocusKind, phase: Phase) -> list[str]:
        cues = self._cues(exercise)
        return (cues.internal if kind is FocusKind.INTERNAL else cues.external).for_phase(phase)

    def count(self, number: int) -> str | None:
        """The spoken word for `number` (1-based), None past the end of the list."""
        return self.counts[number - 1] if 1 <= number <= len(self.counts) else None

    def _cues(self, exercise: Exercise) -> ExerciseCues:
        found = self.exercise.get(exercise.id)
        if found is None:
            raise CatalogError(f"cues.toml: no [exercise.{exercise.id}] cues; add internal and external cues")
        return found


_CORRECTION_KEYS = set(Corrections.model_fields)


def parse_cues(text: str, source: str, exercise_ids: Iterable[str]) -> CueLibrary:
    """Parse and validate a cue library against the given catalogue ids."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: {exc}") from exc
    try:
        library = CueLibrary.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise CatalogError(f"{source}: {key}: {err['msg']}") from exc
    _check_coverage(library, list(exercise_ids), source)
    return library


def _check_coverage(library: CueLibrary, ids: list[str], source: str) -> None:
    unknown = sorted(set(library.exercise) - set(ids))
    if unknown:
        raise CatalogError(
            f"{source}: exercise.{unknown[0]}: not in the exercise catalogue; fix the id or remove it"
        )
    missing = [i for i in ids if i not in library.exercise]
    if missing:
        raise CatalogError(
            f"{source}: exercise.{missing[0]}: catalogued exercise has no cues; "
            f"add [exercise.{missing[0]}.internal] and [exercise.{missing[0]}.external]"
        )
    for ex_id, cues in library.exercise.items():
        bad = sorted(set(cues.corrections) - _CORRECTION_KEYS)
        if bad:
            raise CatalogError(
                f"{source}: exercise.{ex_id}.corrections.{bad[0]}: unknown key; use one of "
                f"{', '.join(sorted(_CORRECTION_KEYS))}"
            )


@cache
def cue_library() -> CueLibrary:
    """The shipped library, validated against the shipped catalogue (loaded once)."""
    text = resources.files("tempocoach.coach").joinpath("cues.toml").read_text(encoding="utf-8")
    return parse_cues(text, "cues.toml", catalog().ids)
