"""Where tempocoach keeps the user's files, and the small user config (output latency, voice).

Everything lives under platformdirs' per-user directories, or under $TEMPOCOACH_HOME when set (tests
and demos point it at a temporary directory so nothing leaks into the real home).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

from tempocoach.errors import TempoCoachError

APP = "tempocoach"


def _base(kind: str) -> Path:
    home = os.environ.get("TEMPOCOACH_HOME")
    if home:
        return Path(home) / kind
    return Path(
        {
            "config": platformdirs.user_config_dir(APP),
            "data": platformdirs.user_data_dir(APP),
            "cache": platformdirs.user_cache_dir(APP),
        }[kind]
    )


def config_dir() -> Path:
    return _base("config")


def data_dir() -> Path:
    return _base("data")


def cache_dir() -> Path:
    return _base("cache")


def user_protocols_dir() -> Path:
    return config_dir() / "protocols"


def logbook_path() -> Path:
    return data_dir() / "logbook.sqlite3"


@dataclass
class UserConfig:
    output_latency_s: float = 0.0
    voice: str = "en-us"
    speech_rate_wpm: int = 170
    volume: float = 1.0

    @staticmethod
    def path() -> Path:
        return config_dir() / "config.json"

    @classmethod
    def load(cls) -> UserConfig:
        path = cls.path()
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
            return cls(**known)
        except (ValueError, TypeError) as exc:
            raise TempoCoachError(f"{path}: not a valid tempocoach config ({exc}); fix or delete it") from exc

    def save(self) -> Path:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)
        return path
