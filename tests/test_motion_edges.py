"""Where a movement ends (motion/edges.py): a smooth movement settles with its speed falling off
quadratically, so its end lies later than a straight line through the speed would say."""

from __future__ import annotations

import numpy as np

from tempocoach.motion.edges import Sample, creep_before_onset, extrapolate_to_rest, settling_time

RATE_HZ = 100.0
PEAK = 0.8  # rad/s or m/s: the scale does not matter
RAMP_S = 0.8  # the slowing-down from the peak to rest
END_S = 3.0


def _slowing(noise: float, seed: int = 0) -> list[Sample]:
    """Cruise at PEAK downwards, slow with a cosine ramp and stop at END_S, then rest; velocity noise."""
    t = np.arange(0.0, 4.0, 1.0 / RATE_HZ)
    left = np.clip(END_S - t, 0.0, None)
    speed = PEAK * np.sin(np.pi * np.minimum(left, RAMP_S) / (2 * RAMP_S)) ** 2
    v = -speed + np.random.default_rng(seed).normal(0.0, noise, len(t))
    return [(float(a), float(b), 0.0) for a, b in zip(t, v, strict=True)]


def _descent(samples: list[Sample], floor: float, top: float) -> tuple[list[Sample], int]:
    """As the detector passes them: the samples from the last one above `top` to the first one below
    `floor`, and the index of the sample just before that one that was at least twice the floor."""
    speeds = [-v for _, v, _ in samples]
    below = next(k for k, s in enumerate(speeds) if samples[k][0] > 2.0 and s < floor)
    first = below
    while speeds[first - 1] <= top:
        first -= 1
    above = next(k for k in range(below, 0, -1) if speeds[k] >= 2 * floor)
    return samples[first : below + 1], above - first


FLOOR, TOP = 0.05 * PEAK, 0.5 * PEAK


def test_the_settling_fit_finds_where_a_noisy_smooth_movement_stops() -> None:
    """Noise of 2% of the peak speed moves the end found from two samples near the floor by up to
    about 0.13 s; the fit over the whole descent stays within 60 ms."""
    fitted, two_sample = [], []
    for seed in range(20):
        tail, above = _descent(_slowing(noise=0.02 * PEAK, seed=seed), FLOOR, TOP)
        end_s = settling_time(tail, -1, 0.0, FLOOR, TOP)
        assert end_s is not None
        fitted.append(end_s - END_S)
        two_sample.append(extrapolate_to_rest(tail[-1], tail[above], -1, backwards=False)[0] - END_S)
    assert max(map(abs, fitted)) < 0.06
    assert max(map(abs, two_sample)) > 1.5 * max(map(abs, fitted))


def test_no_settling_time_without_a_slowing_movement() -> None:
    rising = [(k / RATE_HZ, -0.1 * k, 0.0) for k in range(10)]  # speeding up, not settling
    assert settling_time(rising, -1, 0.0, 0.05, 0.5) is None
    assert settling_time(rising[:2], -1, 0.0, 0.0, 10.0) is None  # too few samples to fit


def _creep_then_lift(creep_mps2: float, creep_s: float, peak_mps2: float, seed: int = 0) -> list[Sample]:
    """Upward velocity that creeps at creep_mps2 for creep_s (an offset's error in a pause), then a
    movement whose acceleration rises as a half-sine to peak_mps2 over 0.3 s. The velocity is
    integrated, as the tracker's is, from an acceleration with 0.1 m/s^2 of noise and tremor."""
    t = np.arange(0.0, creep_s + 0.6, 1.0 / RATE_HZ)
    into = np.clip(t - creep_s, 0.0, 0.3)
    accel = creep_mps2 + peak_mps2 * np.sin(np.pi * into / 0.3) * (t > creep_s)
    v = np.cumsum(accel + np.random.default_rng(seed).normal(0.0, 0.1, len(t))) / RATE_HZ
    return [(float(a), float(b), 0.0) for a, b in zip(t, v, strict=True)]


def test_a_movement_that_crept_out_of_a_pause_began_when_it_accelerated() -> None:
    for seed in range(10):
        samples = _creep_then_lift(0.12, 1.2, 5.0, seed)
        onset = creep_before_onset(samples, 0.0, 1, 0.3, 0.25, 0.3)
        assert onset is not None and abs(onset[0] - 1.2) < 0.06, onset
    # A creep too short to tell from the movement's own start, a start too brisk to be a creep, and a
    # slow movement that never accelerates hard are left alone.
    assert creep_before_onset(_creep_then_lift(0.12, 0.2, 5.0), 0.0, 1, 0.3, 0.25, 0.3) is None
    assert creep_before_onset(_creep_then_lift(0.6, 1.2, 5.0), 0.0, 1, 0.3, 0.25, 0.3) is None
    assert creep_before_onset(_creep_then_lift(0.12, 1.2, 0.5), 0.0, 1, 0.3, 0.25, 0.3) is None
