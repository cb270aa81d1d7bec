"""Polar PMD wire format: data-frame header, raw and delta-compressed samples, control-point TLVs.

Facts from Polar's BLE SDK and its PDF specification (research/ble-protocols.md §1.4-1.8:
online_measurement.pdf Tables 5-12, `BlePMDClient.parseDeltaFramesAll`, `PmdSetting.kt`,
`PmdControlPointResponse.kt`). Written from those facts, not from their code.

Delta frame payload: `channels` reference values of ceil(resolution/8) bytes LE, then blocks of
[bit width w, sample count n, ceil(w*n*channels/8) bytes] whose w-bit two's-complement deltas are
read least-significant bit first, sample-major, channel-minor.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CP_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"  # read / write / indicate
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"  # notify
HR_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HR_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"

EPOCH_2000_TO_UNIX_NS = 946_684_800_000_000_000
DEFAULT_CLOCK_NS = 599_616_000_000_000_000  # 2019-01-01: where H10/H9 restart if never set

MEAS_ACC, MEAS_GYRO, MEAS_MAG, MEAS_SDK_MODE = 2, 5, 6, 9
OP_GET_SETTINGS, OP_START, OP_STOP = 0x01, 0x02, 0x03
RESPONSE, DEVICE_STOPPED = 0xF0, 0x01
SETTING_RATE, SETTING_RESOLUTION, SETTING_RANGE, SETTING_CHANNELS, SETTING_FACTOR = 0, 1, 2, 4, 5
SETTING_WIDTH = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}  # bytes per value (CHANNELS is 1 byte)
STATUS_NAMES = (
    "success", "invalid op code", "invalid measurement type", "not supported", "invalid length",
    "invalid parameter", "already in state", "invalid resolution", "invalid sample rate",
    "invalid range", "invalid MTU", "invalid number of channels", "invalid state", "device in charger",
    "disk full",
)  # fmt: skip
HEADER_BYTES = 10
COMPRESSED = 0x80


class FrameError(ValueError):
    """A PMD frame that cannot be decoded (the decoder counts it as malformed)."""


@dataclass(frozen=True)
class DataFrame:
    measurement: int
    timestamp_ns: int  # of the LAST sample, ns since 2000-01-01
    frame_type: int  # bit 7 = delta compressed
    payload: bytes


def parse_header(data: bytes) -> DataFrame:
    if len(data) <= HEADER_BYTES:
        raise FrameError(f"frame of {len(data)} bytes has no payload")
    timestamp_ns = struct.unpack_from("<Q", data, 1)[0]
    return DataFrame(data[0] & 0x3F, timestamp_ns, data[9], bytes(data[HEADER_BYTES:]))


def pack_header(measurement: int, timestamp_ns: int, frame_type: int) -> bytes:
    return struct.pack("<BQB", measurement, timestamp_ns, frame_type)


def decode_raw(payload: bytes, bytes_per_axis: int) -> np.ndarray:
    """Raw frames 0x00/0x01/0x02: 3 signed little-endian axes per sample, no count field."""
    step = 3 * bytes_per_axis
    if len(payload) % step:
        raise FrameError(f"raw payload of {len(payload)} bytes is not whole samples of {step}")
    if bytes_per_axis in (1, 2):
        dtype = "<i1" if bytes_per_axis == 1 else "<i2"
        return np.frombuffer(payload, dtype=dtype).reshape(-1, 3).astype(np.int64)
    b = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
    value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    return np.where(value & 0x800000, value - (1 << 24), value).reshape(-1, 3)


def _sign_extend(value: np.ndarray, bits: int) -> np.ndarray:
    sign = np.int64(1) << (bits - 1)
    return (value ^ sign) - sign


def decode_delta(payload: bytes, channels: int, resolution: int, signed_ref: bool = True) -> np.ndarray:
    """All samples of a delta-compressed frame as int64, shape (n, channels)."""
    ref_bytes = (resolution + 7) // 8
    if len(payload) < channels * ref_bytes:
        raise FrameError("delta frame shorter than its reference sample")
    ref = np.array(
        [int.from_bytes(payload[i * ref_bytes : (i + 1) * ref_bytes], "little") for i in range(channels)],
        dtype=np.int64,
    )
    if signed_ref:
        ref = _sign_extend(ref, resolution)
    blocks = [ref.reshape(1, channels)]
    pos = channels * ref_bytes
    while pos < len(payload):
        if pos + 2 > len(payload):
            raise FrameError("delta block header cut off")
        width, count = payload[pos], payload[pos + 1]
        pos += 2
        nbytes = (width * count * channels + 7) // 8
        if width == 0 or width > 32 or count == 0 or pos + nbytes > len(payload):
            raise FrameError(f"bad delta block (width {width}, count {count}) at byte {pos - 2}")
        bits = np.unpackbits(np.frombuffer(payload, np.uint8, nbytes, pos), bitorder="little")
        fields = bits[: width * count * channels].reshape(-1, width).astype(np.int64)
        deltas = _sign_extend(fields @ (np.int64(1) << np.arange(width, dtype=np.int64)), width)
        blocks.append(deltas.reshape(count, channels))
        pos += nbytes
    samples = np.cumsum(np.concatenate(blocks), axis=0)
    if not signed_ref:  # float gyro frames add deltas to the bit patterns modulo 2^32
        samples &= 0xFFFFFFFF
    return samples


def encode_delta(samples: np.ndarray, resolution: int = 16, block: int = 16) -> bytes:
    """The inverse of decode_delta for signed data: reference + blocks of up to `block` samples,
    each block with the smallest bit width that holds its deltas."""
    samples = np.asarray(samples, dtype=np.int64)
    ref_bytes = (resolution + 7) // 8
    out = bytearray()
    for value in samples[0]:
        out += int(value & ((1 << (8 * ref_bytes)) - 1)).to_bytes(ref_bytes, "little")
    deltas = np.diff(samples, axis=0)
    for start in range(0, deltas.shape[0], block):
        chunk = deltas[start : start + block]
        peak = int(max(int(chunk.max()), -int(chunk.min()) - 1, 0))
        width = max(peak.bit_length() + 1, 1)
        fields = (chunk.reshape(-1, 1) >> np.arange(width)) & 1
        packed = np.packbits(fields.astype(np.uint8).reshape(-1), bitorder="little")
        out += bytes([width, chunk.shape[0]]) + packed.tobytes()
    return bytes(out)


def parse_settings(params: bytes) -> dict[int, list[float]]:
    """TLV list [type, count, values...] -> {type: values}; FACTOR comes back as float."""
    settings: dict[int, list[float]] = {}
    pos = 0
    while pos + 2 <= len(params):
        kind, count = params[pos], params[pos + 1]
        width = SETTING_WIDTH.get(kind)
        pos += 2
        if width is None or pos + width * count > len(params):
            raise FrameError(f"bad setting TLV type {kind} at byte {pos - 2}")
        values: list[float] = []
        for _ in range(count):
            chunk = params[pos : pos + width]
            if kind == SETTING_FACTOR:
                values.append(struct.unpack("<f", chunk)[0])
            else:
                values.append(float(int.from_bytes(chunk, "little")))
            pos += width
        settings[kind] = values
    return settings


def pack_settings(settings: dict[int, list[float]]) -> bytes:
    out = bytearray()
    for kind, values in settings.items():
        out += bytes([kind, len(values)])
        for v in values:
            if kind == SETTING_FACTOR:
                out += struct.pack("<f", v)
            else:
                out += int(v).to_bytes(SETTING_WIDTH[kind], "little")
    return bytes(out)


def start_request(measurement: int, rate_hz: int, range_value: int, channels: int | None) -> bytes:
    """REQUEST_MEASUREMENT_START with 16-bit resolution, e.g. 02 02 00 01 C8 00 01 01 10 00 02 01 08 00."""
    settings: dict[int, list[float]] = {
        SETTING_RATE: [rate_hz],
        SETTING_RESOLUTION: [16],
        SETTING_RANGE: [range_value],
    }
    if channels is not None:
        settings[SETTING_CHANNELS] = [channels]
    return bytes([OP_START, measurement]) + pack_settings(settings)


def response(op: int, measurement: int, status: int, params: bytes = b"") -> bytes:
    """F0 <op> <type> <status> <more=0> <params>."""
    return bytes([RESPONSE, op, measurement, status, 0]) + params
