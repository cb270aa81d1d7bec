"""Where a movement ends (motion/edges.py): a smooth movement settles with its speed falling off
quadratically, so its end lies later than a straight line through the speed would say."""

from __future__ import annotations

import numpy as np

from tempocoach.motion.edges import Sample, extrapolate_to_rest, settling_time

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
