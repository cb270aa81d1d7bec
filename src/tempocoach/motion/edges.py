"""Where a movement really starts and stops, from the recent (t, velocity, position) history.

Edges are placed where the speed extrapolates to its resting level, not where it crosses a threshold
(that would make slow phases 100-160 ms short).
"""

from __future__ import annotations

import math

import numpy as np

Sample = tuple[float, float, float]  # (t_s, velocity, position)

ONSET_ACCEL_FRACTION = 0.2  # a movement began where it accelerated at less than this share of now
CREEP_SMOOTHING_S = 0.15


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


def creep_before_onset(hist: list[Sample], start_s: float, direction: int, min_creep_s: float,
                       hard_fraction: float, max_creep: float) -> tuple[float, float] | None:
    """A movement whose speed first crept up (a pause's integration error, rising at a constant rate)
    before it really began: where it started to accelerate hard after creeping for at least
    min_creep_s with its acceleration below max_creep (no integration error left is larger, and a
    slow start accelerates harder). Only for movements that accelerate hard: their peak is at least
    four times max_creep and "hard" is hard_fraction of it. None if it accelerated from the start."""
    samples = [h for h in hist if h[0] >= start_s]
    if len(samples) < 3:
        return None
    t_s = np.array([h[0] for h in samples])
    if np.ptp(t_s) <= 0.0:
        return None
    accel = np.gradient(np.array([h[1] for h in samples]) * direction, t_s)
    # A derivative is noisy sample to sample: average it over CREEP_SMOOTHING_S.
    width = max(1, round(CREEP_SMOOTHING_S * (len(t_s) - 1) / float(np.ptp(t_s))))
    smooth = np.convolve(accel, np.ones(width) / width, mode="same")
    peak = float(smooth.max())
    if peak < 4.0 * max_creep:
        return None
    ramp = int(np.argmax(smooth >= hard_fraction * peak))
    while ramp > 0 and smooth[ramp - 1] >= max_creep:  # back down the ramp to where it left the creep
        ramp -= 1
    creep = ramp
    while creep > 0 and abs(smooth[creep - 1]) < max_creep:
        creep -= 1
    if t_s[ramp] - t_s[creep] < min_creep_s or creep == ramp:
        return None
    return float(t_s[ramp]), samples[ramp][2]
