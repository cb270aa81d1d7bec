"""Polar PMD decoding against the research notes' vectors (research/ble-protocols.md §1.8) and the
control-point exchanges of §1.5."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.profiles import polar_frames as pmd
from tempocoach.sensors.profiles.polar import (
    PMD_CP_UUID,
    PMD_DATA_UUID,
    PolarDecoder,
    PolarH10Profile,
    PolarVeritySenseProfile,
)

h = bytes.fromhex
MG = STANDARD_GRAVITY / 1000.0  # m/s^2 per mG


def acc_decoder(rate_hz: float = 52.0) -> PolarDecoder:
    return PolarDecoder(rate_hz, has_gyro=False, family="polar-h10")


def test_polar_vector_1_spec_delta_example_payload() -> None:
    samples = pmd.decode_delta(h("D0FF6501E40F0802FC07FF0C13F2"), channels=3, resolution=16)
    assert samples.tolist() == [[-48, 357, 4068], [-52, 364, 4067], [-40, 383, 4053]]


def test_polar_vector_2_acc_compressed_type1() -> None:
    decoder = acc_decoder()
    batch = decoder.decode(PMD_DATA_UUID, h("02650000000000000081F1FF1400F00306017B0F08"), 0.0)
    assert batch is not None
    np.testing.assert_allclose(batch.acc_mps2 / MG, [[-15, 20, 1008], [-20, 17, 1008]], atol=1e-9)
    assert batch.t_s[-1] == pytest.approx(101e-9)  # the frame stamp belongs to the LAST sample
    assert batch.t_s[0] == pytest.approx(101e-9 - 1 / 52)  # first frame: back-filled at 1/rate
    assert batch.meta["gyro"] == "absent"
    assert np.all(batch.gyr_radps == 0)


def test_polar_vector_3_acc_compressed_type0_10bit_deltas_with_factor() -> None:
    # Only the first block bytes are quoted; the count is cut to 1 so the payload is complete.
    payload = h("7107F06A9E8D0A01BE5CBEBA")
    raw = pmd.decode_delta(payload, channels=3, resolution=16)
    assert raw.tolist() == [[1905, 27376, -29282], [2095, 27271, -29367]]
    decoder = acc_decoder()
    factor = pmd.pack_settings({pmd.SETTING_FACTOR: [2.44e-4]})
    start_response = pmd.response(pmd.OP_START, pmd.MEAS_ACC, 0, factor)
    decoder.decode(PMD_CP_UUID, start_response, 0.0)
    batch = decoder.decode(PMD_DATA_UUID, pmd.pack_header(2, 10**9, 0x80) + payload, 0.0)
    assert batch is not None  # type 0x80 is in g: value * FACTOR * 1000 = mG (the SDK test's rule)
    np.testing.assert_allclose(batch.acc_mps2 / MG, raw * 2.44e-4 * 1000, rtol=1e-6)


def test_polar_vector_4_gyro_compressed_type0() -> None:
    decoder = PolarDecoder(52.0, has_gyro=True, family="polar-verity")
    frame = pmd.parse_header(h("05FFFFFFFFFFFFFF7F80EAFF08000D000301DF00"))
    assert pmd.decode_delta(frame.payload, 3, 16).tolist() == [[-22, 8, 13], [-23, 11, 16]]
    assert decoder.decode(PMD_DATA_UUID, h("05FFFFFFFFFFFFFF7F80EAFF08000D000301DF00"), 0.0) is None
    assert decoder.stats.samples == 2  # buffered until the ACC stream covers the same span


def test_polar_vector_5_gyro_compressed_type1_float() -> None:
    data = h("050094357700000000810000803F000020410000A0411C010000A001000008CDCCEC0D")
    frame = pmd.parse_header(data)
    assert frame.timestamp_ns == 2_000_000_000
    bits = pmd.decode_delta(frame.payload, 3, 32, signed_ref=False)
    dps = bits.astype(np.uint32).view(np.float32)
    np.testing.assert_allclose(dps, [[1.0, 10.0, 20.0], [10.0, 20.0, 1.1]], rtol=1e-6)


def test_polar_vector_6_h10_raw_type1() -> None:
    decoder = acc_decoder(rate_hz=52.0)
    batch = decoder.decode(PMD_DATA_UUID, h("02009435770000000001F7FFFFFFE703F8FFFEFFE503"), 0.0)
    assert batch is not None
    np.testing.assert_allclose(batch.acc_mps2 / MG, [[-9, -1, 999], [-8, -2, 997]], atol=1e-9)
    assert batch.t_s[-1] == pytest.approx(2.0)


def test_polar_vector_7_real_verity_capture_first_block() -> None:
    frame = (
        "02 00 41 6F C4 12 45 93 0A 81 EE 02 1F FE 82 FF 08 0A 10 DA 20 D6 A3 0B D9 CB E7 D6 F6 C4 E6 F1 E1 "
        "F3 E0 15 1A FE 28 1B F8 37 2C 25 20 13 19 11"
    )
    decoder = acc_decoder()
    batch = decoder.decode(PMD_DATA_UUID, h(frame.replace(" ", "")), 0.0)
    assert batch is not None
    expected = [(750, -481, -126), (766, -519, -94), (724, -612, -83), (685, -665, -108), (643, -675, -168),
                (617, -690, -199), (604, -722, -178), (630, -724, -138), (657, -732, -83), (701, -695, -51),
                (720, -670, -34)]  # fmt: skip
    np.testing.assert_allclose(batch.acc_mps2 / MG, expected, atol=1e-9)
    # 2024-02-23 18:38:28.9 UTC, the day issue #443 was filed (ns since 2000 -> Unix)
    unix_s = batch.t_s[-1] + pmd.EPOCH_2000_TO_UNIX_NS * 1e-9
    assert unix_s == pytest.approx(1708713508.9, abs=0.1)


def test_polar_vector_8_truncated_capture_reference_then_malformed() -> None:
    data = h("029C5829138457730781FAFF2100F403063B")
    assert pmd.decode_delta(pmd.parse_header(data).payload[:6], 3, 16).tolist() == [[-6, 33, 1012]]
    decoder = acc_decoder()
    assert decoder.decode(PMD_DATA_UUID, data, 0.0) is None  # block of 59 samples is cut off
    assert decoder.stats.malformed == 1


def test_polar_h10_start_sequence_matches_spec_bytes() -> None:
    profile = PolarH10Profile()
    writes = profile.start_writes(200)
    assert [w.data for w in writes] == [h("02 02 00 01 C8 00 01 01 10 00 02 01 08 00".replace(" ", ""))]
    assert writes[0].char_uuid == PMD_CP_UUID
    assert [w.data for w in profile.stop_writes()] == [h("0302")]
    cp = next(c for s in profile.services() for c in s.characteristics if c.uuid == PMD_CP_UUID)
    assert cp.initial_value[:2] == h("0F05")  # feature read: ECG + ACC
    assert set(cp.properties) == {"read", "write", "indicate"}


def test_polar_verity_start_sequence_sends_one_byte_channels() -> None:
    writes = PolarVeritySenseProfile().start_writes(52)
    assert writes[0].data == h("02 02 00 01 34 00 01 01 10 00 02 01 08 00 04 01 03".replace(" ", ""))
    assert writes[1].data == h("02 05 00 01 34 00 01 01 10 00 02 01 D0 07 04 01 03".replace(" ", ""))


def test_polar_emulated_h10_answers_like_the_spec() -> None:
    encoder = PolarH10Profile().encoder(200)
    start = PolarH10Profile().start_writes(200)[0]
    assert encoder.handle_write(PMD_CP_UUID, start.data) == [(PMD_CP_UUID, h("F00202000001"))]
    assert encoder.streaming
    assert encoder.handle_write(PMD_CP_UUID, start.data) == [(PMD_CP_UUID, h("F002020600"))]  # already on
    assert encoder.handle_write(PMD_CP_UUID, h("0102"))[0][1] == h(
        "F0 01 02 00 00 00 04 19 00 32 00 64 00 C8 00 01 01 10 00 02 03 02 00 04 00 08 00".replace(" ", "")
    )
    assert encoder.handle_write(PMD_CP_UUID, h("0205"))[0][1][:4] == h("F0020502")  # no gyro on an H10
    assert encoder.handle_write(PMD_CP_UUID, h("0302")) == [(PMD_CP_UUID, h("F003020000"))]
    assert not encoder.streaming


def test_polar_emulator_rejects_odd_start_requests() -> None:
    encoder = PolarVeritySenseProfile().encoder(52)
    assert encoder.handle_write(PMD_CP_UUID, h("0202000002000000"))[0][1] == h("F002020000")  # empty TLVs
    encoder = PolarVeritySenseProfile().encoder(52)
    assert encoder.handle_write(PMD_CP_UUID, h("020200016400"))[0][1] == h("F002020800")  # 100 Hz: no
    assert encoder.handle_write(PMD_CP_UUID, h("0202020103"))[0][1] == h("F002020500")  # cut-off TLV
    assert encoder.handle_write(PMD_CP_UUID, h("0282"))[0][1] == h("F002820300")  # offline: not offered
    assert encoder.handle_write(PMD_CP_UUID, h("0902"))[0][1] == h("F009020100")
    assert not encoder.streaming


def test_polar_gyro_refused_marks_gyro_absent_and_streams_acc() -> None:
    decoder = PolarDecoder(52.0, has_gyro=True, family="polar-verity")
    decoder.decode(PMD_CP_UUID, h("F002050300"), 0.0)
    assert any("not supported" in n for n in decoder.stats.notes)
    batch = decoder.decode(PMD_DATA_UUID, h("02650000000000000081F1FF1400F00306017B0F08"), 0.0)
    assert batch is not None and batch.meta["gyro"] == "absent" and len(batch) == 2


def test_polar_multi_packet_response_and_device_stop_message() -> None:
    decoder = acc_decoder()
    factor = pmd.pack_settings({pmd.SETTING_FACTOR: [0.5]})
    decoder.decode(PMD_CP_UUID, h("F002020001") + factor[:3], 0.0)  # more = 1: parameters continue
    decoder.decode(PMD_CP_UUID, h("F002020000") + factor[3:], 0.0)
    batch = decoder.decode(PMD_DATA_UUID, h("02009435770000000001") + h("E803E803E803"), 0.0)
    assert batch is not None
    np.testing.assert_allclose(batch.acc_mps2 / MG, [[500, 500, 500]])
    decoder.decode(PMD_CP_UUID, h("0102"), 0.0)
    assert any("stopped" in n for n in decoder.stats.notes)
    assert decoder.stats.malformed == 0


def test_polar_frames_continue_then_gap_is_visible_and_counted() -> None:
    decoder = acc_decoder(rate_hz=50.0)
    payload = h("E803E803E803") * 5
    for k in (1, 2, 3):
        decoder.decode(PMD_DATA_UUID, pmd.pack_header(2, k * 100_000_000, 0x01) + payload, 0.0)
    batch = decoder.decode(PMD_DATA_UUID, pmd.pack_header(2, 6 * 100_000_000, 0x01) + payload, 0.0)
    assert batch is not None
    assert decoder.stats.lost_samples == 10  # two frames of 5 samples never arrived
    assert batch.t_s[0] == pytest.approx(0.52)  # back-filled at 20 ms, not stretched over the gap


def test_polar_switching_frame_type_never_goes_back_in_time() -> None:
    decoder = acc_decoder(rate_hz=50.0)
    raw = pmd.pack_header(2, 2_000_000_000, 0x01) + h("E803E803E803") * 5
    delta = h("02650000000000000081F1FF1400F00306017B0F08")  # a new clock, stamped far earlier
    first = decoder.decode(PMD_DATA_UUID, raw, 0.0)
    assert first is not None
    assert decoder.decode(PMD_DATA_UUID, delta, 0.0) is None
    assert decoder.stats.notes and decoder.stats.malformed == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([PMD_DATA_UUID, PMD_CP_UUID]))
def test_polar_fuzz_random_bytes_never_raise(data: bytes, uuid: str) -> None:
    for decoder in (acc_decoder(), PolarDecoder(52.0, has_gyro=True, family="polar-verity")):
        out = decoder.decode(uuid, data, 1.0)
        assert out is None or (np.all(np.isfinite(out.acc_mps2)) and np.all(np.diff(out.t_s) > 0))
        if uuid == PMD_DATA_UUID and len(data) <= 10:
            assert decoder.stats.malformed == 1


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 40), st.binary(min_size=1, max_size=8))
def test_polar_fuzz_truncated_and_oversized_frames_counted(cut: int, tail: bytes) -> None:
    good = h("02650000000000000081F1FF1400F00306017B0F08")
    decoder = acc_decoder()
    assert decoder.decode(PMD_DATA_UUID, good[: min(cut, 10)], 0.0) is None
    assert decoder.stats.malformed == 1
    out = decoder.decode(PMD_DATA_UUID, good + b"\x20" + tail, 0.0)  # a bogus 32-bit block follows
    assert out is None or len(out) >= 2
