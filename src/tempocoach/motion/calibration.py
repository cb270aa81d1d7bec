"""Accelerometer bias in the sensor frame, learned from rests the lift offers at different tilts.

A bias b (sensor frame) adds u·b to the vertical specific force, where u is the up direction in the
sensor frame. When the sensor tilts between rests (a bar at the bottom of a squat, a wrist between
reps), that projection changes and a single earth-frame offset cannot follow: the velocity ramps
during the very pauses the coach is timing. Every rest gives one equation, |f| = g + û·b (f the mean
specific force, û its direction), so rests at two or more tilts pin the components of b that matter.
A ridge keeps the components no rest has constrained at zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray

SAME_TILT_COS = float(np.cos(np.radians(4.0)))  # rests closer than this share one equation
MIN_SPREAD_COS = float(np.cos(np.radians(8.0)))  # at least this much tilt between rests to fit
RIDGE = 0.3  # weight pulling unconstrained bias components to zero
MAX_BIAS_MPS2 = 1.0


@dataclass
class _Tilt:
    direction: FloatArray
    magnitude_mps2: float
    samples: int


@dataclass
class AccelerometerBias:
    """Collects rest tilts and fits the sensor-frame bias (m/s^2) and the local |g| (+ scale)."""

    bias_mps2: FloatArray = field(default_factory=lambda: np.zeros(3))
    gravity_mps2: float = STANDARD_GRAVITY
    _tilts: list[_Tilt] = field(default_factory=list)

    def add_rest(self, mean_specific_force: FloatArray, samples: int) -> bool:
        """One settled rest (mean sensor-frame specific force, raw). Returns True if the fit changed."""
        magnitude = float(np.linalg.norm(mean_specific_force))
        if magnitude < 0.5 * STANDARD_GRAVITY:
            return False
        direction = mean_specific_force / magnitude
        for tilt in self._tilts:
            if float(direction @ tilt.direction) > SAME_TILT_COS:
                total = tilt.samples + samples
                tilt.magnitude_mps2 = (tilt.magnitude_mps2 * tilt.samples + magnitude * samples) / total
                merged = tilt.direction * tilt.samples + direction * samples
                tilt.direction = merged / np.linalg.norm(merged)
                tilt.samples = total
                return self._fit()
        self._tilts.append(_Tilt(direction, magnitude, samples))
        return self._fit()

    def _fit(self) -> bool:
        if len(self._tilts) < 2:
            return False
        directions = np.array([t.direction for t in self._tilts])
        if float((directions @ directions.T).min()) > MIN_SPREAD_COS:
            return False
        weights = np.sqrt(np.array([min(t.samples, 200) for t in self._tilts], dtype=float))
        rows = np.hstack([np.ones((len(directions), 1)), directions]) * weights[:, None]
        target = np.array([t.magnitude_mps2 for t in self._tilts]) * weights
        ridge = np.sqrt(RIDGE * float(weights.sum())) * np.hstack([np.zeros((3, 1)), np.eye(3)])
        solution, *_ = np.linalg.lstsq(np.vstack([rows, ridge]), np.concatenate([target, np.zeros(3)]),
                                       rcond=None)
        self.gravity_mps2 = float(solution[0])
        self.bias_mps2 = np.clip(solution[1:], -MAX_BIAS_MPS2, MAX_BIAS_MPS2)
        return True
