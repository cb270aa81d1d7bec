"""The simulated IMU's imperfections: timestamps, drops, gaps, noise, bias, quantisation, rate."""

from __future__ import annotations

import numpy as np
import pytest

from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch
from tempocoach.sensors.simulator import SensorConfig, SimulatedSet, simulate_set


def _racked(sim: SimulatedSet) -> np.ndarray:
    """Samples from before the unrack: the bar sits still in the rack."""
    return np.asarray(sim.batch.t_s < sim.pre_set_s[0] - 0.05)


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
def test_timestamps_strictly_increase_even_with_heavy_jitter_and_repeats(rate_hz: float) -> None:
    rough = SensorConfig(timestamp_jitter_s=0.003, repeat_prob=0.2, drop_prob=0.02, gap_prob=1.0)
    for seed in range(4):
        sim = simulate_set("bench-press", "2110", reps=3, rate_hz=rate_hz, seed=seed, sensor=rough)
        assert np.all(np.diff(sim.batch.t_s) > 0.0)
        assert int(sim.batch.meta["timestamps_resolved"]) > 0


def test_repeated_timestamps_are_resolved_between_their_neighbours() -> None:
    sim = simulate_set(
        "back-squat",
        "31X0",
        reps=3,
        seed=1,
        sensor=SensorConfig(repeat_prob=0.1, timestamp_jitter_s=0.0, drop_prob=0.0, gap_prob=0.0),
    )
    assert sim.kept is not None
    true = sim.t_true_s[sim.kept]
    # Every reported time stays within one sample period of when the sample was really taken.
    assert np.max(np.abs(sim.batch.t_s - true)) < 1.0 / sim.rate_hz
    assert int(sim.batch.meta["timestamps_resolved"]) > 10


def test_dropped_samples_and_gaps_are_visible_not_interpolated() -> None:
    sim = simulate_set(
        "deadlift",
        "21X1",
        reps=3,
        seed=2,
        sensor=SensorConfig(drop_prob=0.03, gap_prob=1.0, gap_s=(0.3, 0.3), timestamp_jitter_s=0.0),
    )
    dt = np.diff(sim.batch.t_s)
    period = 1.0 / sim.rate_hz
    assert dt.max() > 0.29  # the gap
    singles = np.sum((dt > 1.5 * period) & (dt < 2.5 * period))
    assert 0.01 * len(dt) < singles < 0.05 * len(dt)
    assert sim.kept is not None
    assert len(sim.batch) == len(sim.kept) < len(sim.t_true_s)
    assert int(sim.batch.meta["dropped"]) == len(sim.t_true_s) - len(sim.batch)


def test_no_drops_by_request() -> None:
    sim = simulate_set("deadlift", "21X1", reps=2, seed=2, sensor=SensorConfig(drop_prob=0.0, gap_prob=0.0))
    # One period at most, stretched by the (at most 3 ms) jitter on both ends and the 1 ms resolution.
    assert np.diff(sim.batch.t_s).max() < 1.0 / sim.rate_hz + 0.0071
    assert int(sim.batch.meta["dropped"]) == 0


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
def test_sample_rate_is_near_nominal_but_not_exact(rate_hz: float) -> None:
    sim = simulate_set("leg-press", "3010", reps=2, rate_hz=rate_hz, seed=3)
    measured = 1.0 / np.median(np.diff(sim.t_true_s))
    assert measured == pytest.approx(rate_hz, rel=0.011)
    assert sim.batch.meta["rate_hz"] == f"{rate_hz:g}"


def test_white_noise_grows_with_the_square_root_of_the_rate() -> None:
    noisy = SensorConfig.ideal()
    noisy = SensorConfig(**{**noisy.__dict__, "acc_noise_mps2": 0.02, "gyr_noise_radps": 0.005})
    spread = {}
    for rate in (50.0, 200.0):
        sim = simulate_set("back-squat", "31X0", reps=2, rate_hz=rate, seed=4, sensor=noisy)
        rest = _racked(sim)
        assert rest.sum() > 10
        spread[rate] = (
            np.std(sim.batch.acc_mps2[rest], axis=0).mean(),
            np.std(sim.batch.gyr_radps[rest], axis=0).mean(),
        )
    assert spread[50.0][0] == pytest.approx(0.02 * np.sqrt(0.5), rel=0.35)
    assert spread[200.0][0] / spread[50.0][0] == pytest.approx(2.0, rel=0.35)
    assert spread[200.0][1] == pytest.approx(0.005 * np.sqrt(2.0), rel=0.35)


