"""The simulator's ground truth: reproducible, complete, ordered, near the tempo, and true to the motion."""

from __future__ import annotations

import numpy as np
import pytest

from tempocoach.events import Phase
from tempocoach.exercises import get_exercise
from tempocoach.sensors.simulator import (
    LifterConfig,
    SensorConfig,
    SimulatedSet,
    simulate_session,
    simulate_set,
)
from tempocoach.tempo import parse_tempo

STEADY = LifterConfig(rushed_eccentric_prob=0.0, duration_sigma=0.1, set_bias_sigma=0.05)


def test_same_arguments_give_identical_arrays_and_truth() -> None:
    a = simulate_set("front-squat", "31X0", reps=5, placement="wrist", rate_hz=100, seed=7)
    b = simulate_set("front-squat", "31X0", reps=5, placement="wrist", rate_hz=100, seed=7)
    np.testing.assert_array_equal(a.batch.t_s, b.batch.t_s)
    np.testing.assert_array_equal(a.batch.acc_mps2, b.batch.acc_mps2)
    np.testing.assert_array_equal(a.batch.gyr_radps, b.batch.gyr_radps)
    np.testing.assert_array_equal(a.position, b.position)
    assert a.truth == b.truth
    c = simulate_set("front-squat", "31X0", reps=5, placement="wrist", rate_hz=100, seed=8)
    assert c.truth != a.truth


def test_sensor_knobs_do_not_change_the_lifter() -> None:
    a = simulate_set("deadlift", "20X1", reps=4, seed=3)
    b = simulate_set("deadlift", "20X1", reps=4, seed=3, sensor=SensorConfig(acc_noise_mps2=0.2, bits=8))
    assert a.truth == b.truth
    np.testing.assert_array_equal(a.position, b.position)
    assert not np.array_equal(a.batch.acc_mps2, b.batch.acc_mps2)


@pytest.mark.parametrize(
    ("exercise", "tempo", "placement"),
    [
        ("back-squat", "31X0", "bar"),
        ("deadlift", "21X1", "bar"),
        ("barbell-curl", "2011", "wrist"),
        ("lat-pulldown", "3110", "wrist"),
        ("overhead-triceps-extension", "4020", "wrist"),
    ],
)
def test_truth_has_every_rep_with_phases_in_order_and_contiguous(
    exercise: str, tempo: str, placement: str
) -> None:
    sim = simulate_set(exercise, tempo, reps=7, placement=placement, seed=2)
    order = get_exercise(exercise).phase_order
    assert [r.index for r in sim.truth] == list(range(1, 8))
    previous_end = None
    for rep in sim.truth:
        assert tuple(p.phase for p in rep.phases) == order
        for span in rep.phases:
            assert span.end_s >= span.start_s
            if previous_end is not None:
                assert span.start_s == pytest.approx(previous_end, abs=1e-9)
            previous_end = span.end_s
    assert sim.batch.t_s[0] < sim.truth[0].start_s and sim.truth[-1].end_s < sim.batch.t_s[-1]


@pytest.mark.parametrize("tempo", ["31X0", "4010", "2121", "30X2", "(10)010"])
def test_phase_durations_follow_the_tempo(tempo: str) -> None:
    code = parse_tempo(tempo)
    sim = simulate_set("bench-press", tempo, reps=8, seed=5, lifter=STEADY)
    for phase in Phase:
        target = code.target_s(phase)
        durations = np.array([rep.duration_of(phase) for rep in sim.truth])
        if target is None:
            assert np.all((durations >= 0.3) & (durations <= 1.6))  # explosive
        elif target == 0:
            assert np.all(durations == 0.0)  # a 0-second pause is truly 0
        else:
            assert np.all(np.abs(durations / target - 1.0) <= 0.35), (phase, durations)


def test_default_lifter_is_near_the_tempo_but_not_exact() -> None:
    durations = []
    for seed in range(6):
        sim = simulate_set("back-squat", "3110", reps=8, seed=seed)
        durations += [rep.duration_of(Phase.ECCENTRIC) for rep in sim.truth]
    ratios = np.array(durations) / 3.0
    assert abs(float(np.median(ratios)) - 1.0) < 0.2
    assert np.std(ratios) > 0.05  # human variability, not a metronome
    assert np.min(ratios) < 0.85  # somebody rushed an eccentric


