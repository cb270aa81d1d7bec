"""Smooth building blocks for the simulated lifter: velocity shapes, min-jerk moves, band-limited noise.

Everything here is a pure function of its arguments (and a numpy Generator where randomness is needed),
vectorised over time arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tempocoach.sensors.base import FloatArray

# Sub-grid used to integrate a movement's velocity shape into its position profile.
_SHAPE_POINTS = 2001


def min_jerk(s: FloatArray) -> FloatArray:
    """Minimum-jerk position profile 0 -> 1 over s in [0, 1]: zero velocity and acceleration at both ends."""
    x = np.clip(s, 0.0, 1.0)
    return x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)


def bump(s: FloatArray) -> FloatArray:
    """0 -> 1 -> 0 over s in [0, 1] with zero slope at both ends (sin^2); used for step bounce."""
    x = np.clip(s, 0.0, 1.0)
    return np.sin(np.pi * x) ** 2


@dataclass(frozen=True)
class MoveShape:
    """The velocity shape of one concentric or eccentric movement, over normalised time s in [0, 1].

    ramp_in/ramp_out: fractions of the movement spent speeding up / slowing down (the rest cruises).
    turn_in/turn_out: True where the movement reverses another with no pause between them: the speed then
    grows linearly from zero (nonzero acceleration, a bounce); from rest it grows quadratically.
    stick_depth/stick_at/stick_width: a sticking point, a dip in speed centred at stick_at.
    wobble: relative speed fluctuation amplitudes of a few slow harmonics (speed wobbling in the phase).
    """

    ramp_in: float
    ramp_out: float
    turn_in: bool
    turn_out: bool
    stick_depth: float = 0.0
    stick_at: float = 0.5
    stick_width: float = 0.12
    wobble: tuple[tuple[float, float, float], ...] = ()  # (amplitude, cycles, phase rad)


def _ramp(x: FloatArray, turn: bool) -> FloatArray:
    xc = np.clip(x, 0.0, 1.0)
    return np.sin(0.5 * np.pi * xc) if turn else np.sin(0.5 * np.pi * xc) ** 2


def velocity_shape(shape: MoveShape, s: FloatArray) -> FloatArray:
    """Unnormalised non-negative speed over s in [0, 1]; zero at both ends."""
    v = _ramp(s / shape.ramp_in, shape.turn_in) * _ramp((1.0 - s) / shape.ramp_out, shape.turn_out)
    if shape.stick_depth > 0.0:
        v = v * (1.0 - shape.stick_depth * np.exp(-0.5 * ((s - shape.stick_at) / shape.stick_width) ** 2))
    if shape.wobble:
        mod = np.ones_like(s)
        for amplitude, cycles, phase in shape.wobble:
            mod = mod + amplitude * np.sin(2.0 * np.pi * cycles * s + phase)
        v = v * np.clip(mod, 0.3, None)
    return np.asarray(v, dtype=np.float64)


def progress_profile(shape: MoveShape, s: FloatArray) -> FloatArray:
    """Position progress 0 -> 1 at normalised times s (the integral of the velocity shape)."""
    grid = np.linspace(0.0, 1.0, _SHAPE_POINTS)
    v = velocity_shape(shape, grid)
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]))))
    cum /= cum[-1]
    return np.asarray(np.interp(np.clip(s, 0.0, 1.0), grid, cum), dtype=np.float64)


def smooth_noise(
    t_s: FloatArray,
    rng: np.random.Generator,
    rms: float,
    f_lo_hz: float,
    f_hi_hz: float,
    components: int = 5,
) -> FloatArray:
    """A band-limited random signal with the given rms: a sum of sinusoids at random frequencies.

    It is smooth (analytic), so its derivatives are physical; used for sway, wobble and tremor.
    """
    freqs = rng.uniform(f_lo_hz, f_hi_hz, components)
    phases = rng.uniform(0.0, 2.0 * np.pi, components)
    weights = rng.uniform(0.5, 1.0, components)
    weights *= rms * np.sqrt(2.0) / np.sqrt(np.sum(weights**2))
    return sum_of_sines(t_s, weights, 2.0 * np.pi * freqs, phases)


def sum_of_sines(t_s: FloatArray, weights: FloatArray, omegas: FloatArray, phases: FloatArray) -> FloatArray:
    """sum_c weights[c] * sin(omegas[c] * t + phases[c]).

    On a uniform grid, sin(a + b) = sin a cos b + cos a sin b turns this into one small matrix product
    (blocks of the grid times offsets within a block), far cheaper than n x components sines.
    """
    n = t_s.shape[0]
    block = max(1, int(np.sqrt(n)))
    step = float(t_s[1] - t_s[0]) if n > 1 else 0.0
    uniform = n > 1 and abs(float(t_s[-1]) - float(t_s[0]) - step * (n - 1)) < 1e-9 * max(1.0, abs(t_s[-1]))
    if not uniform:
        return np.asarray(np.sin(np.outer(t_s, omegas) + phases) @ weights, dtype=np.float64)
    starts = t_s[0] + step * block * np.arange(-(-n // block))
    offsets = step * np.arange(block)
    a = np.outer(starts, omegas) + phases  # (blocks, components)
    b = np.outer(omegas, offsets)  # (components, block)
    left = np.concatenate([np.sin(a) * weights, np.cos(a) * weights], axis=1)
    right = np.concatenate([np.cos(b), np.sin(b)], axis=0)
    return np.asarray((left @ right).reshape(-1)[:n], dtype=np.float64)


def smooth_noise_3d(
    t_s: FloatArray, rng: np.random.Generator, rms: float, f_lo_hz: float, f_hi_hz: float
) -> FloatArray:
    """Three independent smooth_noise channels as an (n, 3) array (rms per axis)."""
    return np.stack([smooth_noise(t_s, rng, rms, f_lo_hz, f_hi_hz) for _ in range(3)], axis=1)


def envelope(t_s: FloatArray, on_s: list[tuple[float, float]], edge_s: float = 0.25) -> FloatArray:
    """1 inside the given (start, end) intervals, 0 outside, with smooth edges of edge_s."""
    env = np.zeros_like(t_s)
    for start, end in on_s:
        rise = min_jerk((t_s - start) / edge_s + 0.5)
        fall = 1.0 - min_jerk((t_s - end) / edge_s + 0.5)
        env = np.maximum(env, rise * fall)
    return env


def unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def random_unit_horizontal(rng: np.random.Generator) -> FloatArray:
    a = rng.uniform(0.0, 2.0 * np.pi)
    return np.array([np.cos(a), np.sin(a), 0.0])
