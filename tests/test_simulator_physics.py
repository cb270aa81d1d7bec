"""The simulated sensor obeys the physics of the simulated lifter (noise-free sensor, independent checks)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tempocoach.sensors.base import STANDARD_GRAVITY
from tempocoach.sensors.simulator import LifterConfig, SensorConfig, SimulatedSet, simulate_set

CASES = [
    ("back-squat", "bar", "31X0"),
    ("bench-press", "wrist", "2110"),
    ("seated-cable-row", "bar", "2011"),
    ("dumbbell-curl", "wrist", "3010"),
    ("lateral-raise", "bar", "2X10"),
    ("leg-press", "bar", "30X0"),
]


def _ideal(
    exercise: str, placement: str, tempo: str, rate_hz: float = 200.0, impacts: bool = True
) -> SimulatedSet:
    return simulate_set(
        exercise,
        tempo,
        reps=4,
        placement=placement,
        rate_hz=rate_hz,
        seed=11,
        lifter=LifterConfig(impacts=impacts),
        sensor=SensorConfig.ideal(),
    )


def _orientation(sim: SimulatedSet) -> Rotation:
    assert sim.quat_world_from_sensor is not None
    return Rotation.from_quat(sim.quat_world_from_sensor)


@pytest.mark.parametrize(("exercise", "placement", "tempo"), CASES)
def test_specific_force_rotated_to_world_is_the_second_derivative_of_position(
    exercise: str, placement: str, tempo: str
) -> None:
    sim = _ideal(exercise, placement, tempo, impacts=False)
    assert sim.pos_world_m is not None
    np.testing.assert_array_equal(sim.batch.t_s, sim.t_true_s)  # ideal: no jitter, no drops
    acc_world = _orientation(sim).apply(sim.batch.acc_mps2) - np.array([0.0, 0.0, STANDARD_GRAVITY])
    t = sim.t_true_s
    p = sim.pos_world_m
    h = np.diff(t)[:, None]
    differentiated = 2.0 * ((p[2:] - p[1:-1]) / h[1:] - (p[1:-1] - p[:-2]) / h[:-1]) / (h[1:] + h[:-1])
    error = acc_world[1:-1] - differentiated
    motion = np.sqrt(np.mean(differentiated**2))
    assert motion > 0.1  # the lift really accelerates
    assert np.sqrt(np.mean(error**2)) < 0.03 * motion + 0.005
    assert np.percentile(np.abs(error), 99.5) < 0.1


@pytest.mark.parametrize(("exercise", "placement", "tempo"), CASES)
def test_integrating_the_gyro_reproduces_the_orientation_change(
    exercise: str, placement: str, tempo: str
) -> None:
    sim = _ideal(exercise, placement, tempo)
    t, gyr = sim.batch.t_s, sim.batch.gyr_radps
    dt = np.diff(t)[:, None]
    steps = Rotation.from_rotvec(0.5 * (gyr[1:] + gyr[:-1]) * dt)
    truth = _orientation(sim)
    # Integrate over consecutive 2-s windows (body-frame increments compose on the right).
    window = int(2.0 * sim.rate_hz)
    worst = 0.0
    total_turn = 0.0
    for start in range(0, len(t) - window, window):
        integrated = Rotation.identity()
        for k in range(start, start + window):
            integrated = integrated * steps[k]
        expected = truth[start].inv() * truth[start + window]
        worst = max(worst, float((integrated.inv() * expected).magnitude()))
        total_turn += float(expected.magnitude())
    assert total_turn > 0.05  # the sensor turned
    assert worst < np.deg2rad(0.5)


def test_specific_force_at_rest_is_gravity_along_the_sensor_up_axis() -> None:
    # Before the unrack the bar sits in the rack: nothing moves, not even sway.
    sim = simulate_set("back-squat", "31X0", reps=3, seed=4, sensor=SensorConfig.ideal())
    rest = sim.t_true_s < sim.pre_set_s[0] - 0.05
    assert rest.sum() > 5
    acc = sim.batch.acc_mps2[rest]
    np.testing.assert_allclose(np.linalg.norm(acc, axis=1), STANDARD_GRAVITY, atol=1e-3)
    up_in_sensor = _orientation(sim)[rest].inv().apply([0.0, 0.0, 1.0])
    np.testing.assert_allclose(acc, STANDARD_GRAVITY * up_in_sensor, atol=1e-3)
    # The mount is random, so "up" is not simply one of the sensor's axes.
    assert np.max(np.abs(up_in_sensor[0])) < 0.99


def test_rotation_lifts_see_gravity_turn_and_centripetal_acceleration() -> None:
    sim = _ideal("barbell-curl", "wrist", "2010", impacts=False)
    acc = sim.batch.acc_mps2
    # Gravity's direction in the sensor frame sweeps through most of the curl's ~2 rad.
    g_dir = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    swept = np.arccos(np.clip(g_dir @ g_dir.T, -1.0, 1.0)).max() if len(g_dir) < 3000 else None
    if swept is None:
        sub = g_dir[::5]
        swept = float(np.arccos(np.clip(sub @ sub.T, -1.0, 1.0)).max())
    assert swept > 1.5
    # The wrist travels on a circle: its distance to the joint stays (nearly) fixed while it swings.
    assert sim.pos_world_m is not None
    reps = (sim.t_true_s > sim.truth[0].start_s) & (sim.t_true_s < sim.truth[-1].end_s)
    pos = sim.pos_world_m[reps]
    assert np.ptp(pos[:, 2]) > 0.3  # a 0.25-0.35 m forearm swinging ~2 rad lifts the wrist > 0.3 m
