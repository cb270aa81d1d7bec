"""Fast vectorised rotation composition for long trajectories (scalar-last quaternions, as scipy).

scipy's Rotation product and as_rotvec are general but slow on 10^5 elements; the simulator composes
whole trajectories several times per set, so these plain numpy versions do the heavy lifting.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from tempocoach.sensors.base import FloatArray


def quat_mul(p: FloatArray, q: FloatArray) -> FloatArray:
    """Hamilton product of (n, 4) or (4,) scalar-last quaternions, broadcasting."""
    x1, y1, z1, w1 = np.moveaxis(np.asarray(p), -1, 0)
    x2, y2, z2, w2 = np.moveaxis(np.asarray(q), -1, 0)
    return np.stack(
        [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ],
        axis=-1,
    )


def compose(*rotations: Rotation) -> Rotation:
    """rotations[0] * rotations[1] * ... (each a single rotation or a stack of equal length)."""
    quat = rotations[0].as_quat()
    for r in rotations[1:]:
        quat = quat_mul(quat, r.as_quat())
    return Rotation.from_quat(quat)


def relative_rotvecs(rotation: Rotation) -> FloatArray:
    """Rotation vectors of R[k]^-1 R[k+1] for consecutive elements (small angles), shape (n-1, 3)."""
    quat = rotation.as_quat()
    inv = quat[:-1] * np.array([-1.0, -1.0, -1.0, 1.0])
    rel = quat_mul(inv, quat[1:])
    rel *= np.where(rel[:, 3:4] < 0.0, -1.0, 1.0)  # shortest way round
    vec, w = rel[:, :3], rel[:, 3]
    norm = np.linalg.norm(vec, axis=1)
    angle = 2.0 * np.arctan2(norm, w)
    scale = np.where(norm > 1e-12, angle / np.maximum(norm, 1e-300), 2.0 / np.maximum(w, 1e-12))
    return np.asarray(vec * scale[:, None], dtype=np.float64)


def resample(t_s: FloatArray, rotation: Rotation, t_new_s: FloatArray) -> Rotation:
    """Orientation at t_new_s by normalised linear interpolation between grid neighbours (fine grids)."""
    quat = rotation.as_quat()
    flips = np.concatenate(([1.0], np.sign(np.sum(quat[1:] * quat[:-1], axis=1))))
    flips[flips == 0.0] = 1.0
    quat = quat * np.cumprod(flips)[:, None]  # one continuous hemisphere, so neighbours blend correctly
    blended = np.stack([np.interp(t_new_s, t_s, quat[:, k]) for k in range(4)], axis=1)
    return Rotation.from_quat(blended)
