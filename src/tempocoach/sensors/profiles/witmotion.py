"""WitMotion BLE 5.0 IMUs (WT901BLECL, BWT901BLE5.0, WT9011DCL).

Facts (research/ble-protocols.md §2; WITMOTION/WitBluetooth_BWT901BLE5_0 SDKs, WT901BLECL datasheet
§6.1): service FFE5 / notify FFE4 / write FFE9 on the NON-standard base ...-00805f9a34fb; data
packet 55 61 + acc, gyro, angle as int16 LE (acc /32768*16 g, gyro /32768*2000 deg/s), 20 bytes,
several may share one notification; no timestamp; register reply 55 71. Commands FF AA reg lo hi:
unlock FF AA 69 88 B5 (valid ~10 s), return rate FF AA 03 code 00, read FF AA 27 reg 00.
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
from tempocoach.sensors.profiles.codec import DEG, G, has_uuid, make_batch, nearest, norm_uuid, quantise
from tempocoach.sensors.profiles.timing import ArrivalStamper

# Note the '9a34fb' ending: WitMotion's base differs from the Bluetooth SIG base (…9b34fb).
SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"

FRAME_BYTES = 20
HEADER, FLAG_DATA, FLAG_REGISTER = 0x55, 0x61, 0x71
ACC_LSB_G = 16.0 / 32768.0
GYRO_LSB_DPS = 2000.0 / 32768.0
ANGLE_LSB_DEG = 180.0 / 32768.0

UNLOCK = bytes.fromhex("FFAA6988B5")
REG_RATE = 0x03
RATE_CODES = {1.0: 0x03, 5.0: 0x05, 10.0: 0x06, 20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}
RATE_FROM_CODE = {code: rate for rate, code in RATE_CODES.items()}


def command(register: int, value: int) -> bytes:
    return bytes([0xFF, 0xAA, register]) + struct.pack("<H", value & 0xFFFF)


class WitMotionDecoder(Decoder):
    def __init__(self, rate_hz: float, hold_s: float = 0.1) -> None:
        super().__init__(rate_hz)
        self._clock = ArrivalStamper(rate_hz, hold_s=hold_s)
        self._meta = {"profile": "witmotion", "clock": "arrival"}

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        if norm_uuid(char_uuid) != NOTIFY_UUID:
            return None
        data = bytes(data)
        samples: list[bytes] = []
        for start in range(0, len(data), FRAME_BYTES):
            frame = data[start : start + FRAME_BYTES]
            if len(frame) != FRAME_BYTES or frame[0] != HEADER or frame[1] not in (FLAG_DATA, FLAG_REGISTER):
                self.stats.malformed += 1
                return None  # framing lost: nothing in this notification can be trusted
            if frame[1] == FLAG_DATA:
                samples.append(frame[2:14])
        if not samples:
            return None  # register replies only (battery, magnetometer polls): nothing to stream
        raw = np.frombuffer(b"".join(samples), dtype="<i2").reshape(-1, 6).astype(np.float64)
        self.stats.packets += 1
        self.stats.samples += raw.shape[0]
        stamped = self._clock.stamp(raw, arrival_s)
        self.stats.lost_samples = self._clock.lost_samples
        if stamped is None:
            return None  # the first ~0.1 s is held to learn the link's delay
        t_s, raw = stamped
        return make_batch(t_s, raw[:, :3] * (ACC_LSB_G * G), raw[:, 3:] * (GYRO_LSB_DPS * DEG), self._meta)


class WitMotionEncoder(Encoder):
    """The sensor side: streams 55 61 frames, obeys rate commands, answers register reads."""

    def __init__(self, rate_hz: float, frames_per_notification: int = 1) -> None:
        super().__init__(rate_hz)
        self.frames_per_notification = frames_per_notification
        self.unlocked = False
        self._pending: list[bytes] = []

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) != WRITE_UUID or len(data) != 5 or data[:2] != b"\xff\xaa":
            return []
        register, value = data[2], struct.unpack_from("<H", data, 3)[0]
        if data == UNLOCK:
            self.unlocked = True
        elif register == REG_RATE and value in RATE_FROM_CODE:
            self.rate_hz = RATE_FROM_CODE[value]
        elif register == 0x27:  # read: reply with 8 registers from `value`; battery (0x64) in 1/100 V
            registers = [390 if value + i == 0x64 else 0 for i in range(8)]
            reply = bytes([HEADER, FLAG_REGISTER]) + struct.pack("<H8h", value, *registers)
            return [(NOTIFY_UUID, reply[:FRAME_BYTES])]
        return []

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        acc = quantise(batch.acc_mps2 / G, ACC_LSB_G)
        gyr = quantise(batch.gyr_radps / DEG, GYRO_LSB_DPS)
        angle = np.zeros_like(acc)  # the on-board fusion angles are not used by tempocoach
        raw = np.hstack([acc, gyr, angle]).astype("<i2")
        for row in raw:
            self._pending.append(bytes([HEADER, FLAG_DATA]) + row.tobytes())
        out: list[tuple[str, bytes]] = []
        while len(self._pending) >= self.frames_per_notification:
            group = self._pending[: self.frames_per_notification]
            self._pending = self._pending[self.frames_per_notification :]
            out.append((NOTIFY_UUID, b"".join(group)))
        return out


class WitMotionProfile(SensorProfile):
    family: ClassVar[str] = "witmotion"
    display_name: ClassVar[str] = "WitMotion WT901BLE / BWT901BLE5.0"
    default_rate_hz: ClassVar[float] = 50.0
    advertised_name: ClassVar[str] = "WT901BLE67"

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        # The official SDKs select by name prefix "WT"; the service UUID is the stronger signal.
        return has_uuid(service_uuids, SERVICE_UUID) or (name or "").startswith("WT")

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(
                SERVICE_UUID,
                (
                    CharSpec(NOTIFY_UUID, ("notify",)),
                    CharSpec(WRITE_UUID, ("write", "write-without-response")),
                ),
            )
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [SERVICE_UUID]

    def notify_uuids(self) -> list[str]:
        return [NOTIFY_UUID]

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return nearest(tuple(RATE_CODES), rate_hz)

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        # Unlock, wait, set the return rate. Not saved to flash (FF AA 00 00 00): the device returns
        # to its stored rate after a power cycle, which leaves the user's own setup alone.
        code = RATE_CODES[self.nearest_rate_hz(rate_hz)]
        return [
            GattWrite(WRITE_UUID, UNLOCK, pause_after_s=0.1),
            GattWrite(WRITE_UUID, command(REG_RATE, code), pause_after_s=0.1),
        ]

    def stop_writes(self) -> list[GattWrite]:
        return []  # WitMotion streams whenever connected; unsubscribing is all a client can do

    def decoder(self, rate_hz: float) -> Decoder:
        return WitMotionDecoder(self.nearest_rate_hz(rate_hz))

    def encoder(self, rate_hz: float) -> Encoder:
        return WitMotionEncoder(self.nearest_rate_hz(rate_hz))
