"""The tempocoach open profile: the worked example in docs/open-profile.md, loss counting, control."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.profiles.tempocoach_open import (
    CONTROL_UUID,
    DATA_UUID,
    OpenDecoder,
    OpenEncoder,
    TempocoachOpenProfile,
    pack_packet,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "open-profile.md"


def worked_example() -> bytes:
    """The hex block under '## Worked example' in the spec, exactly as printed there."""
    section = DOC.read_text(encoding="utf-8").split("## Worked example", 1)[1]
    block = re.search(r"```\n([0-9A-F ]+)\n```", section)
    assert block is not None, "worked example hex block missing from docs/open-profile.md"
    return bytes.fromhex(block.group(1).replace(" ", ""))


def test_open_worked_example_from_the_spec_decodes_to_documented_values() -> None:
    decoder = OpenDecoder(100.0)
    batch = decoder.decode(DATA_UUID, worked_example(), 5.0)
    assert batch is not None
    np.testing.assert_allclose(batch.t_s, [1.000, 1.010])
    np.testing.assert_allclose(batch.acc_mps2 / STANDARD_GRAVITY, [[0.0, 0.0, 1.0], [0.5, -1.0, 1.0]])
    np.testing.assert_allclose(
        np.degrees(batch.gyr_radps), [[10.009766, 0.0, -10.009766], [0.0, 1000.0, 0.0]], atol=1e-6
    )
    assert batch.meta["clock"] == "device"


def test_open_counter_gap_counts_lost_samples_and_keeps_gap_visible() -> None:
    decoder = OpenDecoder(100.0)
    raw = np.zeros((2, 6), dtype=np.int64)
    decoder.decode(DATA_UUID, pack_packet(4660, 1_000_000, 10000, raw, 3, 4), 0.0)
    decoder.decode(DATA_UUID, pack_packet(4662, 1_020_000, 10000, raw, 3, 4), 0.0)
    batch = decoder.decode(DATA_UUID, pack_packet(4674, 1_140_000, 10000, raw, 3, 4), 0.0)
    assert batch is not None and decoder.stats.lost_samples == 10
    assert batch.t_s[0] == pytest.approx(1.14)
    assert decoder.decode(DATA_UUID, pack_packet(4674, 1_140_000, 10000, raw, 3, 4), 0.0) is None  # repeat
    assert decoder.stats.malformed == 1


def test_open_counter_and_clock_wrap() -> None:
    decoder = OpenDecoder(100.0)
    raw = np.zeros((4, 6), dtype=np.int64)
    t0 = 2**32 - 20_000
    first = decoder.decode(DATA_UUID, pack_packet(65534, t0, 10000, raw, 3, 4), 0.0)
    second = decoder.decode(DATA_UUID, pack_packet(65538, t0 + 40_000, 10000, raw, 3, 4), 0.0)
    assert first is not None and second is not None
    assert decoder.stats.lost_samples == 0
    assert second.t_s[0] == pytest.approx(first.t_s[-1] + 0.01)


def test_open_control_commands_and_replies() -> None:
    profile = TempocoachOpenProfile()
    assert profile.start_writes(100)[0].data == bytes.fromhex("0164000304")
    assert profile.stop_writes()[0].data == b"\x02"
    encoder = OpenEncoder(100.0)
    assert encoder.handle_write(CONTROL_UUID, bytes.fromhex("0164000304")) == [(CONTROL_UUID, b"\x81\x00")]
    assert encoder.streaming
    assert encoder.handle_write(CONTROL_UUID, bytes.fromhex("01E8030304"))[0][1] == b"\x81\x00"  # 1000 Hz
    assert encoder.handle_write(CONTROL_UUID, bytes.fromhex("0105000304"))[0][1] == b"\x81\x02"  # 5 Hz
    assert encoder.handle_write(CONTROL_UUID, bytes.fromhex("0164000904"))[0][1] == b"\x81\x03"
    assert encoder.handle_write(CONTROL_UUID, b"\x07")[0][1] == b"\x87\x01"
    assert encoder.handle_write(CONTROL_UUID, b"\x02") == [(CONTROL_UUID, b"\x82\x00")]
    assert not encoder.streaming
    decoder = OpenDecoder(100.0)
    decoder.decode(CONTROL_UUID, b"\x81\x02", 0.0)
    assert "status 2" in decoder.stats.notes[0]


@pytest.mark.parametrize(
    "bad",
    [
        "truncated",
        "oversized",
        "version",
        "count",
        "range",
        "period",
    ],
)
def test_open_malformed_packets_counted(bad: str) -> None:
    good = bytearray(worked_example())
    data = {
        "truncated": bytes(good[:-1]),
        "oversized": bytes(good) + b"\0" * 12,
        "version": bytes([2]) + bytes(good[1:]),
        "count": bytes(good[:1]) + bytes([3]) + bytes(good[2:]),
        "range": bytes(good[:2]) + bytes([7]) + bytes(good[3:]),
        "period": bytes(good[:6]) + b"\x10\x00" + bytes(good[8:]),
    }[bad]
    decoder = OpenDecoder(100.0)
    assert decoder.decode(DATA_UUID, data, 0.0) is None
    assert decoder.stats.malformed == 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=260), max_size=5))
def test_open_fuzz_random_bytes_never_raise(packets: list[bytes]) -> None:
    decoder = OpenDecoder(100.0)
    last = -math.inf
    for data in packets:
        out = decoder.decode(DATA_UUID, data, 0.0)
        if out is None:
            continue
        assert out.t_s[0] > last and np.all(np.isfinite(out.acc_mps2))
        last = float(out.t_s[-1])
    assert decoder.stats.malformed + decoder.stats.packets == len(packets)


def test_open_notes_stay_bounded_over_a_long_session() -> None:
    decoder = OpenDecoder(100.0)
    raw = np.zeros((1, 6), dtype=np.int64)
    decoder.decode(DATA_UUID, pack_packet(10, 0, 10000, raw, 3, 4), 0.0)
    for _ in range(500):
        decoder.decode(DATA_UUID, pack_packet(10, 0, 10000, raw, 3, 4), 0.0)  # the same packet again
        decoder.decode(CONTROL_UUID, b"\x81\x02", 0.0)
    assert decoder.stats.malformed == 500
    assert len(decoder.stats.notes) == 2  # one per distinct message
