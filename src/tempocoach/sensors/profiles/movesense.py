"""Movesense sensors running the GATT SensorData Protocol (gatt_sensordata_app, "GSP").

Facts (research/ble-protocols.md §3; movesense.com GSP specification, device sample
GATTSensorDataClient.cpp, API YAML meas/imu.yaml): service 34802252-..., command char 34800001
(write), data char 34800002 (notify). Command = [code, reference, data]: SUBSCRIBE 1 + ASCII path
("/Meas/IMU6/104"), UNSUBSCRIBE 2. Notification = [response code, reference, ...]: 1 COMMAND_RESULT
(uint16 LE status), 2 DATA, 3 DATA_PART2 (continuation). IMU6 payload: uint32 LE timestamp in ms
(first sample, sensor clock) + N acc float32 xyz (m/s^2) then N gyro float32 xyz (deg/s).
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
from tempocoach.sensors.profiles.codec import DEG, has_uuid, make_batch, nearest, norm_uuid
from tempocoach.sensors.profiles.timing import DeviceClock, Unwrapper

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
COMMAND_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
DATA_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
ADVERTISED_UUID = "0000fdf3-0000-1000-8000-00805f9b34fb"  # 16-bit 0xFDF3 (third-party, unverified)

CMD_HELLO, CMD_SUBSCRIBE, CMD_UNSUBSCRIBE = 0, 1, 2
RESP_RESULT, RESP_DATA, RESP_DATA_PART2 = 1, 2, 3
REFERENCE = 0x63  # any non-zero byte; 99 as in Movesense's own Python example
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)  # third-party list (unverified)
MAX_NOTIFICATION_BYTES = 155  # "up-to 158 bytes => max 155 bytes" (Movesense CustomGATTService slides)
VECTOR_BYTES = 12
MAX_PAYLOAD_BYTES = 4 + 2 * VECTOR_BYTES * 64  # far beyond any real IMU6 payload: reject garbage


def subscribe_command(rate_hz: int, reference: int = REFERENCE) -> bytes:
    return bytes([CMD_SUBSCRIBE, reference]) + f"/Meas/IMU6/{rate_hz}".encode("ascii")


def imu6_payload(t_ms: int, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> bytes:
    return (
        struct.pack("<I", t_ms % 2**32) + acc_mps2.astype("<f4").tobytes() + gyr_dps.astype("<f4").tobytes()
    )


class MovesenseDecoder(Decoder):
    def __init__(self, rate_hz: float) -> None:
        super().__init__(rate_hz)
        self._clock = DeviceClock(rate_hz)
        self._device_ms = Unwrapper(2**32)
        self._partial: bytes | None = None  # a DATA payload waiting for its DATA_PART2
        self._meta = {"profile": "movesense", "clock": "device"}

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        if norm_uuid(char_uuid) != DATA_UUID:
            return None
        data = bytes(data)
        if len(data) < 2:
            self.stats.malformed += 1
            return None
        code, body = data[0], data[2:]
        if code == RESP_RESULT:
            if len(body) >= 2 and body[:5] != b"Hello":
                status = struct.unpack_from("<H", body)[0]
                if status != 200:
                    self.stats.note(f"Movesense answered {status} to command ref {data[1]}")
            return None
        if code == RESP_DATA:
            if self._partial is not None:
                self.stats.malformed += 1  # the previous payload never got its second part
            self._partial = body
        elif code == RESP_DATA_PART2 and self._partial is not None:
            self._partial += body
        else:
            self.stats.malformed += 1
            return None
        return self._try_payload(self._partial)

    def _try_payload(self, payload: bytes) -> ImuBatch | None:
        length = len(payload) - 4
        if length > MAX_PAYLOAD_BYTES or length < 0:
            self._partial = None
            self.stats.malformed += 1
            return None
        if length == 0 or length % (2 * VECTOR_BYTES):
            return None  # incomplete: wait for DATA_PART2
        self._partial = None
        n = length // (2 * VECTOR_BYTES)
        floats = np.frombuffer(payload, dtype="<f4", offset=4).astype(np.float64)
        if not np.all(np.isfinite(floats)):
            self.stats.malformed += 1
            return None
        acc, gyr = floats[: 3 * n].reshape(n, 3), floats[3 * n :].reshape(n, 3)
        t_ms = self._device_ms.unwrap(struct.unpack_from("<I", payload)[0])
        t_s = self._clock.stamp_first(t_ms * 1e-3, n)
        self.stats.packets += 1
        self.stats.samples += n
        self.stats.lost_samples = self._clock.lost_samples
        return make_batch(t_s, acc, gyr * DEG, self._meta)


class MovesenseEncoder(Encoder):
    """The sensor side of GSP for /Meas/IMU6: subscriptions, results, DATA / DATA_PART2."""

    def __init__(self, rate_hz: float, samples_per_packet: int | None = None) -> None:
        super().__init__(rate_hz)
        self.samples_per_packet = samples_per_packet or (8 if rate_hz >= 208 else 4)
        self.reference: int | None = None
        self._pending = np.zeros((0, 6))
        self._pending_t_s = np.zeros(0)

    @property
    def streaming(self) -> bool:
        return self.reference is not None

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) != COMMAND_UUID or len(data) < 2 or data[1] == 0:
            return []
        code, ref = data[0], data[1]
        if code == CMD_HELLO:
            return [(DATA_UUID, bytes([RESP_RESULT, ref]) + b"Hello")]
        if code == CMD_SUBSCRIBE:
            return self._subscribe(ref, data[2:].split(b"\0")[0].decode("ascii", "replace"))
        if code == CMD_UNSUBSCRIBE and ref == self.reference:
            self.reference = None
            return []
        return [(DATA_UUID, bytes([RESP_RESULT, ref]) + struct.pack("<H", 400))]

    def _subscribe(self, ref: int, path: str) -> list[tuple[str, bytes]]:
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["Meas", "IMU6"] or not parts[2].isdigit():
            return [(DATA_UUID, bytes([RESP_RESULT, ref]) + struct.pack("<H", 404))]
        if float(parts[2]) not in RATES_HZ:
            return [(DATA_UUID, bytes([RESP_RESULT, ref]) + struct.pack("<H", 501))]
        if self.reference is not None:
            return [(DATA_UUID, bytes([RESP_RESULT, ref]) + struct.pack("<H", 507))]
        self.reference, self.rate_hz = ref, float(parts[2])
        return []  # the device sample acknowledges only failures

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        if self.reference is None:
            return []
        self._pending = np.concatenate([self._pending, np.hstack([batch.acc_mps2, batch.gyr_radps / DEG])])
        self._pending_t_s = np.concatenate([self._pending_t_s, batch.t_s])
        out: list[tuple[str, bytes]] = []
        n = self.samples_per_packet
        while self._pending.shape[0] >= n:
            chunk, self._pending = self._pending[:n], self._pending[n:]
            t_ms = round(float(self._pending_t_s[0]) * 1000.0)
            self._pending_t_s = self._pending_t_s[n:]
            out.extend(self._split(imu6_payload(t_ms, chunk[:, :3], chunk[:, 3:])))
        return out

    def _split(self, payload: bytes) -> list[tuple[str, bytes]]:
        room = MAX_NOTIFICATION_BYTES - 2
        assert self.reference is not None
        first = bytes([RESP_DATA, self.reference]) + payload[:room]
        rest = payload[room:]
        parts = [(DATA_UUID, first)]
        if rest:
            parts.append((DATA_UUID, bytes([RESP_DATA_PART2, self.reference]) + rest))
        return parts


class MovesenseProfile(SensorProfile):
    family: ClassVar[str] = "movesense"
    display_name: ClassVar[str] = "Movesense (gatt_sensordata_app)"
    default_rate_hz: ClassVar[float] = 104.0
    advertised_name: ClassVar[str] = "Movesense 000000000001"

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        return has_uuid(service_uuids, SERVICE_UUID) or (name or "").startswith("Movesense")

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(
                SERVICE_UUID,
                (CharSpec(COMMAND_UUID, ("write",)), CharSpec(DATA_UUID, ("notify",))),
            )
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [ADVERTISED_UUID]

    def notify_uuids(self) -> list[str]:
        return [DATA_UUID]

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return nearest(RATES_HZ, rate_hz)

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        return [GattWrite(COMMAND_UUID, subscribe_command(int(self.nearest_rate_hz(rate_hz))))]

    def stop_writes(self) -> list[GattWrite]:
        return [GattWrite(COMMAND_UUID, bytes([CMD_UNSUBSCRIBE, REFERENCE]))]

    def decoder(self, rate_hz: float) -> Decoder:
        return MovesenseDecoder(self.nearest_rate_hz(rate_hz))

    def encoder(self, rate_hz: float) -> Encoder:
        return MovesenseEncoder(self.nearest_rate_hz(rate_hz))