def _coord_in(sim: SimulatedSet, start: float, end: float) -> np.ndarray:
    assert sim.lift_coordinate is not None
    inside = (sim.t_true_s >= start) & (sim.t_true_s <= end)
    return sim.lift_coordinate[inside]


@pytest.mark.parametrize(
    ("exercise", "placement"),
    [
        ("romanian-deadlift", "bar"),
        ("hammer-curl", "wrist"),
        ("lat-pulldown", "wrist"),
        ("seated-cable-row", "bar"),
        ("pull-up", "bar"),
        ("leg-extension", "bar"),
        ("cable-fly", "wrist"),
    ],
)
def test_phase_edges_are_where_the_motion_starts_and_stops(exercise: str, placement: str) -> None:
    sim = simulate_set(exercise, "3121", reps=5, placement=placement, seed=9)
    scale = get_exercise(exercise).rom_m or get_exercise(exercise).rom_rad or 1.0
    for rep in sim.truth:
        for span in rep.phases:
            c = _coord_in(sim, span.start_s + 0.06, span.end_s - 0.06)
            if span.phase in (Phase.BOTTOM_PAUSE, Phase.TOP_PAUSE):
                assert np.ptp(c) < 0.01 * scale  # still (the lift; sway is elsewhere)
            else:
                travel = c[-1] - c[0]
                sign = 1.0 if span.phase is Phase.CONCENTRIC else -1.0
                assert sign * travel > 0.6 * scale  # the whole range, in the right direction
        con = rep.span(Phase.CONCENTRIC)
        assert con is not None
        assert rep.range_of_motion == pytest.approx(scale, rel=0.35)


def test_truth_times_are_on_the_batch_clock() -> None:
    base = simulate_set("leg-curl", "2011", reps=3, seed=1, sensor=SensorConfig(t0_s=0.0))
    shifted = simulate_set("leg-curl", "2011", reps=3, seed=1, sensor=SensorConfig(t0_s=1000.0))
    assert shifted.truth[0].start_s == pytest.approx(base.truth[0].start_s + 1000.0)
    assert shifted.batch.t_s[0] == pytest.approx(base.batch.t_s[0] + 1000.0, abs=0.01)


def _activity(sim: SimulatedSet, start: float, end: float) -> float:
    """How much the sensor moves in [start, end]: position range plus turned angle (m + rad)."""
    assert sim.pos_world_m is not None
    inside = (sim.t_true_s >= start) & (sim.t_true_s <= end)
    if inside.sum() < 2:
        return 0.0
    pos = sim.pos_world_m[inside]
    turned = float(
        np.sum(np.linalg.norm(sim.batch.gyr_radps[(sim.batch.t_s >= start) & (sim.batch.t_s <= end)], axis=1))
        / sim.rate_hz
    )
    return float(np.max(np.ptp(pos, axis=0))) + turned


@pytest.mark.parametrize(
    ("exercise", "placement"),
    [
        ("back-squat", "bar"),
        ("bench-press", "bar"),
        ("romanian-deadlift", "wrist"),
        ("dumbbell-curl", "wrist"),
        ("lat-pulldown", "bar"),
        ("pull-up", "bar"),
        ("dumbbell-press", "bar"),
    ],
)
def test_motion_before_and_after_the_set_is_real_but_not_in_the_truth(exercise: str, placement: str) -> None:
    sim = simulate_set(
        exercise,
        "2010",
        reps=4,
        placement=placement,
        seed=13,
        sensor=SensorConfig(gyr_bias_radps=0.0, gyr_noise_radps=0.0, gyr_bias_drift_radps=0.0),
    )
    first, last = sim.reps_span_s
    assert sim.pre_set_s[1] <= first and sim.post_set_s[0] >= last
    assert _activity(sim, *sim.pre_set_s) > 0.04
    assert _activity(sim, *sim.post_set_s) > 0.04
    quiet = simulate_set(
        exercise,
        "2010",
        reps=4,
        placement=placement,
        seed=13,
        lifter=LifterConfig(pre_set=False, post_set=False),
        sensor=SensorConfig(gyr_bias_radps=0.0, gyr_noise_radps=0.0, gyr_bias_drift_radps=0.0),
    )
    assert _activity(quiet, 0.0, quiet.truth[0].start_s - 0.1) < 0.5 * _activity(sim, *sim.pre_set_s)
    assert len(quiet.truth) == len(sim.truth) == 4