def test_default_sensor_has_bias_and_scale_error() -> None:
    for seed in range(3):
        sim = simulate_set("back-squat", "31X0", reps=2, seed=seed)
        rest = _racked(sim)
        gyro_mean = sim.batch.gyr_radps[rest].mean(axis=0)
        assert np.all(np.abs(gyro_mean) > 0.003)  # a still sensor reports turning: bias
        magnitude = np.linalg.norm(sim.batch.acc_mps2[rest], axis=1).mean()
        assert magnitude != pytest.approx(STANDARD_GRAVITY, abs=0.005)
        assert magnitude == pytest.approx(STANDARD_GRAVITY, abs=0.6)


def test_quantisation_and_clipping_follow_bits_and_range() -> None:
    sim = simulate_set("pull-up", "20X0", reps=2, seed=5, sensor=SensorConfig(bits=8, acc_range_g=4.0))
    lsb = 2.0 * 4.0 * STANDARD_GRAVITY / 2**8
    counts = sim.batch.acc_mps2 / lsb
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-9)
    assert np.abs(sim.batch.acc_mps2).max() <= 4.0 * STANDARD_GRAVITY + 1e-9
    assert len(np.unique(sim.batch.acc_mps2[:, 0])) < 256


def test_mount_is_random_by_seed_or_aligned_on_request() -> None:
    ups = []
    for seed in range(3):
        sim = simulate_set("back-squat", "31X0", reps=2, seed=seed, sensor=SensorConfig.ideal())
        ups.append(sim.batch.acc_mps2[_racked(sim)].mean(axis=0) / STANDARD_GRAVITY)
    assert min(np.linalg.norm(ups[0] - ups[1]), np.linalg.norm(ups[1] - ups[2])) > 0.1
    aligned = simulate_set("back-squat", "31X0", reps=2, seed=0, sensor=SensorConfig.ideal(mount="aligned"))
    up = aligned.batch.acc_mps2[_racked(aligned)].mean(axis=0) / STANDARD_GRAVITY
    # Bar frame: x forward, y along the bar, z up at the bottom of the lift. Racked at the top, the bar has
    # turned about its own axis (following the torso), so gravity stays in the x-z plane.
    assert abs(up[1]) < 0.06
    assert up[2] > np.cos(0.8)


def test_batches_stream_the_whole_recording_in_packets() -> None:
    sim = simulate_set("dip", "2010", reps=2, seed=6)
    packets = list(sim.batches(7))
    assert all(0 < len(p) <= 7 for p in packets)
    joined = ImuBatch.concat(packets)
    np.testing.assert_array_equal(joined.t_s, sim.batch.t_s)
    np.testing.assert_array_equal(joined.acc_mps2, sim.batch.acc_mps2)
    assert sim.batch.meta["exercise"] == "dip" and sim.batch.meta["tempo"] == "2010"


def test_tremor_under_load_shows_in_the_gyro_band() -> None:
    calm = simulate_set("bench-press", "2220", reps=3, seed=8, sensor=SensorConfig.ideal())
    held = (calm.batch.t_s > calm.truth[0].start_s) & (calm.batch.t_s < calm.truth[-1].end_s)
    gyr = calm.batch.gyr_radps[held]
    spectrum = np.abs(np.fft.rfft(gyr - gyr.mean(axis=0), axis=0)).sum(axis=1)
    freqs = np.fft.rfftfreq(gyr.shape[0], 1.0 / calm.rate_hz)
    tremor_band = spectrum[(freqs >= 6.0) & (freqs <= 12.0)].mean()
    quiet_band = spectrum[(freqs >= 20.0) & (freqs <= 40.0)].mean()
    assert tremor_band > 5.0 * quiet_band


def test_magnetometer_on_request_sees_a_constant_field_turning_with_the_sensor() -> None:
    plain = simulate_set("barbell-curl", "2010", reps=3, seed=9, sensor=SensorConfig.ideal())
    assert plain.batch.mag_ut is None
    cfg = SensorConfig(**{**SensorConfig.ideal().__dict__, "magnetometer": True, "bits": None})
    sim = simulate_set("barbell-curl", "2010", reps=3, seed=9, sensor=cfg)
    np.testing.assert_array_equal(sim.batch.acc_mps2, plain.batch.acc_mps2)  # the IMU draws are unchanged
    mag = sim.batch.mag_ut
    assert mag is not None and mag.shape == sim.batch.acc_mps2.shape
    assert (
        np.median(np.linalg.norm(mag - mag.mean(axis=0), axis=1)) > 20.0 or np.ptp(mag, axis=0).max() > 20.0
    )
    assert np.ptp(mag, axis=0).max() > 10.0  # a curl turns the sensor, so the field it reports moves
