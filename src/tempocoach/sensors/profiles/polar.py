"""Polar PMD sensors: H10 chest strap (ACC only) and Verity Sense (ACC + GYRO).

Facts (research/ble-protocols.md §1; Polar BLE SDK, online_measurement.pdf): scan name
"Polar <model> <id>" ("Polar H10 12345678", "Polar Sense 99AABBCC"); PMD service FB005C80,
control point FB005C81 (read = feature bytes 0F..., write = command, indicate = F0 responses),
data FB005C82 (notify). Frames carry ns since 2000 for the LAST sample. H10 ACC frames are raw
int16 mG (0x01); Verity ACC 0x81 delta frames in mG, GYRO 0x80 delta frames scaled by FACTOR.
The wire format lives in polar_frames.py.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from tempocoach.sensors.base import FloatArray, ImuBatch
from tempocoach.sensors.profiles import polar_frames as pmd
from tempocoach.sensors.profiles.base import CharSpec, Decoder, Encoder, GattWrite, SensorProfile, ServiceSpec
from tempocoach.sensors.profiles.codec import DEG, G, make_batch, nearest, norm_uuid
from tempocoach.sensors.profiles.polar_device import PolarEncoder
from tempocoach.sensors.profiles.polar_frames import (
    HR_MEASUREMENT_UUID,
    HR_SERVICE_UUID,
    PMD_CP_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
)
from tempocoach.sensors.profiles.timing import DeviceClock, PairAligner

__all__ = [
    "HR_MEASUREMENT_UUID",
    "HR_SERVICE_UUID",
    "PMD_CP_UUID",
    "PMD_DATA_UUID",
    "PMD_SERVICE_UUID",
    "PolarDecoder",
    "PolarEncoder",
    "PolarH10Profile",
    "PolarProfile",
    "PolarVeritySenseProfile",
]


class PolarDecoder(Decoder):
    """PMD data frames and control-point responses -> ImuBatch (seconds since 2000, device clock)."""

    def __init__(self, rate_hz: float, has_gyro: bool, family: str) -> None:
        super().__init__(rate_hz)
        self._factor = {pmd.MEAS_ACC: 1.0, pmd.MEAS_GYRO: 1.0}
        self._clocks: dict[tuple[int, int], DeviceClock] = {}
        self._aligner = PairAligner(1.0 / rate_hz) if has_gyro else None
        self._response_params: bytes | None = None  # collecting a multi-packet CP response
        self._last_acc_t = -np.inf
        self._meta = {"profile": family, "clock": "device", "epoch": "2000-01-01T00:00:00Z"}
        if not has_gyro:
            self._meta["gyro"] = "absent"

    def decode(self, char_uuid: str, data: bytes, arrival_s: float) -> ImuBatch | None:
        uuid = norm_uuid(char_uuid)
        if uuid == PMD_CP_UUID:
            self._control(bytes(data))
            return None
        if uuid != PMD_DATA_UUID:
            return None
        try:
            frame = pmd.parse_header(bytes(data))
            values = self._values(frame)
        except pmd.FrameError:
            self.stats.malformed += 1
            return None
        if values is None:
            return None  # a measurement tempocoach does not use (ECG, PPG, magnetometer)
        clock = self._clocks.setdefault((frame.measurement, frame.frame_type), DeviceClock(self.rate_hz))
        t_s = clock.stamp_last(frame.timestamp_ns * 1e-9, values.shape[0])
        self.stats.packets += 1
        self.stats.samples += values.shape[0]
        return self._emit(frame.measurement, t_s, values)

    def _values(self, frame: pmd.DataFrame) -> FloatArray | None:
        """Samples in SI units, or None for a measurement type we ignore."""
        kind, factor = frame.frame_type, self._factor.get(frame.measurement, 1.0)
        if frame.measurement == pmd.MEAS_ACC:
            if kind in (0x00, 0x01, 0x02):
                milli_g = pmd.decode_raw(frame.payload, kind + 1) * factor
            elif kind == 0x80:  # data in g; the SDK multiplies by FACTOR * 1000 to get mG
                milli_g = pmd.decode_delta(frame.payload, 3, 16) * (factor * 1000.0)
            elif kind == 0x81:
                milli_g = pmd.decode_delta(frame.payload, 3, 16) * factor
            else:
                raise pmd.FrameError(f"unknown ACC frame type 0x{kind:02x}")
            return np.asarray(milli_g, dtype=np.float64) * (G / 1000.0)
        if frame.measurement == pmd.MEAS_GYRO:
            if kind == 0x80:
                dps = pmd.decode_delta(frame.payload, 3, 16).astype(np.float64)
            elif kind == 0x81:  # references and sums are IEEE-754 bit patterns
                bits = pmd.decode_delta(frame.payload, 3, 32, signed_ref=False)
                dps = bits.astype(np.uint32).view(np.float32).astype(np.float64)
            else:
                raise pmd.FrameError(f"unknown GYRO frame type 0x{kind:02x}")
            if not np.all(np.isfinite(dps)):
                raise pmd.FrameError("non-finite gyro value")
            return dps * (factor * DEG)
        return None

    def _emit(self, measurement: int, t_s: FloatArray, values: FloatArray) -> ImuBatch | None:
        self.stats.lost_samples = sum(
            c.lost_samples for (m, _), c in self._clocks.items() if m == pmd.MEAS_ACC
        )
        if measurement == pmd.MEAS_ACC:
            # Each (measurement, frame type) keeps its own clock, as in the SDK; a device that changed
            # frame type mid-stream could restart behind the output, so anything not after it is dropped.
            fresh = t_s > self._last_acc_t
            if not fresh.all():
                self.stats.note("Polar ACC samples repeated or out of order were dropped")
            t_s, values = t_s[fresh], values[fresh]
            if t_s.size:
                self._last_acc_t = float(t_s[-1])
        if self._aligner is None:
            if measurement != pmd.MEAS_ACC:
                return None
            return make_batch(t_s, values, np.zeros_like(values), self._meta)
        if measurement == pmd.MEAS_ACC:
            self._aligner.push_acc(t_s, values)
        else:
            self._aligner.push_gyr(t_s, values)
        t, acc, gyr = self._aligner.pop()
        self.stats.lost_samples += self._aligner.dropped_samples
        if self._aligner.gyro_absent:
            self._meta["gyro"] = "absent"
        return make_batch(t, acc, gyr, self._meta)

    def _control(self, data: bytes) -> None:
        if len(data) >= 2 and data[0] == pmd.DEVICE_STOPPED:
            self.stats.note(f"Polar stopped measurement type(s) {list(data[1:])} on its own")
            return
        if len(data) < 5 or data[0] != pmd.RESPONSE:
            self.stats.malformed += 1
            return
        op, measurement, status, more = data[1], data[2], data[3], data[4]
        self._response_params = (self._response_params or b"") + data[5:]
        if more:
            return  # parameters continue in the next indication
        params, self._response_params = self._response_params, None
        if status != 0:
            name = pmd.STATUS_NAMES[status] if status < len(pmd.STATUS_NAMES) else str(status)
            self.stats.note(f"Polar refused op {op} for measurement {measurement}: {name}")
            if op == pmd.OP_START and measurement == pmd.MEAS_GYRO and self._aligner is not None:
                self._aligner.gyro_absent = True
            return
        if op == pmd.OP_START and measurement in self._factor:
            try:
                factor = pmd.parse_settings(params).get(pmd.SETTING_FACTOR)
            except pmd.FrameError:
                self.stats.malformed += 1
                return
            if factor and np.isfinite(factor[0]) and factor[0] > 0:
                self._factor[measurement] = factor[0]
        if op == pmd.OP_STOP:
            for (m, _), clock in self._clocks.items():
                if m == measurement:
                    clock.reset()  # the SDK clears its previous-timestamp map on STOP


class PolarProfile(SensorProfile):
    """Shared by the Polar models; subclasses fix the model's rates and streams."""

    family: ClassVar[str] = "polar-h10"
    display_name: ClassVar[str] = "Polar H10"
    default_rate_hz: ClassVar[float] = 100.0
    advertised_name: ClassVar[str] = "Polar H10 1A2B3C4D"
    name_prefixes: ClassVar[tuple[str, ...]] = ("Polar H10 ", "Polar H9 ")
    acc_rates_hz: ClassVar[tuple[float, ...]] = (25.0, 50.0, 100.0, 200.0)
    acc_range_g: ClassVar[int] = 8
    gyro_range_dps: ClassVar[int | None] = None
    send_channels: ClassVar[bool] = False  # Verity wants a 1-byte CHANNELS setting, H10 none
    features: ClassVar[bytes] = bytes.fromhex("0F05") + bytes(15)  # ECG + ACC (the old spec's H10)

    def __init__(self) -> None:
        self._started: list[int] = []

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        return any((name or "").startswith(p) for p in cls.name_prefixes)

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec(HR_SERVICE_UUID, (CharSpec(HR_MEASUREMENT_UUID, ("notify",)),)),
            ServiceSpec(
                PMD_SERVICE_UUID,
                (
                    CharSpec(PMD_CP_UUID, ("read", "write", "indicate"), self.features),
                    CharSpec(PMD_DATA_UUID, ("notify",)),
                ),
            ),
        ]

    def advertised_service_uuids(self) -> list[str]:
        return [HR_SERVICE_UUID]

    def notify_uuids(self) -> list[str]:
        return [PMD_CP_UUID, PMD_DATA_UUID]  # CP first: the START responses carry FACTOR

    def nearest_rate_hz(self, rate_hz: float) -> float:
        return nearest(self.acc_rates_hz, rate_hz)

    def start_writes(self, rate_hz: float) -> list[GattWrite]:
        # Written with response, one after the other: the ACC and GYRO streams must start together,
        # since ACC samples from before the first GYRO sample cannot be paired and are dropped.
        rate = int(self.nearest_rate_hz(rate_hz))
        channels = 3 if self.send_channels else None
        writes = [GattWrite(PMD_CP_UUID, pmd.start_request(pmd.MEAS_ACC, rate, self.acc_range_g, channels))]
        self._started = [pmd.MEAS_ACC]
        if self.gyro_range_dps is not None:
            request = pmd.start_request(pmd.MEAS_GYRO, rate, self.gyro_range_dps, channels)
            writes.append(GattWrite(PMD_CP_UUID, request))
            self._started.append(pmd.MEAS_GYRO)
        return writes

    def stop_writes(self) -> list[GattWrite]:
        # Always stop before disconnecting: an H10 otherwise keeps streaming (Polar KnownIssues.md).
        started = self._started or [pmd.MEAS_ACC]
        return [GattWrite(PMD_CP_UUID, bytes([pmd.OP_STOP, m])) for m in started]

    def decoder(self, rate_hz: float) -> Decoder:
        return PolarDecoder(self.nearest_rate_hz(rate_hz), self.gyro_range_dps is not None, self.family)

    def encoder(self, rate_hz: float) -> Encoder:
        return PolarEncoder(
            self.nearest_rate_hz(rate_hz),
            acc_rates_hz=self.acc_rates_hz,
            gyro_range_dps=self.gyro_range_dps,
            compressed=self.gyro_range_dps is not None,
        )


class PolarH10Profile(PolarProfile):
    pass


class PolarVeritySenseProfile(PolarProfile):
    family: ClassVar[str] = "polar-verity"
    display_name: ClassVar[str] = "Polar Verity Sense"
    default_rate_hz: ClassVar[float] = 52.0
    advertised_name: ClassVar[str] = "Polar Sense 99AABBCC"
    name_prefixes: ClassVar[tuple[str, ...]] = ("Polar Sense ", "Polar Verity")
    acc_rates_hz: ClassVar[tuple[float, ...]] = (52.0,)  # 26-416 Hz need SDK mode (not used)
    acc_range_g: ClassVar[int] = 8
    gyro_range_dps: ClassVar[int | None] = 2000
    send_channels: ClassVar[bool] = True
    features: ClassVar[bytes] = bytes.fromhex("0F6E") + bytes(15)  # PPG ACC PPI GYRO MAG (assumed)
