"""Orientation: our vectorised read-out of Fusion's attitude must give what Fusion itself reports, and
the streaming filter must level a tilted sensor at once."""

from __future__ import annotations

import imufusion
import numpy as np

from tempocoach.motion.orientation import OrientationFilter, rotation_matrices
from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch


def test_rotation_matrices_match_fusions_earth_acceleration_and_gravity() -> None:
    rng = np.random.default_rng(3)
    ahrs = imufusion.Ahrs()
    quaternions, earth, gravity, acc = [], [], [], []
    for _ in range(200):
        a = np.array([0.1, 0.2, 1.0]) + rng.normal(0, 0.3, 3)
        ahrs.update_no_magnetometer(rng.normal(0, 60, 3), a)
        quaternions.append(ahrs.get_quaternion())
        earth.append(ahrs.get_earth_acceleration())
        gravity.append(ahrs.get_gravity())
        acc.append(a)
    rotation = rotation_matrices(np.array(quaternions))
    ours = np.einsum("nij,nj->ni", rotation, np.array(acc))
    ours[:, 2] -= 1.0  # Fusion reports the earth acceleration with gravity removed (NWU: +1 g up)
    np.testing.assert_allclose(ours, np.array(earth), atol=1e-5)
    np.testing.assert_allclose(rotation[:, 2, :], np.array(gravity), atol=1e-5)


def test_a_tilted_still_sensor_reads_gravity_straight_up_from_the_first_sample() -> None:
    n, rate_hz = 200, 100.0
    tilt = np.deg2rad(40.0)
    acc = np.tile([0.0, STANDARD_GRAVITY * np.sin(tilt), STANDARD_GRAVITY * np.cos(tilt)], (n, 1))
    batch = ImuBatch(np.arange(n) / rate_hz, acc, np.zeros((n, 3)))
    frame = OrientationFilter(rate_hz).update(batch)
    np.testing.assert_allclose(frame.specific_force_earth_mps2[:, 2], STANDARD_GRAVITY, atol=1e-3)
    np.testing.assert_allclose(frame.specific_force_earth_mps2[:, :2], 0.0, atol=1e-3)
    np.testing.assert_allclose(frame.up_in_sensor, acc / STANDARD_GRAVITY, atol=1e-4)
