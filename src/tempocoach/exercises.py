"""The exercise catalogue: what each lift looks like to a bar or wrist sensor.

Data lives in exercises.toml (package data); this module validates it with pydantic and resolves
names and aliases. An unknown name is an error that lists the closest matches.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tempocoach.errors import CatalogError
from tempocoach.events import CONCENTRIC_FIRST, ECCENTRIC_FIRST, Phase

Placement = Literal["bar", "wrist"]
MotionKind = Literal["translation", "rotation"]


class Exercise(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    kind: Literal["compound", "isolation"]
    equipment: Literal["barbell", "dumbbell", "cable", "machine", "bodyweight"]
    starts_with: Literal["eccentric", "concentric"]
    concentric: Literal["up", "down", "horizontal"]
    motion: dict[Placement, MotionKind] = Field(min_length=1)
    muscles: tuple[str, ...] = Field(min_length=1)
    rom_m: float | None = Field(default=None, gt=0, le=2.0)
    rom_rad: float | None = Field(default=None, gt=0, le=3.5)

    @model_validator(mode="after")
    def _has_range_for_its_motion(self) -> Exercise:
        kinds = set(self.motion.values())
        if "translation" in kinds and self.rom_m is None:
            raise ValueError("a translation lift needs rom_m")
        if "rotation" in kinds and self.rom_rad is None:
            raise ValueError("a rotation lift needs rom_rad")
        return self

    @property
    def phase_order(self) -> tuple[Phase, ...]:
        return ECCENTRIC_FIRST if self.starts_with == "eccentric" else CONCENTRIC_FIRST

    @property
    def is_compound(self) -> bool:
        return self.kind == "compound"

    def motion_for(self, placement: str) -> MotionKind:
        """The motion a sensor at `placement` sees; an error if it cannot see this lift."""
        if placement not in ("bar", "wrist"):
            raise CatalogError(f"placement '{placement}': use 'bar' or 'wrist'")
        if placement not in self.motion:
            where = " or ".join(self.motion)
            raise CatalogError(
                f"{self.id}: a {placement} sensor does not move with this lift; mount it on the {where}"
            )
        return self.motion[placement]

    def default_placement(self) -> Placement:
        return "bar" if "bar" in self.motion else "wrist"


class Catalog:
    """Exercises by id, with aliases and fuzzy suggestions."""

    def __init__(self, exercises: list[Exercise]) -> None:
        self._by_id = {e.id: e for e in exercises}
        self._by_key: dict[str, Exercise] = {}
        for e in exercises:
            for key in (e.id, e.name, *e.aliases):
                self._by_key[_key(key)] = e

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, name: str) -> Exercise:
        found = self._by_key.get(_key(name))
        if found is not None:
            return found
        close = difflib.get_close_matches(_key(name), list(self._by_key), n=4, cutoff=0.5)
        ids = list(dict.fromkeys(self._by_key[c].id for c in close))
        hint = f"closest: {', '.join(ids)}" if ids else "run 'tempocoach exercises' for the list"
        raise CatalogError(f"unknown exercise '{name}'; {hint}")


def _key(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").replace("_", " ").split())


def parse_catalog(text: str, source: str) -> Catalog:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: {exc}") from exc
    exercises = []
    for ex_id, fields in raw.items():
        try:
            exercises.append(Exercise(id=ex_id, **fields))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(table)"
            raise CatalogError(f"{source}: [{ex_id}] {where}: {err['msg']}") from exc
    return Catalog(exercises)


@cache
def catalog() -> Catalog:
    """The shipped catalogue (loaded once)."""
    text = resources.files("tempocoach").joinpath("exercises.toml").read_text(encoding="utf-8")
    return parse_catalog(text, "exercises.toml")


def get_exercise(name: str) -> Exercise:
    return catalog().get(name)
