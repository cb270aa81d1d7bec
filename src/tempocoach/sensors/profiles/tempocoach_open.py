"""tempocoach open profile: a small GATT service a DIY ESP32 / nRF52 bar sensor can implement.

The full specification, with a worked example packet, is docs/open-profile.md. In short:
data notifications = 12-byte header (version, sample count, range codes, uint16 sample counter,
uint16 period µs, uint32 device time µs of the first sample) + N x (ax ay az gx gy gz) int16 LE;
control writes = START (rate, range codes) / STOP, each answered by a status notification.
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from tempocoach.sensors.base import FloatArray, ImuBatch
from tempocoach.sensors.profiles.base import (
    CharSpec,
    Decoder,
    Encoder,
    GattWrite,
    SensorProfile,
    ServiceSpec,
)
from tempocoach.sensors.profiles.codec import DEG, G, has_uuid, make_batch, norm_uuid, quantise
from tempocoach.sensors.profiles.timing import DeviceClock, Unwrapper

BASE_UUID = "d0590000-bd75-47e4-9527-dc54d3024847"  # generated once for this profile (uuid4)
SERVICE_UUID = "d0590001-bd75-47e4-9527-dc54d3024847"
DATA_UUID = "d0590002-bd75-47e4-9527-dc54d3024847"  # notify: sample packets
CONTROL_UUID = "d0590003-bd75-47e4-9527-dc54d3024847"  # write: commands; notify: status replies

VERSION = 1
HEADER = struct.Struct("<BBBBHHI")  # version, n, acc code, gyro code, counter, period µs, t first µs
SAMPLE_BYTES = 12
MAX_SAMPLES = 20  # 12 + 20 * 12 = 252 bytes; needs ATT MTU >= 255 for full packets
ACC_FULL_SCALE_G = (2.0, 4.0, 8.0, 16.0)  # by acc range code
GYRO_FULL_SCALE_DPS = (125.0, 250.0, 500.0, 1000.0, 2000.0)  # by gyro range code
DEFAULT_ACC_CODE = 3  # ±16 g
DEFAULT_GYRO_CODE = 4  # ±2000 dps

OP_START = 0x01  # 01 <rate Hz uint16 LE> <acc code> <gyro code>
OP_STOP = 0x02
REPLY_FLAG = 0x80  # a status reply is <op | 0x80> <status>
STATUS_OK, STATUS_BAD_COMMAND, STATUS_BAD_RATE, STATUS_BAD_RANGE = 0, 1, 2, 3
MIN_RATE_HZ, MAX_RATE_HZ = 16, 1000  # period must fit uint16 µs


def start_command(
    rate_hz: int, acc_code: int = DEFAULT_ACC_CODE, gyro_code: int = DEFAULT_GYRO_CODE
) -> bytes:
    return struct.pack("<BHBB", OP_START, rate_hz, acc_code, gyro_code)


def pack_packet(
    counter: int, t_first_us: int, period_us: int, raw: np.ndarray, acc_code: int, gyro_code: int
) -> bytes:
    """One data notification from raw int16 samples, shape (n, 6): ax ay az gx gy gz."""
    header = HEADER.pack(
        VERSION, raw.shape[0], acc_code, gyro_code, counter % 65536, period_us, t_first_us % 2**32
    )
    return header + raw.astype("<i2").tobytes()


class OpenDecoder(Decoder):
    def __init__(self, rate_hz: float) -> None:
        super().__init__(rate_hz)
        self._clock = DeviceClock(rate_hz)
        self._counter = Unwrapper(65536)
        self._device_us = Unwrapper(2**32)
        self._meta = {"profile": "tempocoach-open", "clock": "device"}
        self._expected_delta = 0  # counter advance expected from the previous packet

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        uuid = norm_uuid(char_uuid)
        if uuid == CONTROL_UUID:
            self._control_reply(bytes(data))
            return None
        if uuid != DATA_UUID:
            return None
        parsed = self._parse(bytes(data))
        if parsed is None:
            self.stats.malformed += 1
            return None
        counter, t_first_us, period_us, acc, gyr = parsed
        skipped = self._counter.delta(counter) - self._expected_delta
        if skipped < 0 or skipped >= 32768:
            self.stats.malformed += 1  # repeated or reordered packet: output must keep increasing
            self.stats.note(f"dropped out-of-order packet with counter {counter}")
            return None
        self._counter.unwrap(counter)
        self._expected_delta = acc.shape[0]
        self.stats.lost_samples += skipped
        t_first_s = self._device_us.unwrap(t_first_us) * 1e-6
        t_s = self._clock.stamp_first(t_first_s, acc.shape[0], period_us * 1e-6)
        self.stats.packets += 1
        self.stats.samples += acc.shape[0]
        return make_batch(t_s, acc, gyr, self._meta)

    def _parse(self, data: bytes) -> tuple[int, int, int, FloatArray, FloatArray] | None:
        if len(data) < HEADER.size + SAMPLE_BYTES:
            return None
        version, n, acc_code, gyro_code, counter, period_us, t_first_us = HEADER.unpack_from(data)
        if (
            version != VERSION
            or not 1 <= n <= MAX_SAMPLES
            or len(data) != HEADER.size + n * SAMPLE_BYTES
            or acc_code >= len(ACC_FULL_SCALE_G)
            or gyro_code >= len(GYRO_FULL_SCALE_DPS)
            or period_us < 1_000_000 // MAX_RATE_HZ
        ):
            return None
        raw = np.frombuffer(data, dtype="<i2", offset=HEADER.size).reshape(n, 6).astype(np.float64)
        acc = raw[:, :3] * (ACC_FULL_SCALE_G[acc_code] / 32768.0 * G)
        gyr = raw[:, 3:] * (GYRO_FULL_SCALE_DPS[gyro_code] / 32768.0 * DEG)
        return counter, t_first_us, period_us, acc, gyr

    def _control_reply(self, data: bytes) -> None:
        if len(data) != 2 or not data[0] & REPLY_FLAG:
            self.stats.malformed += 1
        elif data[1] != STATUS_OK:
            self.stats.note(
                f"tempocoach open sensor refused command 0x{data[0] & 0x7F:02x}: status {data[1]}"
            )


class OpenEncoder(Encoder):
    """The device side, as a DIY firmware would behave (and as the emulator serves it)."""

    def __init__(self, rate_hz: float, samples_per_packet: int = 8) -> None:
        super().__init__(rate_hz)
        self.samples_per_packet = samples_per_packet
        self.acc_code, self.gyro_code = DEFAULT_ACC_CODE, DEFAULT_GYRO_CODE
        self._streaming = False
        self._counter = 0
        self._pending = np.zeros((0, 6), dtype=np.int64)
        self._pending_t_s = np.zeros(0)

    @property
    def streaming(self) -> bool:
        return self._streaming

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) != CONTROL_UUID or not data:
            return []
        op = data[0]
        status = STATUS_OK
        if op == OP_START and len(data) == 5:
            rate_hz, acc_code, gyro_code = struct.unpack_from("<HBB", data, 1)
            if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
                status = STATUS_BAD_RATE
            elif acc_code >= len(ACC_FULL_SCALE_G) or gyro_code >= len(GYRO_FULL_SCALE_DPS):
                status = STATUS_BAD_RANGE
            else:
                self.rate_hz, self.acc_code, self.gyro_code = float(rate_hz), acc_code, gyro_code
                self._streaming = True
        elif op == OP_STOP and len(data) == 1:
            self._streaming = False
        else:
            status = STATUS_BAD_COMMAND
        return [(CONTROL_UUID, bytes([op | REPLY_FLAG, status]))]

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        acc = quantise(batch.acc_mps2 / G, ACC_FULL_SCALE_G[self.acc_code] / 32768.0)
        gyr = quantise(batch.gyr_radps / DEG, GYRO_FULL_SCALE_DPS[self.gyro_code] / 32768.0)
        self._pending = np.concatenate([self._pending, np.hstack([acc, gyr])])
        self._pending_t_s = np.concatenate([self._pending_t_s, batch.t_s])
        period_us = round(1e6 / self.rate_hz)
        out: list[tuple[str, bytes]] = []
        n = self.samples_per_packet
        while self._pending.shape[0] >= n:
            chunk, self._pending = self._pending[:n], self._pending[n:]
            t_first_us = round(float(self._pending_t_s[0]) * 1e6)
            self._pending_t_s = self._pending_t_s[n:]
            packet = pack_packet(self._counter, t_first_us, period_us, chunk, self.acc_code, self.gyro_code)
            out.append((DATA_UUID, packet))
            self._counter += n
        return out


class TempocoachOpenProfile(SensorProfile):
    family: ClassVar[str] = "tempocoach-open"
    display_name: ClassVar[str] = "tempocoach open DIY sensor"
    default_rate_hz: ClassVar[float] = 100.0
    advertised_name: ClassVar[str] = "tempocoach-bar"

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        return has_uuid(service_uuids, SERVICE_UUID) or (name or "").lower().startswith("tempocoach")

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(
                SERVICE_UUID,
                (
                    CharSpec(DATA_UUID, ("notify",)),
                    CharSpec(CONTROL_UUID, ("write", "notify")),
                ),
            )
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [SERVICE_UUID]

    def notify_uuids(self) -> list[str]:
        return [CONTROL_UUID, DATA_UUID]

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return float(min(max(round(rate_hz), MIN_RATE_HZ), MAX_RATE_HZ))

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, start_command(int(self.nearest_rate_hz(rate_hz))))]

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(CONTROL_UUID, bytes([OP_STOP]))]

    def decoder(self, rate_hz: float) -> Decoder:
        return OpenDecoder(self.nearest_rate_hz(rate_hz))

    def encoder(self, rate_hz: float) -> Encoder:
        return OpenEncoder(self.nearest_rate_hz(rate_hz))
