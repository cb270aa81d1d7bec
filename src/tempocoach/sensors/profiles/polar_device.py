"""The Polar sensor side of PMD, for the emulator: control-point answers and data frames.

Answers follow the old PMD specification's exchanges (research/ble-protocols.md §1.5): START ACC
-> F0 02 02 00 00 01 on an H10, F0 02 02 00 00 on a Verity; STOP -> F0 03 <type> 00 00; errors use
the PmdControlPointResponse status codes. The Verity GYRO answer carries a FACTOR setting (raw
counts -> deg/s); whether real firmware sends one is unverified, so it exercises that path.
"""

from __future__ import annotations

import numpy as np

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.profiles import polar_frames as pmd
from tempocoach.sensors.profiles.base import Encoder
from tempocoach.sensors.profiles.codec import DEG, G, norm_uuid, quantise

ACC_RANGES_G = (2, 4, 8)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)
MAX_FRAME_SAMPLES = 36  # fits an ATT MTU of 232 with raw int16 frames (10 + 36 * 6 bytes)
STATUS_SUCCESS, STATUS_INVALID_OP, STATUS_INVALID_TYPE, STATUS_NOT_SUPPORTED = 0, 1, 2, 3
STATUS_INVALID_PARAMETER, STATUS_ALREADY_IN_STATE, STATUS_INVALID_RATE, STATUS_INVALID_RANGE = 5, 6, 8, 9


class PolarEncoder(Encoder):
    def __init__(
        self,
        rate_hz: float,
        *,
        acc_rates_hz: tuple[float, ...],
        gyro_range_dps: int | None,
        compressed: bool,
        frame_samples: int | None = None,
    ) -> None:
        super().__init__(rate_hz)
        self.acc_rates_hz = acc_rates_hz
        self.has_gyro = gyro_range_dps is not None
        self.compressed = compressed
        self.frame_samples = frame_samples or max(1, min(MAX_FRAME_SAMPLES, round(rate_hz * 0.15)))
        self.running: dict[int, int] = {}  # measurement -> range (g or deg/s)
        self._pending: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def streaming(self) -> bool:
        return bool(self.running)

    def supported(self, measurement: int) -> bool:
        return measurement == pmd.MEAS_ACC or (measurement == pmd.MEAS_GYRO and self.has_gyro)

    def handle_write(self, char_uuid: str, data: bytes) -> list[tuple[str, bytes]]:
        if norm_uuid(char_uuid) != pmd.PMD_CP_UUID or not data:
            return []
        op, measurement = data[0], (data[1] if len(data) > 1 else 0)
        if op not in (pmd.OP_GET_SETTINGS, pmd.OP_START, pmd.OP_STOP):
            return [self._answer(op, measurement, STATUS_INVALID_OP)]
        if measurement & 0x80:  # offline recording is not offered by the emulator
            return [self._answer(op, measurement, STATUS_NOT_SUPPORTED)]
        if not self.supported(measurement):
            return [self._answer(op, measurement, STATUS_INVALID_TYPE)]
        if op == pmd.OP_GET_SETTINGS:
            return [self._answer(op, measurement, STATUS_SUCCESS, self._settings(measurement))]
        if op == pmd.OP_STOP:
            if self.running.pop(measurement, None) is None:
                return [self._answer(op, measurement, STATUS_ALREADY_IN_STATE)]
            self._pending.pop(measurement, None)
            return [self._answer(op, measurement, STATUS_SUCCESS)]
        return [self._start(measurement, bytes(data[2:]))]

    def _answer(self, op: int, measurement: int, status: int, params: bytes = b"") -> tuple[str, bytes]:
        return (pmd.PMD_CP_UUID, pmd.response(op, measurement, status, params))

    def _settings(self, measurement: int) -> bytes:
        ranges = ACC_RANGES_G if measurement == pmd.MEAS_ACC else GYRO_RANGES_DPS
        settings: dict[int, list[float]] = {
            pmd.SETTING_RATE: list(self.acc_rates_hz),
            pmd.SETTING_RESOLUTION: [16],
            pmd.SETTING_RANGE: [float(r) for r in ranges],
        }
        if self.compressed:
            settings[pmd.SETTING_CHANNELS] = [3]
        return pmd.pack_settings(settings)

    def _start(self, measurement: int, params: bytes) -> tuple[str, bytes]:
        if measurement in self.running:
            return self._answer(pmd.OP_START, measurement, STATUS_ALREADY_IN_STATE)
        try:
            settings = pmd.parse_settings(params)
        except pmd.FrameError:
            return self._answer(pmd.OP_START, measurement, STATUS_INVALID_PARAMETER)
        ranges = ACC_RANGES_G if measurement == pmd.MEAS_ACC else GYRO_RANGES_DPS
        rate = (settings.get(pmd.SETTING_RATE) or [self.rate_hz])[0]  # a TLV may carry 0 values
        range_value = int((settings.get(pmd.SETTING_RANGE) or [ranges[-1]])[0])
        if rate not in self.acc_rates_hz:
            return self._answer(pmd.OP_START, measurement, STATUS_INVALID_RATE)
        if range_value not in ranges:
            return self._answer(pmd.OP_START, measurement, STATUS_INVALID_RANGE)
        self.rate_hz = rate
        self.running[measurement] = range_value
        if measurement == pmd.MEAS_GYRO:
            factor = {pmd.SETTING_FACTOR: [range_value / 32768.0]}
            return self._answer(pmd.OP_START, measurement, STATUS_SUCCESS, pmd.pack_settings(factor))
        # The H10's documented answer ends in one extra byte (01); the Verity's has none.
        return self._answer(pmd.OP_START, measurement, STATUS_SUCCESS, b"" if self.compressed else b"\x01")

    def encode(self, batch: ImuBatch) -> list[tuple[str, bytes]]:
        out: list[tuple[str, bytes]] = []
        for measurement, range_value in self.running.items():
            if measurement == pmd.MEAS_ACC:
                milli_g = np.clip(batch.acc_mps2 / G * 1000.0, -1000.0 * range_value, 1000.0 * range_value)
                raw = quantise(milli_g, 1.0)
            else:
                raw = quantise(batch.gyr_radps / DEG, range_value / 32768.0)
            t_old, v_old = self._pending.get(measurement, (np.zeros(0), np.zeros((0, 3), dtype=np.int64)))
            t_s, values = np.concatenate([t_old, batch.t_s]), np.concatenate([v_old, raw])
            n = self.frame_samples
            while values.shape[0] >= n:
                out.append((pmd.PMD_DATA_UUID, self._frame(measurement, float(t_s[n - 1]), values[:n])))
                t_s, values = t_s[n:], values[n:]
            self._pending[measurement] = (t_s, values)
        return out

    def _frame(self, measurement: int, t_last_s: float, values: np.ndarray) -> bytes:
        timestamp_ns = pmd.DEFAULT_CLOCK_NS + round(t_last_s * 1e9)
        if not self.compressed:
            return pmd.pack_header(measurement, timestamp_ns, 0x01) + values.astype("<i2").tobytes()
        frame_type = 0x81 if measurement == pmd.MEAS_ACC else 0x80
        return pmd.pack_header(measurement, timestamp_ns, frame_type) + pmd.encode_delta(values)
