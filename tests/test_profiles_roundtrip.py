"""Every profile's device side (Encoder) against its client side (Decoder): the command dialogue,
then random samples -> the exact bytes the device would send -> decoded values equal within the
wire format's quantisation; plus the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tempocoach.errors import DeviceError
from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch
from tempocoach.sensors.profiles import PROFILES, identify, profile_for
from tempocoach.sensors.profiles.base import Decoder, Encoder, SensorProfile
from tempocoach.sensors.profiles.metawear import MetaWearEncoder, MetaWearProfile

G, DEG = STANDARD_GRAVITY, math.pi / 180

# Largest quantisation step per family (acc m/s^2, gyro rad/s) and the ranges they can carry.
TOLERANCE = {
    "tempocoach-open": (16 / 32768 * G, 2000 / 32768 * DEG),
    "polar-h10": (0.001 * G, 0.0),
    "polar-verity": (0.001 * G, 2000 / 32768 * DEG),
    "movesense": (1e-5, 1e-5),
    "metawear": (1 / 4096 * G, 1 / 16.4 * DEG),
    "thingy52": (1 / 1024 * G, 1 / 32 * DEG),
    "witmotion": (16 / 32768 * G, 2000 / 32768 * DEG),
}


def handshake(profile: SensorProfile, rate_hz: float) -> tuple[Encoder, Decoder]:
    """What sensors/ble.py does against what sensors/emulator.py answers, without the radio."""
    encoder, decoder = profile.encoder(rate_hz), profile.decoder(rate_hz)
    pending = list(profile.start_writes(rate_hz))
    while pending:
        write = pending.pop(0)
        for uuid, payload in encoder.handle_write(write.char_uuid, write.data):
            assert decoder.decode(uuid, payload, 0.0) is None
            pending += decoder.take_writes()
    assert encoder.streaming
    return encoder, decoder


def loopback(profile: SensorProfile, batch: ImuBatch, chunk: int = 7) -> tuple[ImuBatch, Decoder]:
    rate_hz = profile.nearest_rate_hz(1.0 / float(np.median(np.diff(batch.t_s))))
    encoder, decoder = handshake(profile, rate_hz)
    out: list[ImuBatch] = []
    for part in batch.chunks(chunk):
        for uuid, payload in encoder.encode(part):
            got = decoder.decode(uuid, payload, float(part.t_s[-1]) + 0.01)
            if got is not None:
                out.append(got)
    return ImuBatch.concat(out), decoder


def sample_batch(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> ImuBatch:
    t = 10.0 + np.arange(acc.shape[0]) / rate_hz
    return ImuBatch(t, acc, gyr)


def family_rate(family: str) -> float:
    return {"polar-verity": 52.0, "movesense": 104.0, "witmotion": 50.0}.get(family, 100.0)


@pytest.mark.parametrize("family", sorted(PROFILES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_profiles_roundtrip_random_samples_within_quantisation(family: str, data: st.DataObject) -> None:
    n = data.draw(st.integers(40, 120))
    acc = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-7.5 * G, 7.5 * G)))
    # ±15 rad/s: Thingy's Q11.5 gyro format ends at 1024 deg/s
    gyr = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-15.0, 15.0)))
    profile = profile_for(family)
    batch = sample_batch(acc, gyr, family_rate(family))
    got, decoder = loopback(profile, batch)
    assert decoder.stats.malformed == 0
    assert len(got) >= n - 40  # encoders hold back a partial packet / frame
    assert np.all(np.diff(got.t_s) > 0)
    acc_tol, gyr_tol = TOLERANCE[family]
    # Decoded samples are the first len(got) originals (Verity/MetaWear pair gyro on acc times).
    k = len(got)
    np.testing.assert_allclose(got.acc_mps2, acc[:k], atol=acc_tol * 0.51 + 1e-9)
    if got.meta.get("gyro") == "absent":
        assert np.all(got.gyr_radps == 0)
    else:
        np.testing.assert_allclose(got.gyr_radps, gyr[:k], atol=gyr_tol * 0.51 + 1e-9)


@pytest.mark.parametrize("family", sorted(PROFILES))
def test_profiles_roundtrip_timestamps_follow_the_device(family: str) -> None:
    """Each decoded sample, identified by a ramp on acc x, carries its served time plus one constant
    offset: the device clock's epoch (Polar counts from 2019-01-01 in ns since 2000) or, for
    devices without timestamps, the least link delay."""
    rate = family_rate(family)
    n = 400
    t = 10.0 + np.arange(n) / rate
    acc = np.column_stack([0.05 * np.arange(n), np.zeros(n), np.full(n, G)])
    batch = ImuBatch(t, acc, np.zeros((n, 3)))
    got, decoder = loopback(profile_for(family), batch)
    assert decoder.stats.lost_samples == 0
    index = np.rint(got.acc_mps2[:, 0] / 0.05).astype(int)
    assert np.all(np.diff(index) == 1)  # contiguous: nothing dropped or repeated
    offset = got.t_s - t[index]
    np.testing.assert_allclose(offset, np.median(offset), atol=1.5e-3)  # Movesense stamps whole ms


def test_profiles_metawear_bmi270_dialogue_uses_bmi270_registers() -> None:
    profile = MetaWearProfile(chip="bmi270")
    encoder, _ = handshake(profile, 100.0)
    assert isinstance(encoder, MetaWearEncoder)
    assert encoder.subscribed == {(0x03, 0x04), (0x13, 0x04)}  # BMI270: gyro data is register 0x04
    assert encoder.powered == {0x03, 0x13}
    stop = [w.data for w in profile.stop_writes()]
    assert bytes.fromhex("130400") in stop and bytes.fromhex("030100") in stop


def test_profiles_metawear_bmi160_dialogue_bytes() -> None:
    profile = MetaWearProfile(chip="bmi160")
    encoder = profile.encoder(100.0)
    decoder = profile.decoder(100.0)
    assert [w.data.hex() for w in profile.start_writes(100.0)] == ["0380", "1380"]
    ((uuid, info),) = encoder.handle_write(profile.notify_uuids()[0].replace("9006", "9001"), b"\x03\x80")
    assert info == bytes.fromhex("03800101")  # MetaMotion R fixture answer
    decoder.decode(uuid, info, 0.0)
    assert [w.data.hex() for w in decoder.take_writes()] == ["03032808", "030401", "03020100", "030101"]
    assert decoder.take_writes() == []


@pytest.mark.parametrize(
    ("name", "uuids", "family"),
    [
        ("Polar H10 12345678", [], "polar-h10"),
        ("Polar Sense 99AABBCC", [], "polar-verity"),
        ("WT901BLE67", [], "witmotion"),
        (None, ["0000FFE5-0000-1000-8000-00805F9A34FB"], "witmotion"),
        ("Movesense 174630000192", [], "movesense"),
        ("renamed board", ["326a9000-85cb-9195-d9dd-464cfbbae75a"], "metawear"),
        ("my thingy", ["ef680100-9b35-4933-9b10-52ffa9740042"], "thingy52"),
        ("Thingy", [], "thingy52"),
        ("my bar", ["d0590001-bd75-47e4-9527-dc54d3024847"], "tempocoach-open"),
    ],
)
def test_profiles_identify_by_name_and_service(name: str | None, uuids: list[str], family: str) -> None:
    cls = identify(name, uuids)
    assert cls is not None and cls.family == family
    assert identify(cls.advertised_name, profile_for(family).advertised_service_uuids()) is cls


def test_profiles_identify_unknown_and_bad_family() -> None:
    assert identify("Fitbit Charge", ["0000180d-0000-1000-8000-00805f9b34fb"]) is None
    assert identify(None, []) is None
    with pytest.raises(DeviceError, match="unknown sensor family 'garmin'"):
        profile_for("garmin")


def test_profiles_services_expose_every_uuid_the_client_uses() -> None:
    for family in PROFILES:
        profile = profile_for(family)
        chars = {c.uuid: c for s in profile.services() for c in s.characteristics}
        for uuid in profile.notify_uuids():
            assert {"notify", "indicate"} & set(chars[uuid].properties), (family, uuid)
        for write in profile.start_writes(profile.default_rate_hz) + profile.stop_writes():
            assert {"write", "write-without-response"} & set(chars[write.char_uuid].properties)


@pytest.mark.parametrize("family", sorted(PROFILES))
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.binary(max_size=64)), max_size=12))
def test_profiles_fuzz_any_char_any_bytes_never_raises(family: str, writes: list[tuple[int, bytes]]) -> None:
    """Garbage on every characteristic, both directions: decoders count and drop, devices answer
    or ignore, nothing raises and every batch that comes out is well formed."""
    profile = profile_for(family)
    uuids = [c.uuid for s in profile.services() for c in s.characteristics]
    encoder, decoder = profile.encoder(profile.default_rate_hz), profile.decoder(profile.default_rate_hz)
    last_t = -math.inf
    for i, (which, data) in enumerate(writes):
        uuid = uuids[which % len(uuids)]
        for reply_uuid, reply in encoder.handle_write(uuid, data):
            decoder.decode(reply_uuid, reply, 0.01 * i)
        out = decoder.decode(uuid, data, 0.01 * i)
        decoder.take_writes()
        if out is not None:
            assert out.t_s[0] > last_t and np.all(np.isfinite(out.acc_mps2))
            last_t = float(out.t_s[-1])
