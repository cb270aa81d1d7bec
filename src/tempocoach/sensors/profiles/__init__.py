"""Sensor profiles, one module per device family, and the registry the BLE client uses.

profile = profile_for("polar-h10")           # by family id (command line: --sensor polar-h10)
cls = identify("Polar Sense 99AABBCC", [])   # by what a scan shows -> PolarVeritySenseProfile
"""

from __future__ import annotations

from tempocoach.errors import DeviceError
from tempocoach.sensors.profiles.base import (
    CharSpec,
    Decoder,
    DecodeStats,
    Encoder,
    GattWrite,
    SensorProfile,
    ServiceSpec,
)
from tempocoach.sensors.profiles.metawear import MetaWearProfile
from tempocoach.sensors.profiles.movesense import MovesenseProfile
from tempocoach.sensors.profiles.polar import PolarH10Profile, PolarVeritySenseProfile
from tempocoach.sensors.profiles.tempocoach_open import TempocoachOpenProfile
from tempocoach.sensors.profiles.thingy import ThingyProfile
from tempocoach.sensors.profiles.witmotion import WitMotionProfile

# Order matters for identify(): specific name/service matches first, loose name prefixes last.
PROFILES: dict[str, type[SensorProfile]] = {
    cls.family: cls
    for cls in (
        TempocoachOpenProfile,
        PolarVeritySenseProfile,
        PolarH10Profile,
        MovesenseProfile,
        MetaWearProfile,
        ThingyProfile,
        WitMotionProfile,
    )
}


def profile_for(family: str) -> SensorProfile:
    """A fresh profile instance (one per connection) for a family id such as "witmotion"."""
    cls = PROFILES.get(family.strip().lower())
    if cls is None:
        known = ", ".join(sorted(PROFILES))
        raise DeviceError(f"unknown sensor family '{family}'; choose one of: {known}")
    return cls()


def identify(name: str | None, service_uuids: list[str]) -> type[SensorProfile] | None:
    """The profile class for a scanned device (advertised name and service UUIDs), or None."""
    for cls in PROFILES.values():
        if cls.recognises(name, service_uuids):
            return cls
    return None


__all__ = [
    "PROFILES",
    "CharSpec",
    "DecodeStats",
    "Decoder",
    "Encoder",
    "GattWrite",
    "SensorProfile",
    "ServiceSpec",
    "identify",
    "profile_for",
]
