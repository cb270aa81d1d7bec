"""The contract every sensor profile module implements (one module per device family).

A profile holds both sides of one wire format, like bumble's profiles: the client side
(`recognises`, `start_writes`, `stop_writes`, `Decoder`) used by sensors/ble.py against a real or
emulated device, and the device side (`Encoder`, `handle_write`) used by sensors/emulator.py to serve
simulated samples as that vendor's GATT peripheral. Round-trip tests pair the two.

Units are converted to SI in exactly one place: the profile's Decoder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from tempocoach.sensors.base import ImuBatch


@dataclass(frozen=True)
class GattWrite:
    """One write the client sends to configure, start or stop the device."""

    char_uuid: str
    data: bytes
    response: bool = True
    pause_after_s: float = 0.0  # the device needs this long before the next write (WitMotion unlock)


@dataclass(frozen=True)
class CharSpec:
    """One characteristic the emulated peripheral exposes."""

    uuid: str
    properties: tuple[str, ...]  # "read", "write", "write-without-response", "notify", "indicate"
    initial_value: bytes = b""


@dataclass(frozen=True)
class ServiceSpec:
    uuid: str
    characteristics: tuple[CharSpec, ...]


@dataclass
class DecodeStats:
    """What the decoder dropped and why; a live session reports these instead of crashing."""

    packets: int = 0
    samples: int = 0
    malformed: int = 0
    lost_samples: int = 0
    notes: list[str] = field(default_factory=list)

    MAX_NOTES = 50

    def note(self, text: str) -> None:
        """Record something the user should hear about once (a refused command, a dropped repeat);
        repeats and anything past MAX_NOTES are not kept, so a long session stays bounded."""
        if text not in self.notes and len(self.notes) < self.MAX_NOTES:
            self.notes.append(text)


class Decoder(ABC):
    """Client side: bytes from a notification -> ImuBatch in SI units, timestamps on the device clock
    (or reconstructed from arrival times and the nominal rate where the device sends none).

    Never raises on bad bytes: a malformed packet is counted in `stats` and yields None.
    """

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.stats = DecodeStats()
        self._pending_writes: list[GattWrite] = []

    @abstractmethod
    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None: ...

    def take_writes(self) -> list[GattWrite]:
        """Writes the device's answers call for (MetaWear: configure once the chip is known).

        The client calls this after every decode() and sends what it returns, in order; the list is
        then empty until the decoder learns something new. Most profiles never queue anything.
        """
        writes, self._pending_writes = self._pending_writes, []
        return writes

    def queue_write(self, write: GattWrite) -> None:
        self._pending_writes.append(write)


class Encoder(ABC):
    """Device side: samples (SI) -> the notification payloads the real device would send."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz

    @abstractmethod
    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        """(char_uuid, payload) pairs in send order."""

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        """React to a client write (commands); return (char_uuid, payload) responses to notify or
        indicate. The default accepts everything silently."""
        return []

    @property
    def streaming(self) -> bool:
        """Whether the client has started the stream (the emulator only sends samples then)."""
        return True


class SensorProfile(ABC):
    """A device family: how to recognise it, talk to it, and decode/encode its samples.

    Use one instance per connection: stop_writes() may depend on what start_writes() chose or on
    what the decoder made by decoder() learned from the device (e.g. the MetaWear IMU chip).
    """

    family: ClassVar[str]  # short id used on the command line: "polar", "witmotion", ...
    display_name: ClassVar[str]
    default_rate_hz: ClassVar[float]
    advertised_name: ClassVar[str]  # a typical advertised name, used by the emulator

    @classmethod
    @abstractmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool: ...

    @abstractmethod
    def services(self) -> list[ServiceSpec]:
        """The GATT services the device exposes (the emulator builds these)."""

    @abstractmethod
    def advertised_service_uuids(self) -> list[str]: ...

    @abstractmethod
    def notify_uuids(self) -> list[str]:
        """Characteristics the client subscribes to, in order."""

    def nearest_rate_hz(self, rate_hz: float) -> float:
        """The rate the device will really run at when asked for rate_hz (devices have fixed sets)."""
        return rate_hz

    @abstractmethod
    def start_writes(self, rate_hz: float) -> list[GattWrite]: ...

    @abstractmethod
    def stop_writes(self) -> list[GattWrite]: ...

    @abstractmethod
    def decoder(self, rate_hz: float) -> Decoder: ...

    @abstractmethod
    def encoder(self, rate_hz: float) -> Encoder: ...
