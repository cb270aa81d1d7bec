"""WitMotion 0x55 0x61 packets (research/ble-protocols.md §2) and command bytes."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.profiles.witmotion import (
    NOTIFY_UUID,
    WRITE_UUID,
    WitMotionDecoder,
    WitMotionEncoder,
    WitMotionProfile,
)

h = bytes.fromhex
VECTOR = h("55 61 00 00 00 00 00 08 00 00 00 00 66 06 00 00 00 00 00 40".replace(" ", ""))


def test_witmotion_vector_constructed_packet() -> None:
    decoder = WitMotionDecoder(50.0, hold_s=0)
    batch = decoder.decode(NOTIFY_UUID, VECTOR, 3.0)
    assert batch is not None
    np.testing.assert_allclose(batch.acc_mps2, [[0, 0, STANDARD_GRAVITY]])
    np.testing.assert_allclose(batch.gyr_radps * 180 / math.pi, [[0, 0, 99.976]], atol=1e-3)
    assert batch.t_s[0] == 3.0 and batch.meta["clock"] == "arrival"


def test_witmotion_several_frames_per_notification_and_register_replies() -> None:
    decoder = WitMotionDecoder(50.0, hold_s=0)
    batch = decoder.decode(NOTIFY_UUID, VECTOR * 3, 1.0)
    assert batch is not None and len(batch) == 3
    np.testing.assert_allclose(np.diff(batch.t_s), 1 / 50)
    battery_reply = h("5571640086010000000000000000000000000000")
    assert decoder.decode(NOTIFY_UUID, battery_reply, 1.1) is None
    mixed = decoder.decode(NOTIFY_UUID, VECTOR + battery_reply, 1.2)
    assert mixed is not None and len(mixed) == 1
    assert decoder.stats.malformed == 0


def test_witmotion_commands_unlock_then_rate_with_pauses() -> None:
    writes = WitMotionProfile().start_writes(100)
    assert [w.data for w in writes] == [h("FFAA6988B5"), h("FFAA030900")]
    assert all(w.char_uuid == WRITE_UUID and w.pause_after_s >= 0.05 for w in writes)
    assert WitMotionProfile().nearest_rate_hz(60) == 50.0
    assert WitMotionProfile().start_writes(200)[1].data == h("FFAA030B00")


def test_witmotion_emulator_obeys_rate_and_answers_register_read() -> None:
    encoder = WitMotionEncoder(10.0)
    encoder.handle_write(WRITE_UUID, h("FFAA6988B5"))
    encoder.handle_write(WRITE_UUID, h("FFAA030800"))
    assert encoder.unlocked and encoder.rate_hz == 50.0
    ((uuid, reply),) = encoder.handle_write(WRITE_UUID, h("FFAA276400"))
    assert uuid == NOTIFY_UUID and reply[:4] == h("55716400") and len(reply) == 20


def test_witmotion_garbled_and_truncated_counted() -> None:
    decoder = WitMotionDecoder(50.0, hold_s=0)
    assert decoder.decode(NOTIFY_UUID, VECTOR[:15], 0.0) is None
    assert decoder.decode(NOTIFY_UUID, VECTOR + VECTOR[:7], 0.1) is None  # trailing partial frame
    assert decoder.decode(NOTIFY_UUID, h("AA") + VECTOR[1:], 0.2) is None
    assert decoder.stats.malformed == 3 and decoder.stats.samples == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=90), max_size=6))
def test_witmotion_fuzz_random_bytes_never_raise(packets: list[bytes]) -> None:
    decoder = WitMotionDecoder(50.0, hold_s=0)
    last_t = -math.inf
    for i, data in enumerate(packets):
        out = decoder.decode(NOTIFY_UUID, data, 0.02 * i)
        if out is not None:
            assert out.t_s[0] > last_t and np.all(np.isfinite(out.acc_mps2))
            last_t = float(out.t_s[-1])
        elif data and len(data) % 20:
            assert decoder.stats.malformed >= 1
