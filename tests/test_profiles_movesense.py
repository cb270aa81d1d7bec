"""Movesense GSP framing and the IMU6 payload (research/ble-protocols.md §3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.profiles.movesense import (
    COMMAND_UUID,
    DATA_UUID,
    MovesenseDecoder,
    MovesenseEncoder,
    MovesenseProfile,
    imu6_payload,
)

h = bytes.fromhex
VECTOR = h(
    "02 64 40 E2 01 00 CD CC CC 3D CD CC 4C 3E C3 F5 1C 41 00 00 00 00 00 00 00 00 CD CC 1C 41 00 00 80 3F "
    "00 00 00 C0 00 00 00 3F 00 00 00 00 00 00 00 00 00 00 00 00".replace(" ", "")
)


def test_movesense_vector_synthetic_imu6_two_samples() -> None:
    batch = MovesenseDecoder(104.0).decode(DATA_UUID, VECTOR, 5.0)
    assert batch is not None
    np.testing.assert_allclose(batch.acc_mps2, [[0.1, 0.2, 9.81], [0.0, 0.0, 9.8]], rtol=1e-6)
    np.testing.assert_allclose(
        batch.gyr_radps * 180 / math.pi, [[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], rtol=1e-6
    )
    assert batch.t_s[0] == pytest.approx(123.456)  # device ms of the FIRST sample
    assert batch.t_s[1] == pytest.approx(123.456 + 1 / 104)


def test_movesense_subscribe_and_unsubscribe_bytes() -> None:
    profile = MovesenseProfile()
    assert profile.start_writes(100)[0].data == h("01632F4D6561732F494D55362F313034")  # /Meas/IMU6/104
    assert profile.stop_writes()[0].data == h("0263")
    assert profile.start_writes(100)[0].char_uuid == COMMAND_UUID


def test_movesense_emulator_results_and_data_part2() -> None:
    encoder = MovesenseEncoder(208.0)
    assert encoder.handle_write(COMMAND_UUID, b"\x01\x63/Meas/IMU6/100") == [
        (DATA_UUID, h("0163F501"))
    ]  # 501
    assert encoder.handle_write(COMMAND_UUID, b"\x01\x63/Meas/Temp") == [(DATA_UUID, h("01639401"))]  # 404
    assert encoder.handle_write(COMMAND_UUID, b"\x01\x63/Meas/IMU6/208") == []
    assert encoder.handle_write(COMMAND_UUID, b"\x01\x64/Meas/IMU6/208") == [
        (DATA_UUID, h("0164FB01"))
    ]  # 507
    from tempocoach.sensors.base import ImuBatch

    t = np.arange(8) / 208
    acc = np.arange(24, dtype=float).reshape(8, 3)
    packets = encoder.encode(ImuBatch(t, acc, np.zeros((8, 3))))
    assert [p[1][0] for p in packets] == [2, 3] and len(packets[0][1]) == 155
    decoder = MovesenseDecoder(208.0)
    assert decoder.decode(DATA_UUID, packets[0][1], 0.0) is None  # waits for its second part
    batch = decoder.decode(DATA_UUID, packets[1][1], 0.0)
    assert batch is not None and len(batch) == 8
    np.testing.assert_allclose(batch.acc_mps2, acc, rtol=1e-6)
    decoder.decode(DATA_UUID, h("0163F501"), 0.0)
    assert any("501" in n for n in decoder.stats.notes)


def test_movesense_timestamp_gap_counts_lost_samples() -> None:
    decoder = MovesenseDecoder(104.0)
    zeros = np.zeros((4, 3))
    for t_ms in (1000, 1038, 1077, 1231):  # one packet of 4 samples (~38 ms) missing before 1231
        decoder.decode(DATA_UUID, bytes([2, 0x63]) + imu6_payload(t_ms, zeros, zeros), 0.0)
    assert decoder.stats.lost_samples == 12  # 154 ms / 9.6 ms = 16 periods, 4 delivered


def test_movesense_garbled_counted() -> None:
    decoder = MovesenseDecoder(104.0)
    assert decoder.decode(DATA_UUID, b"\x02", 0.0) is None
    assert decoder.decode(DATA_UUID, b"\x09\x63abc", 0.0) is None
    assert decoder.decode(DATA_UUID, b"\x03\x63abc", 0.0) is None  # part 2 without part 1
    nan_payload = bytes([2, 0x63]) + imu6_payload(0, np.full((1, 3), np.nan), np.zeros((1, 3)))
    assert decoder.decode(DATA_UUID, nan_payload, 0.0) is None
    assert decoder.stats.malformed == 4


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=5))
def test_movesense_fuzz_random_bytes_never_raise(packets: list[bytes]) -> None:
    decoder = MovesenseDecoder(104.0)
    last_t = -math.inf
    for data in packets:
        out = decoder.decode(DATA_UUID, data, 0.0)
        if out is not None:
            assert out.t_s[0] > last_t and np.all(np.isfinite(out.gyr_radps))
            last_t = float(out.t_s[-1])
