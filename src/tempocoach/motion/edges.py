"""Where a movement really starts and stops, from the recent (t, velocity, position) history.

Edges are placed where the speed extrapolates to its resting level, not where it crosses a threshold
(that would make slow phases 100-160 ms short).
"""

from __future__ import annotations

import math

import numpy as np

Sample = tuple[float, float, float]  # (t_s, velocity, position)

ONSET_ACCEL_FRACTION = 0.2  # a movement began where it accelerated at less than this share of now


def extrapolate_to_rest(
    slow: Sample, fast: Sample, direction: int, backwards: bool, base: float = 0.0
) -> tuple[float, float]:
    """Time (and position) where the speed, ramping between a slow and a fast sample, meets `base`."""
    t0, v0, p0 = slow
    t1, v1, _ = fast
    s0, s1 = max(v0 * direction - base, 0.0), max(v1 * direction - base, 0.0)
    if s1 <= s0 or t1 == t0:
        return t0, p0
    # A smooth movement's speed leaves and meets zero quadratically (a minimum-jerk profile, and any
    # cosine ramp, is flat at its ends): its square root ramps linearly. A straight line through the
    # speeds themselves would meet zero too soon, and make slow phases short.
    r0, r1 = math.sqrt(s0), math.sqrt(s1)
    dt = r0 * abs(t1 - t0) / (r1 - r0)
    dt = min(dt, 0.3)
    return (t0 - dt, p0) if backwards else (t0 + dt, p0)


def settling_time(tail: list[Sample], direction: int, base: float, floor: float, top: float
                  ) -> float | None:
    """When a movement slowing down through `tail` comes to rest: the square root of its speed above
    `base` falls linearly as a smooth movement settles (see extrapolate_to_rest), so a line fitted to it
    over the samples between `floor` and `top` meets zero there. Fitting many samples keeps sensor
    noise from moving the edge, which one pair of samples near the floor cannot. None when fewer than
    three samples lie in that band or they do not fall."""
    t_s = np.array([t for t, _, _ in tail])
    above_base = np.array([v * direction - base for _, v, _ in tail])
    band = (above_base >= floor) & (above_base <= top)
    if band.sum() < 3 or np.ptp(t_s[band]) <= 0.0:
        return None
    t0 = float(t_s[band][0])
    slope, root_at_t0 = np.polyfit(t_s[band] - t0, np.sqrt(above_base[band]), 1)
    return t0 - float(root_at_t0) / float(slope) if slope < 0.0 else None


def acceleration_onset(hist: list[Sample], speeds: list[float], earliest: int, last: int
                       ) -> tuple[float, float]:
    """Walking back from `last`, where the movement stopped accelerating hard: its onset, even when
    the pause before it carries a creeping integration error."""

    def accel(k: int) -> float:
        dt = hist[k][0] - hist[k - 1][0]
        return (speeds[k] - speeds[k - 1]) / dt if dt > 0 else 0.0

    first = max(earliest + 1, 1)
    if last < first:
        return hist[last][0], hist[last][2]
    peak = max(accel(k) for k in range(max(first, last - 5), last + 1))
    k = last
    while k > first and accel(k) > ONSET_ACCEL_FRACTION * peak:
        k -= 1
    return hist[k][0], hist[k][2]
