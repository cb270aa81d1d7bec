"""Thingy:52 raw motion characteristic (research/ble-protocols.md §5)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.profiles.thingy import (
    MOTION_CONFIG_UUID,
    RAW_DATA_UUID,
    ThingyDecoder,
    ThingyEncoder,
    ThingyProfile,
)

VECTOR = bytes.fromhex("000000000004400100000000900100000000")


def test_thingy_vector_q_formats() -> None:
    batch = ThingyDecoder(50.0, hold_s=0).decode(RAW_DATA_UUID, VECTOR, 2.0)
    assert batch is not None and batch.mag_ut is not None
    np.testing.assert_allclose(batch.acc_mps2, [[0, 0, STANDARD_GRAVITY]])
    np.testing.assert_allclose(batch.gyr_radps, [[10 * math.pi / 180, 0, 0]])
    np.testing.assert_allclose(batch.mag_ut, [[25, 0, 0]])


def test_thingy_config_write_sets_rate() -> None:
    (write,) = ThingyProfile().start_writes(100)
    assert write.char_uuid == MOTION_CONFIG_UUID
    assert write.data == bytes.fromhex("e803f401f401640001")  # 1000, 500, 500 ms, 100 Hz, wake on
    encoder = ThingyEncoder(10.0)
    encoder.handle_write(MOTION_CONFIG_UUID, write.data)
    assert encoder.rate_hz == 100.0
    encoder.handle_write(MOTION_CONFIG_UUID, bytes.fromhex("e803f401f401f40101"))  # 500 Hz: refused
    assert encoder.rate_hz == 100.0


def test_thingy_wrong_length_counted() -> None:
    decoder = ThingyDecoder(50.0, hold_s=0)
    assert decoder.decode(RAW_DATA_UUID, VECTOR[:17], 0.0) is None
    assert decoder.decode(RAW_DATA_UUID, VECTOR + b"\0", 0.0) is None
    assert decoder.stats.malformed == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_thingy_fuzz_random_bytes_never_raise(data: bytes) -> None:
    decoder = ThingyDecoder(50.0, hold_s=0)
    out = decoder.decode(RAW_DATA_UUID, data, 1.0)
    assert (out is None) == (len(data) != 18)
    assert decoder.stats.malformed == (len(data) != 18)
