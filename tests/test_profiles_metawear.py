"""MetaWear module messages against the SDK-test vectors (research/ble-protocols.md §4)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.profiles.metawear import BMI160, BMI270, NOTIFY_UUID, MetaWearDecoder

h = bytes.fromhex


def bmi160_decoder(
    acc_range_g: int = 8, gyro_range_dps: int = 2000, with_gyro: bool = False
) -> MetaWearDecoder:
    decoder = MetaWearDecoder(100.0, {"chip": BMI160}, acc_range_g, gyro_range_dps, hold_s=0)
    if not with_gyro:
        decoder.decode(NOTIFY_UUID, h("1380"), 0.0)  # empty module info: no gyro on this board
    return decoder


def test_metawear_vector_acc_bmi160_4g() -> None:
    batch = bmi160_decoder(acc_range_g=4).decode(NOTIFY_UUID, h("030416C494A22AD0"), 1.0)
    assert batch is not None and batch.meta["gyro"] == "absent"
    np.testing.assert_allclose(batch.acc_mps2 / STANDARD_GRAVITY, [[-1.872, -2.919, -1.495]], atol=1e-3)


def test_metawear_vector_acc_packed_bmi160_8g() -> None:
    data = h("031C62B7530DE9FD16D04D0E57028AFFA1050A01")
    batch = bmi160_decoder(acc_range_g=8).decode(NOTIFY_UUID, data, 1.0)
    assert batch is not None and len(batch) == 3
    expected = [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146], [-0.029, 0.352, 0.065]]
    np.testing.assert_allclose(batch.acc_mps2 / STANDARD_GRAVITY, expected, atol=1e-3)


def test_metawear_vector_gyro_500_and_packed_1000() -> None:
    decoder = bmi160_decoder(acc_range_g=8, gyro_range_dps=500, with_gyro=True)
    decoder.decode(NOTIFY_UUID, h("13053E43FF7F0080"), 1.000)
    decoder.decode(NOTIFY_UUID, h("13053E43FF7F0080"), 1.010)
    batch = decoder.decode(NOTIFY_UUID, h("0304000000000010"), 1.005)  # between the two gyro samples
    gyro_dps = None if batch is None else np.degrees(batch.gyr_radps)
    assert gyro_dps is not None
    np.testing.assert_allclose(gyro_dps, [[262.409, 499.497, -499.512]], atol=1e-2)
    packed = MetaWearDecoder(100.0, {"chip": BMI160}, 8, 1000, hold_s=0)
    expected = [[164.177, 301.860, -265.122], [207.134, 296.982, -215.457], [254.055, 309.634, -152.591]]
    packed.decode(NOTIFY_UUID, h("13070915AD2608DE8A1A0D2665E48D20AC2773EC"), 2.0)
    out = packed.decode(NOTIFY_UUID, h("031C" + "00" * 18), 2.0)
    assert out is not None and len(out) == 3
    np.testing.assert_allclose(np.degrees(out.gyr_radps), expected, atol=1e-2)


def test_metawear_bmi270_registers_differ() -> None:
    decoder = MetaWearDecoder(100.0, {"chip": BMI270}, 8, 2000, hold_s=0)
    decoder.decode(NOTIFY_UUID, h("1380"), 0.0)
    assert decoder.decode(NOTIFY_UUID, h("031C" + "00" * 18), 0.0) is None  # BMI160 packed: not here
    assert decoder.decode(NOTIFY_UUID, h("0305" + "0010" * 9), 0.0) is not None  # BMI270 packed acc


def test_metawear_chip_info_selects_commands() -> None:
    for info, first in ((h("03800101"), "03032808"), (h("03800400"), "0303a802")):
        decoder = MetaWearDecoder(100.0, {})
        decoder.decode(NOTIFY_UUID, info, 0.0)
        assert decoder.take_writes()[0].data.hex() == first
    unknown = MetaWearDecoder(100.0, {})
    unknown.decode(NOTIFY_UUID, h("03800900"), 0.0)
    assert unknown.take_writes() == [] and "not supported" in unknown.stats.notes[0]


def test_metawear_wrong_lengths_counted() -> None:
    decoder = bmi160_decoder()
    assert decoder.decode(NOTIFY_UUID, h("0304" + "00" * 5), 0.0) is None
    assert decoder.decode(NOTIFY_UUID, h("031C" + "00" * 19), 0.0) is None
    assert decoder.decode(NOTIFY_UUID, h("03"), 0.0) is None
    assert decoder.stats.malformed == 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=24), max_size=8))
def test_metawear_fuzz_random_bytes_never_raise(packets: list[bytes]) -> None:
    decoder = MetaWearDecoder(100.0, {})
    for i, data in enumerate(packets):
        out = decoder.decode(NOTIFY_UUID, data, 0.01 * i)
        assert out is None or np.all(np.diff(out.t_s) > 0)
        decoder.take_writes()