def test_unrack_walkout_moves_the_bar_horizontally_with_bounce() -> None:
    sim = simulate_set("back-squat", "31X0", reps=3, seed=21, sensor=SensorConfig.ideal())
    assert sim.pos_world_m is not None
    pre = (sim.t_true_s >= sim.pre_set_s[0]) & (sim.t_true_s <= sim.pre_set_s[1])
    horizontal = np.linalg.norm(sim.pos_world_m[pre, :2] - sim.pos_world_m[pre][-1, :2], axis=1)
    assert 0.25 < horizontal.max() < 0.75  # a 0.3-0.6 m walkout
    assert np.ptp(sim.pos_world_m[pre, 2]) > 0.025  # lifted off the hooks


def test_wrist_and_bar_reps_share_timing_only_through_the_seed() -> None:
    bar = simulate_set("back-squat", "31X0", reps=4, placement="bar", seed=30)
    wrist = simulate_set("back-squat", "31X0", reps=4, placement="wrist", seed=30)
    assert len(bar.truth) == len(wrist.truth) == 4
    assert bar.unit == wrist.unit == "m"
    assert bar.concentric_sign == 1.0
    assert simulate_set("lat-pulldown", "2010", reps=2, seed=1).concentric_sign == -1.0


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))))


def test_a_session_is_its_sets_on_one_clock_turning_between_them_as_the_gyro_says() -> None:
    rate_hz, rest_s = 100.0, 20.0
    # Lateral raises from the wrist: the arm hangs differently after one set (75 degrees here) than
    # before the next.
    session = simulate_session("lateral-raise", "20X1", sets=3, reps=4, placement="wrist", rate_hz=rate_hz,
                               seed=5, rest_s=rest_s)
    t, acc, gyr = session.batch.t_s, session.batch.acc_mps2, session.batch.gyr_radps
    assert np.all(np.diff(t) > 0)
    previous: SimulatedSet | None = None
    for k, reps in enumerate(session.truth):
        alone = simulate_set("lateral-raise", "20X1", reps=4, placement="wrist", rate_hz=rate_hz, seed=5 + k,
                             sensor_seed=5)
        shift_s = reps[0].start_s - alone.truth[0].start_s
        # The same reps, moved on the session's clock by the rests and the sets before.
        assert [r.end_s - shift_s for r in reps] == pytest.approx([r.end_s for r in alone.truth])
        set_start_s = float(alone.batch.t_s[0]) + shift_s
        rest = (t > set_start_s - rest_s) & (t < set_start_s)
        early, late = rest & (t < set_start_s - rest_s + 5.0), rest & (t > set_start_s - 5.0)
        # The rest ends as the set starts, and (after the first set) begins as the last one ended...
        assert _angle_deg(acc[late].mean(axis=0), alone.batch.acc_mps2[:50].mean(axis=0)) < 1.0
        assert acc[early].std(axis=0).max() < 0.05 and acc[late].std(axis=0).max() < 0.05
        if previous is not None:
            assert _angle_deg(acc[early].mean(axis=0), previous.batch.acc_mps2[-50:].mean(axis=0)) < 1.0
            # ...and the gyro saw the turn between the two.
            middle_s = set_start_s - rest_s / 2
            turning = rest & (np.abs(t - middle_s) < 1.5)
            bias = 0.5 * (gyr[early].mean(axis=0) + gyr[late].mean(axis=0))
            turned_rad = float(np.linalg.norm((gyr[turning] - bias).sum(axis=0))) / rate_hz
            between_rad = np.radians(_angle_deg(acc[early].mean(axis=0), acc[late].mean(axis=0)))
            assert turned_rad == pytest.approx(between_rad, abs=0.01)
        previous = alone
    assert session.truth[1][0].start_s > session.truth[0][-1].end_s + rest_s
