"""Orientation: our vectorised read-out of Fusion's attitude must give what Fusion itself reports, and
the streaming filter must level a tilted sensor at once."""

from __future__ import annotations

import imufusion
import numpy as np

from tempocoach.motion.orientation import OrientationFilter, rotation_matrices, still_start_bias
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


def test_a_gyro_bias_no_rest_taught_is_learned_from_the_accelerometer() -> None:
    # A cheap MEMS gyro can read 5 deg/s at rest. Without integral feedback Fusion's attitude sits
    # past its rejection angle, ignores the accelerometer and turns over; with it, the bias is learned.
    n, rate_hz = 5000, 100.0
    tilt = np.deg2rad(30.0)
    acc = np.tile([0.0, STANDARD_GRAVITY * np.sin(tilt), STANDARD_GRAVITY * np.cos(tilt)], (n, 1))
    bias = np.array([0.1, -0.08, 0.05])
    t = np.arange(n) / rate_hz
    orientation = OrientationFilter(rate_hz)
    frames = [orientation.update(ImuBatch(t[lo : lo + 10], acc[lo : lo + 10], np.tile(bias, (10, 1))))
              for lo in range(0, n, 10)]
    vertical = np.concatenate([f.specific_force_earth_mps2[:, 2] for f in frames])
    up = acc[0] / STANDARD_GRAVITY
    learned = orientation.gyro_bias_radps
    # The bias about the up axis turns nothing the accelerometer can see; the rest must be learned.
    perpendicular = bias - np.dot(bias, up) * up
    np.testing.assert_allclose(learned - np.dot(learned, up) * up, perpendicular, atol=0.005)
    assert np.all(np.abs(vertical[t > 30.0] - STANDARD_GRAVITY) < 0.01)
    assert np.all(np.abs(vertical - STANDARD_GRAVITY) < 0.5)  # never lost on the way


def test_an_attitude_knocked_out_of_true_recovers_within_the_rejection_timeout() -> None:
    # Between sets a bar-clip sensor rolls 60 degrees with the bar in the rack, with no gyro to see it
    # (the jump here is instant). Fusion rejects an accelerometer that far out, but only until its
    # recovery timeout: then the attitude must come back, not stay lost for the rest of the session.
    rate_hz, tilt = 100.0, np.deg2rad(60.0)
    before = np.tile([0.0, 0.0, STANDARD_GRAVITY], (500, 1))
    after = np.tile([STANDARD_GRAVITY * np.sin(tilt), 0.0, STANDARD_GRAVITY * np.cos(tilt)], (2000, 1))
    acc = np.vstack([before, after])
    t = np.arange(len(acc)) / rate_hz
    orientation = OrientationFilter(rate_hz)
    frame = orientation.update(ImuBatch(t, acc, np.zeros_like(acc)))
    error_deg = np.degrees(np.arccos(np.clip(np.sum(frame.up_in_sensor * acc / STANDARD_GRAVITY, axis=1),
                                             -1.0, 1.0)))
    timeout_s = orientation.settings.rejection_timeout_s
    assert error_deg[t < 5.0].max() < 1.0
    assert error_deg[(t > 5.5) & (t < 5.0 + 0.5 * timeout_s)].min() > 30.0  # rejected at first
    assert error_deg[t > 5.0 + 2.0 * timeout_s].max() < 10.0
    assert error_deg[t > t[-1] - 1.0].max() < 1.0


def test_a_still_start_teaches_a_cheap_gyros_bias_across_gravity_only() -> None:
    """0.2 s of a bar at rest, tilted, with a cheap gyro (0.2 rad/s off across gravity, 0.1 about it).
    The part across gravity is the bias the attitude needs; the part about gravity is unobservable (a
    hand swaying about the vertical reads the same) and is left alone. A small bias, a moving start or
    a slow tilting turn teach nothing."""
    rng = np.random.default_rng(4)
    n = 20
    up = np.array([0.0, 0.6, 0.8])
    across = np.array([0.2, 0.0, 0.0])  # perpendicular to up
    gyr = across + 0.1 * up + rng.normal(0, 0.005, (n, 3))
    acc_g = up + rng.normal(0, 0.002, (n, 3))
    bias = still_start_bias(gyr, acc_g, 0.2)
    assert bias is not None
    np.testing.assert_allclose(bias, across, atol=0.01)
    assert still_start_bias(0.03 * np.ones((n, 3)) + rng.normal(0, 0.005, (n, 3)), acc_g, 0.2) is None
    assert still_start_bias(gyr + rng.normal(0, 0.3, (n, 3)), acc_g, 0.2) is None  # moving
    # Turning at 0.2 rad/s across gravity for real: gravity tilts by 0.04 rad over the 0.2 s.
    angle = 0.2 * np.linspace(0.0, 0.2, n)
    turning = np.column_stack([np.zeros(n), 0.6 * np.cos(angle) - 0.8 * np.sin(angle),
                               0.6 * np.sin(angle) + 0.8 * np.cos(angle)])
    assert still_start_bias(np.tile(across, (n, 1)), turning, 0.2) is None


def test_a_bias_the_caller_takes_over_is_not_removed_twice() -> None:
    """The tracker measured the gyro's bias at a rest and now removes it before the AHRS: the AHRS's
    own estimate of it (from a still start, or its integral feedback) must give way by that share."""
    ahrs = OrientationFilter(100.0)
    ahrs.gyro_bias_radps = np.array([0.2, 0.0, -0.1])
    ahrs.hand_over_gyro_bias(1.0)
    np.testing.assert_allclose(ahrs.gyro_bias_radps, 0.0)
    ahrs.gyro_bias_radps = np.array([0.2, 0.0, -0.1])
    ahrs.hand_over_gyro_bias(0.25)
    np.testing.assert_allclose(ahrs.gyro_bias_radps, [0.15, 0.0, -0.075])
