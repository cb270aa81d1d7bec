"""Training protocols: what to lift, how many, how fast, how heavy, and how long to rest.

A protocol is a TOML file (shipped ones in tempocoach/protocols/, the user's own in
`config.user_protocols_dir()`): blocks of set plans, or weeks of blocks for a multi-week program.
Validation errors name the file, the field path and what is allowed, on one line.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tempocoach.coach.load import rpe_percent_1rm
from tempocoach.config import user_protocols_dir
from tempocoach.errors import CatalogError, TempoCoachError
from tempocoach.exercises import get_exercise
from tempocoach.tempo import parse_tempo

SetKind = Literal["tempo", "paused", "isometric", "pre-activation", "flex"]
TIMED_KINDS: frozenset[str] = frozenset({"isometric", "pre-activation", "flex"})
FocusMode = Literal["internal", "external", "mixed"]

# Words a coach uses for intensity, with the %1RM they are taken to mean.
LOAD_WORDS: dict[str, float] = {
    "very light": 40.0,
    "light": 50.0,
    "moderate": 65.0,
    "moderate-high": 75.0,
    "high": 85.0,
    "heavy": 85.0,
}
_LOAD_FORMS = "70%, 100kg, RPE8@5, bodyweight or " + ", ".join(LOAD_WORDS)
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*%\s*(?:1\s*rm)?$")
_KG = re.compile(r"^(\d+(?:\.\d+)?)\s*kg$")
_RPE = re.compile(r"^rpe\s*(\d+(?:\.\d+)?)(?:\s*@\s*(\d+))?$")


class Load(BaseModel):
    """How heavy: a share of one-rep max, a weight, an effort (RPE at reps) or bodyweight.

    RPE is turned into %1RM with the coach's RPE chart (tempocoach.coach.load); words such as
    "light" or "moderate-high" stand for the %1RM in LOAD_WORDS.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    percent_1rm: float | None = None
    kg: float | None = None
    rpe: float | None = None
    rpe_reps: int | None = None
    bodyweight: bool = False

    @staticmethod
    def parse(text: str) -> Load:
        key = " ".join(str(text).strip().lower().split())
        if key in LOAD_WORDS:
            return Load(text=key, percent_1rm=LOAD_WORDS[key])
        if key in ("bodyweight", "bw"):
            return Load(text="bodyweight", bodyweight=True)
        if m := _PERCENT.match(key):
            pct = float(m.group(1))
            if not 0 < pct <= 110:
                raise ValueError(f"load '{text}': percent of 1RM must be in (0, 110]")
            return Load(text=f"{pct:g}%", percent_1rm=pct)
        if m := _KG.match(key):
            return Load(text=f"{float(m.group(1)):g}kg", kg=float(m.group(1)))
        if m := _RPE.match(key):
            rpe, reps = float(m.group(1)), int(m.group(2) or 1)
            try:
                percent = rpe_percent_1rm(rpe, reps, text.strip())  # checks the chart's range
            except TempoCoachError as exc:
                raise ValueError(str(exc)) from None
            return Load(text=f"RPE{rpe:g}@{reps}", percent_1rm=percent, rpe=rpe, rpe_reps=reps)
        raise ValueError(f"load '{text}' not understood; use {_LOAD_FORMS}")

    def estimate_percent_1rm(self, one_rm_kg: float | None = None) -> float | None:
        """Best guess of %1RM (for the focus policy); None when it cannot be known."""
        if self.percent_1rm is not None:
            return self.percent_1rm
        if self.kg is not None and one_rm_kg:
            return 100.0 * self.kg / one_rm_kg
        return None

    def __str__(self) -> str:
        return self.text


