"""Nordic Thingy:52, Thingy Motion Service raw data.

Facts (research/ble-protocols.md §5; NordicSemiconductor/Nordic-Thingy52-FW ble_tms.h, m_motion.c,
firmware_architecture.html): base EF68xxxx-9B35-4933-9B10-52FFA9740042; motion service 0400;
config 0401 (9 bytes: step ms, temperature ms, magnetometer ms, motion frequency Hz uint16 LE,
wake-on-motion uint8); raw data 0406 (18 bytes: acc int16 Q6.10 g, gyro Q11.5 deg/s, compass
Q12.4 µT). One sample per notification, no timestamp; streaming follows the CCCD.
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.profiles.base import (
    CharSpec,
    Decoder,
    Encoder,
    GattWrite,
    SensorProfile,
    ServiceSpec,
)
from tempocoach.sensors.profiles.codec import DEG, G, has_uuid, make_batch, norm_uuid, quantise
from tempocoach.sensors.profiles.timing import ArrivalStamper


def _uuid(short: str) -> str:
    return f"ef68{short}-9b35-4933-9b10-52ffa9740042"


CONFIGURATION_SERVICE_UUID = _uuid("0100")  # the service Thingy advertises
MOTION_SERVICE_UUID = _uuid("0400")
MOTION_CONFIG_UUID = _uuid("0401")
RAW_DATA_UUID = _uuid("0406")

RAW_BYTES = 18
ACC_LSB_G = 1.0 / 1024.0  # Q6.10
GYRO_LSB_DPS = 1.0 / 32.0  # Q11.5
MAG_LSB_UT = 1.0 / 16.0  # Q12.4
CONFIG = struct.Struct("<HHHHB")
MIN_RATE_HZ, MAX_RATE_HZ = 5, 200  # documented range of the motion processing frequency


def motion_config(rate_hz: int) -> bytes:
    """Firmware defaults for everything but the motion processing frequency."""
    return CONFIG.pack(1000, 500, 500, rate_hz, 1)


class ThingyDecoder(Decoder):
    def __init__(self, rate_hz: float, hold_s: float = 0.1) -> None:
        super().__init__(rate_hz)
        self._clock = ArrivalStamper(rate_hz, hold_s=hold_s)
        self._meta = {"profile": "thingy52", "clock": "arrival"}

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        if norm_uuid(char_uuid) != RAW_DATA_UUID:
            return None
        if len(data) != RAW_BYTES:
            self.stats.malformed += 1
            return None
        raw = np.frombuffer(bytes(data), dtype="<i2").astype(np.float64).reshape(1, 9)
        self.stats.packets += 1
        self.stats.samples += 1
        stamped = self._clock.stamp(raw, arrival_s)
        self.stats.lost_samples = self._clock.lost_samples
        if stamped is None:
            return None  # the first ~0.1 s is held to learn the link's delay
        t_s, raw = stamped
        return make_batch(
            t_s,
            raw[:, 0:3] * (ACC_LSB_G * G),
            raw[:, 3:6] * (GYRO_LSB_DPS * DEG),
            self._meta,
            mag_ut=raw[:, 6:9] * MAG_LSB_UT,
        )


class ThingyEncoder(Encoder):
    """The Thingy side: one raw-data notification per sample; config writes set the rate."""

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) == MOTION_CONFIG_UUID and len(data) == CONFIG.size:
            rate_hz = CONFIG.unpack(data)[3]
            if 1 <= rate_hz <= MAX_RATE_HZ:  # the firmware rejects others ("write not permitted")
                self.rate_hz = float(rate_hz)
        return []

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        acc = quantise(batch.acc_mps2 / G, ACC_LSB_G)
        gyr = quantise(batch.gyr_radps / DEG, GYRO_LSB_DPS)
        mag = (
            quantise(batch.mag_ut, MAG_LSB_UT)
            if batch.mag_ut is not None
            else np.zeros_like(acc)  # a simulator without a magnetometer
        )
        raw = np.hstack([acc, gyr, mag]).astype("<i2")
        return [(RAW_DATA_UUID, row.tobytes()) for row in raw]


class ThingyProfile(SensorProfile):
    family: ClassVar[str] = "thingy52"
    display_name: ClassVar[str] = "Nordic Thingy:52"
    default_rate_hz: ClassVar[float] = 50.0
    advertised_name: ClassVar[str] = "Thingy"

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        # The name is user-settable (default "Thingy"); the advertised service is the firm signal.
        by_service = has_uuid(service_uuids, CONFIGURATION_SERVICE_UUID) or has_uuid(
            service_uuids, MOTION_SERVICE_UUID
        )
        return by_service or name == "Thingy"

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(CONFIGURATION_SERVICE_UUID, ()),
            ServiceSpec(
                MOTION_SERVICE_UUID,
                (
                    CharSpec(MOTION_CONFIG_UUID, ("read", "write"), motion_config(10)),
                    CharSpec(RAW_DATA_UUID, ("notify",)),
                ),
            ),
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [CONFIGURATION_SERVICE_UUID]

    def notify_uuids(self) -> list[str]:
        return [RAW_DATA_UUID]

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return float(min(max(round(rate_hz), MIN_RATE_HZ), MAX_RATE_HZ))

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        # Streaming itself starts when the client enables notifications on the raw characteristic.
        return [GattWrite(MOTION_CONFIG_UUID, motion_config(int(self.nearest_rate_hz(rate_hz))))]

    def stop_writes(self) -> list[GattWrite]:
        return []  # disabling notifications stops the motion driver

    def decoder(self, rate_hz: float) -> Decoder:
        return ThingyDecoder(self.nearest_rate_hz(rate_hz))

    def encoder(self, rate_hz: float) -> Encoder:
        return ThingyEncoder(self.nearest_rate_hz(rate_hz))
