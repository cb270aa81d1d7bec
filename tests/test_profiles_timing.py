"""Timestamp reconstruction: bursts, clock drift, packet loss (profiles/timing.py and decoders)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tempocoach.sensors.base import ImuBatch
from tempocoach.sensors.profiles import profile_for
from tempocoach.sensors.profiles.thingy import RAW_DATA_UUID, ThingyDecoder
from tempocoach.sensors.profiles.timing import ArrivalClock, ArrivalStamper, DeviceClock, PairAligner


def deliver(
    rate_hz: float,
    *,
    drift: float = 0.0,
    loss: float = 0.0,
    jitter_s: float = 0.004,
    per_packet: int = 1,
    stall_every_s: float | None = None,
    duration_s: float = 40.0,
    seed: int = 0,
) -> tuple[np.ndarray, list[tuple[int, int, float]], int]:
    """True sample times and the packets (first, stop, arrival) a BLE link would deliver."""
    rng = np.random.default_rng(seed)
    period = (1.0 / rate_hz) * (1.0 + drift)  # drift > 0: the device clock runs slow
    n = int(duration_s / period)
    t_true = 5.0 + np.arange(n) * period
    packets = []
    for first in range(0, n - per_packet + 1, per_packet):
        if rng.random() < loss:
            continue
        sampled = t_true[first + per_packet - 1]
        arrival = sampled + 0.002 + rng.uniform(0, jitter_s)
        if stall_every_s is not None and sampled % stall_every_s < 0.3:  # radio stall, then a flush
            arrival = sampled - sampled % stall_every_s + 0.3 + rng.uniform(0, 0.001)
        packets.append((first, first + per_packet, arrival))
    arrivals = np.maximum.accumulate([p[2] for p in packets])  # notifications arrive in order
    packets = [(a, b, float(t)) for (a, b, _), t in zip(packets, arrivals, strict=True)]
    lost = n - sum(b - a for a, b, _ in packets)
    return t_true, packets, lost


def run_clock(clock: ArrivalClock, t_true: np.ndarray, packets: list[tuple[int, int, float]]) -> np.ndarray:
    stamped, truth = [], []
    for first, stop, arrival in packets:
        stamped.append(clock.stamp(stop - first, arrival))
        truth.append(t_true[first:stop])
    t = np.concatenate(stamped)
    assert np.all(np.diff(t) > 0)
    error = t - np.concatenate(truth)
    return np.asarray(error - float(np.median(error)))  # the constant part is the link's minimum latency


def test_timing_steady_link_is_regular() -> None:
    t_true, packets, _ = deliver(100.0)
    clock = ArrivalClock(100.0)
    error = run_clock(clock, t_true, packets)
    assert np.abs(error).max() < 0.003 and clock.lost_samples == 0


def test_timing_bursts_keep_the_sampling_schedule() -> None:
    t_true, packets, _ = deliver(100.0, stall_every_s=2.0)
    arrivals = np.array([p[2] for p in packets])
    assert np.sum(np.diff(arrivals) < 1e-3) > 500  # many packets really do arrive at once
    clock = ArrivalClock(100.0)
    error = run_clock(clock, t_true, packets)
    assert np.percentile(np.abs(error), 99) < 0.005
    assert clock.lost_samples == 0


@pytest.mark.parametrize("drift", [-0.02, 0.02])
def test_timing_clock_drift_is_learned(drift: float) -> None:
    t_true, packets, _ = deliver(100.0, drift=drift, duration_s=60.0)
    clock = ArrivalClock(100.0)
    error = run_clock(clock, t_true, packets)
    true_period = (1 / 100.0) * (1 + drift)
    assert clock.period_s == pytest.approx(true_period, rel=0.003)
    assert np.abs(error[-1000:]).max() < 0.004  # last 10 s
    assert clock.lost_samples == 0


@pytest.mark.parametrize(("rate_hz", "per_packet"), [(100.0, 1), (50.0, 1), (100.0, 4)])
def test_timing_five_percent_packet_loss_is_counted_and_visible(rate_hz: float, per_packet: int) -> None:
    t_true, packets, lost = deliver(rate_hz, loss=0.05, per_packet=per_packet, duration_s=60.0)
    clock = ArrivalClock(rate_hz)
    error = run_clock(clock, t_true, packets)
    assert clock.lost_samples == pytest.approx(lost, rel=0.1)
    assert np.percentile(np.abs(error), 95) < 3 * per_packet / rate_hz  # times stay near the truth
    gaps = ArrivalClock(rate_hz)
    t = np.concatenate([gaps.stamp(b - a, arr) for a, b, arr in packets])
    visible = np.sum(np.diff(t) > 1.5 / rate_hz)
    assert visible >= 0.7 * lost / per_packet / 1.1  # most losses show up as gaps in t


def test_timing_drift_and_loss_together() -> None:
    t_true, packets, lost = deliver(100.0, drift=0.02, loss=0.05, duration_s=60.0)
    clock = ArrivalClock(100.0)
    run_clock(clock, t_true, packets)
    assert clock.lost_samples == pytest.approx(lost, rel=0.15)
    assert clock.period_s == pytest.approx(0.0102, rel=0.005)


@pytest.mark.parametrize("burst_packets", [2, 12])
def test_timing_burst_at_start_does_not_squeeze_the_first_samples(burst_packets: int) -> None:
    """One sample per notification; the link delivers them in pairs (both when the second was taken),
    and the very first `burst_packets` all at once: the first sample must not be stamped late."""
    rate = 100.0
    t_true = 5.0 + np.arange(300) / rate
    arrivals = t_true + (np.arange(300) % 2 == 0) / rate  # pairs arrive with their second sample
    arrivals[:burst_packets] = t_true[burst_packets - 1]
    stamper = ArrivalStamper(rate)
    out = [stamper.stamp(np.zeros((1, 3)), float(a)) for a in arrivals]
    assert out[0] is None  # held while the link's delay is learned
    t = np.concatenate([o[0] for o in out if o is not None])
    assert t.shape == (300,)
    np.testing.assert_allclose(t - t_true, 0.0, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.floats(-1.0, 5.0, allow_nan=False)), min_size=1, max_size=60)
)
def test_timing_output_strictly_increasing_for_any_arrivals(packets: list[tuple[int, float]]) -> None:
    clock = ArrivalClock(100.0)
    arrival = 0.0
    last = -np.inf
    for n, step in packets:
        arrival += step  # arrivals may even go backwards (a host clock jump)
        t = clock.stamp(n, arrival)
        assert t.shape == (n,) and t[0] > last and np.all(np.diff(t) > 0)
        last = float(t[-1])


def test_timing_device_clock_polar_rule_and_gap() -> None:
    clock = DeviceClock(50.0)
    first = clock.stamp_last(1.0, 5)
    np.testing.assert_allclose(first, [0.92, 0.94, 0.96, 0.98, 1.0])  # back-filled at 1/rate
    second = clock.stamp_last(1.105, 5)  # 21 ms per sample: spread since the previous stamp
    np.testing.assert_allclose(second, 1.0 + 0.021 * np.arange(1, 6))
    third = clock.stamp_last(1.505, 5)  # 400 ms for 5 samples: frames were lost
    assert clock.lost_samples == 15  # 20 sample slots since the last stamp, 5 delivered
    assert np.allclose(np.diff(third), clock.period_s) and third[-1] == pytest.approx(1.505)
    again = clock.stamp_last(1.505, 5)  # the same frame twice must not go back in time
    assert again[0] > third[-1]


def test_timing_pair_aligner_drops_acc_inside_gyro_gap_and_gives_up_without_gyro() -> None:
    aligner = PairAligner(0.01)
    t = np.arange(100, dtype=np.float64) * 0.01
    aligner.push_acc(t, np.ones((100, 3)))
    index = np.arange(100)
    keep = (index < 30) | (index > 60)  # gyro samples 30..60 never arrive
    aligner.push_gyr(t[keep], np.ones((int(keep.sum()), 3)))
    out_t, _, gyr = aligner.pop()
    assert aligner.dropped_samples == 31 and np.all(gyr == 1)
    assert not np.any((out_t > 0.295) & (out_t < 0.605))
    lonely = PairAligner(0.01)
    lonely.push_acc(np.arange(400, dtype=np.float64) * 0.01, np.ones((400, 3)))
    out_t, _, gyr = lonely.pop()
    assert lonely.gyro_absent and len(out_t) == 400 and np.all(gyr == 0)


def test_timing_decoder_level_loss_counted_exactly_with_counter_and_estimated_without() -> None:
    t_true, packets, _ = deliver(100.0, loss=0.05, per_packet=8, duration_s=30.0, seed=3)
    profile = profile_for("tempocoach-open")
    encoder, decoder = profile.encoder(100.0), profile.decoder(100.0)
    start = profile.start_writes(100.0)[0]
    encoder.handle_write(start.char_uuid, start.data)
    n = t_true.shape[0]
    frames = encoder.encode(ImuBatch(t_true, np.zeros((n, 3)), np.zeros((n, 3))))
    kept = sorted({first // 8 for first, _, _ in packets})
    out = [decoder.decode(*frames[i], 0.0) for i in kept]
    assert decoder.stats.lost_samples == 8 * (kept[-1] - kept[0] + 1 - len(kept))  # exact, from the counter
    t = np.concatenate([b.t_s for b in out if b is not None])
    np.testing.assert_allclose(t, np.concatenate([t_true[a:b] for a, b, _ in packets]), atol=1e-6)
    thingy = ThingyDecoder(100.0)
    t_true, packets, lost = deliver(100.0, loss=0.05, duration_s=30.0, seed=4)
    for _, _, arrival in packets:
        thingy.decode(RAW_DATA_UUID, bytes(18), arrival)
    assert thingy.stats.lost_samples == pytest.approx(lost, rel=0.15)