class SetPlan(BaseModel):
    """One prescribed exercise: `sets` sets of `reps` reps (or a `duration_s` hold) at a tempo."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exercise: str
    kind: SetKind = "tempo"
    tempo: str | None = None
    reps: int | None = Field(default=None, ge=1, le=200)
    duration_s: float | None = Field(default=None, ge=1, le=600)
    sets: int = Field(default=1, ge=1, le=20)
    load: Load | None = None
    rest_s: float = Field(default=90.0, ge=0, le=900)
    focus: FocusMode | None = None
    placement: Literal["bar", "wrist"] | None = None
    cue: str | None = None
    notes: str = ""

    @field_validator("exercise")
    @classmethod
    def _known_exercise(cls, name: str) -> str:
        try:
            return get_exercise(name).id
        except CatalogError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("tempo", mode="before")
    @classmethod
    def _valid_tempo(cls, code: object) -> object:
        if code is None:
            return None
        try:
            return str(parse_tempo(str(code)))
        except TempoCoachError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("load", mode="before")
    @classmethod
    def _parse_load(cls, value: object) -> object:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return Load.parse(str(value))
        return value

    @model_validator(mode="after")
    def _reps_or_time(self) -> SetPlan:
        if self.kind in TIMED_KINDS:
            if self.duration_s is None or self.reps is not None:
                raise ValueError(f"a {self.kind} set is timed: give duration_s (seconds), not reps")
        else:
            if self.reps is None or self.duration_s is not None:
                raise ValueError(f"a {self.kind} set counts reps: give reps, not duration_s")
            if self.tempo is None:
                raise ValueError(f"a {self.kind} set needs a tempo code like 31X0")
        if self.kind == "paused" and self.tempo is not None:
            code = parse_tempo(self.tempo)
            if not (code.bottom_pause_s or code.top_pause_s):
                raise ValueError(f"a paused set needs a pause in its tempo; '{self.tempo}' has none")
        return self

    @property
    def is_timed(self) -> bool:
        return self.kind in TIMED_KINDS

    def placement_for(self) -> str:
        return self.placement or get_exercise(self.exercise).default_placement()


class Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    sets: list[SetPlan] = Field(min_length=1)
    notes: str = ""


class Week(BaseModel):
    """One stage of a multi-week program: its blocks are the session for `repeat` weeks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    repeat: int = Field(default=1, ge=1, le=12)
    blocks: list[Block] = Field(min_length=1)
    notes: str = ""


@dataclass(frozen=True)
class PlannedSet:
    """One set to perform, with where it sits in the session (position is 0-based)."""

    position: int
    block: str
    set_number: int
    of_sets: int
    plan: SetPlan


