"""Where a movement really starts and stops, from the recent (t, velocity, position) history.

Edges are placed where the speed extrapolates to its resting level, not where it crosses a threshold
(that would make slow phases 100-160 ms short).
"""

from __future__ import annotations

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
    # Speed ramps up roughly linearly from zero near the start of a movement.
    dt = s0 * abs(t1 - t0) / (s1 - s0)
    dt = min(dt, 0.3)
    return (t0 - dt, p0) if backwards else (t0 + dt, p0)


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