class Protocol(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    description: str
    blocks: list[Block] = Field(default_factory=list)
    weeks: list[Week] = Field(default_factory=list)

    @model_validator(mode="after")
    def _blocks_or_weeks(self) -> Protocol:
        if bool(self.blocks) == bool(self.weeks):
            raise ValueError("give either [[blocks]] (one session) or [[weeks]] (a program), not both")
        return self

    @property
    def total_weeks(self) -> int:
        return sum(w.repeat for w in self.weeks) if self.weeks else 1

    def week_for(self, week: int) -> Week | None:
        """The stage that calendar week `week` (1-based) falls in; None for single-session protocols."""
        if not self.weeks:
            return None
        if not 1 <= week <= self.total_weeks:
            raise CatalogError(f"protocol '{self.id}': week {week} out of range; it has 1-{self.total_weeks}")
        for stage in self.weeks:
            if week <= stage.repeat:
                return stage
            week -= stage.repeat
        raise AssertionError("unreachable")

    def planned_sets(self, week: int = 1) -> list[PlannedSet]:
        stage = self.week_for(week)
        blocks = stage.blocks if stage is not None else self.blocks
        planned: list[PlannedSet] = []
        for block in blocks:
            for set_plan in block.sets:
                for number in range(1, set_plan.sets + 1):
                    planned.append(PlannedSet(len(planned), block.name, number, set_plan.sets, set_plan))
        return planned


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


_OWNERS: dict[str, type[BaseModel]] = {"blocks": Block, "weeks": Week, "sets": SetPlan}


def _allowed_fields(loc: tuple[int | str, ...]) -> str:
    owner: type[BaseModel] = Protocol
    for part in loc[:-1]:
        if isinstance(part, str):
            owner = _OWNERS.get(part, owner)
    return ", ".join(owner.model_fields)


def _one_line(err: Any) -> str:
    loc = tuple(err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown field; allowed: {_allowed_fields(loc)}"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return f"{_field_path(loc)}: {msg}"


def parse_protocol(text: str, source: str, protocol_id: str) -> Protocol:
    """Validate a protocol's TOML text; `source` names the file in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML ({exc})") from None
    raw.setdefault("id", protocol_id)
    try:
        return Protocol.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{source}: {_one_line(exc.errors()[0])}") from None


def load_protocol_file(path: Path) -> Protocol:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read protocol ({exc.strerror})") from None
    return parse_protocol(text, str(path), path.stem)


@dataclass(frozen=True)
class ProtocolEntry:
    """A protocol file found on disk: origin is 'shipped' or 'user'; error set if it is invalid."""

    id: str
    origin: str
    path: str
    protocol: Protocol | None
    error: str | None = None


def _shipped_files() -> list[tuple[str, str, str]]:
    folder = resources.files("tempocoach").joinpath("protocols")
    found = [(f.name[:-5], str(f), f.read_text(encoding="utf-8")) for f in folder.iterdir()
             if f.name.endswith(".toml")]
    return sorted(found)


def list_protocols() -> list[ProtocolEntry]:
    """Shipped and user protocols side by side (user ones after, same id allowed in both)."""
    entries: list[ProtocolEntry] = []
    sources = [("shipped", f) for f in _shipped_files()]
    user_dir = user_protocols_dir()
    if user_dir.is_dir():
        sources += [("user", (p.stem, str(p), p.read_text(encoding="utf-8")))
                    for p in sorted(user_dir.glob("*.toml"))]
    for origin, (pid, path, text) in sources:
        try:
            entries.append(ProtocolEntry(pid, origin, path, parse_protocol(text, path, pid)))
        except CatalogError as exc:
            entries.append(ProtocolEntry(pid, origin, path, None, str(exc)))
    return entries


def find_protocol(name: str) -> Protocol:
    """A protocol by file path, or by id/name (a user protocol wins over a shipped one of the same id)."""
    as_path = Path(name).expanduser()
    if name.endswith(".toml") or as_path.is_file():
        return load_protocol_file(as_path)
    entries = sorted(list_protocols(), key=lambda e: e.origin != "user")
    key = name.strip().lower()
    for entry in entries:
        named = entry.protocol.name.lower() if entry.protocol else ""
        if key in (entry.id.lower(), named):
            if entry.protocol is None:
                raise CatalogError(str(entry.error))
            return entry.protocol
    close = difflib.get_close_matches(key, [e.id for e in entries], n=3, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else "run 'tempocoach protocols list'"
    raise CatalogError(f"unknown protocol '{name}'; {hint}")


def check_week(protocol: Protocol, week: int) -> None:
    if week != 1 and not protocol.weeks:
        raise CatalogError(f"protocol '{protocol.id}' is a single session; drop --week")


def describe(planned: Sequence[PlannedSet]) -> list[str]:
    """One line per planned set (protocols show, dry runs)."""
    lines = []
    for p in planned:
        plan = p.plan
        amount = f"{plan.duration_s:g} s hold" if plan.is_timed else f"{plan.reps} reps @ {plan.tempo}"
        load = f", {plan.load.text}" if plan.load else ""
        lines.append(f"{p.position + 1:>2}. [{p.block}] {plan.exercise} {p.set_number}/{p.of_sets}:"
                     f" {amount}{load}, rest {plan.rest_s:g} s ({plan.kind})")
    return lines
