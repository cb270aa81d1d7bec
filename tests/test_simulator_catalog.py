"""Every catalogue exercise simulates at every placement it allows, at 50, 100 and 200 Hz."""

from __future__ import annotations

import numpy as np
import pytest

from tempocoach.errors import CatalogError, TempoCoachError
from tempocoach.exercises import catalog, get_exercise
from tempocoach.sensors.simulator import SimulationError, simulate_set, simulate_suite

CASES = [(ex.id, placement) for ex in catalog() for placement in ex.motion]


@pytest.mark.parametrize(("exercise", "placement"), CASES)
def test_each_exercise_and_placement_simulates_at_common_rates(exercise: str, placement: str) -> None:
    order = get_exercise(exercise).phase_order
    for i, rate in enumerate((50.0, 100.0, 200.0)):
        sim = simulate_set(exercise, "20X1", reps=3, placement=placement, rate_hz=rate, seed=i)
        assert len(sim.truth) == 3
        assert all(tuple(p.phase for p in rep.phases) == order for rep in sim.truth)
        assert np.all(np.isfinite(sim.batch.acc_mps2)) and np.all(np.isfinite(sim.batch.gyr_radps))
        assert sim.batch.t_s[0] < sim.truth[0].start_s < sim.truth[-1].end_s < sim.batch.t_s[-1]
        # Something moves in every rep: the sensor is not blind to the lift.
        for rep in sim.truth:
            inside = (sim.batch.t_s >= rep.start_s) & (sim.batch.t_s <= rep.end_s)
            motion = (
                np.ptp(sim.batch.acc_mps2[inside], axis=0).max()
                + np.ptp(sim.batch.gyr_radps[inside], axis=0).max()
            )
            assert motion > 0.5
        assert sim.unit == ("rad" if get_exercise(exercise).motion[placement] == "rotation" else "m")  # type: ignore[index]


def test_a_placement_the_exercise_does_not_allow_is_an_error() -> None:
    with pytest.raises(CatalogError, match="wrist"):
        simulate_set("leg-press", "2010", placement="wrist")


@pytest.mark.parametrize(
    "kwargs",
    [{"reps": 0}, {"rate_hz": 5.0}, {"tempo": "31Q0"}, {"exercise": "squatt"}],
)
def test_bad_arguments_raise_one_line_errors(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"exercise": "back-squat", "tempo": "31X0", **kwargs}
    with pytest.raises(TempoCoachError) as info:
        simulate_set(**args)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_bad_batch_size_is_an_error() -> None:
    sim = simulate_set("air-squat", "2020", reps=1)
    with pytest.raises(SimulationError):
        next(sim.batches(0))


def test_suite_is_a_reproducible_mix_of_lifts_tempos_and_rates() -> None:
    first = list(simulate_suite(12, seed=3))
    again = list(simulate_suite(12, seed=3))
    assert [(s.exercise, s.tempo, s.placement, s.rate_hz, len(s.truth)) for s in first] == [
        (s.exercise, s.tempo, s.placement, s.rate_hz, len(s.truth)) for s in again
    ]
    np.testing.assert_array_equal(first[5].batch.acc_mps2, again[5].batch.acc_mps2)
    assert len({s.exercise for s in first}) >= 6
    assert len({s.rate_hz for s in first}) >= 2
    assert all(3 <= len(s.truth) <= 12 for s in first)
    only = list(simulate_suite(3, seed=1, exercises=["deadlift"], tempos=["21X1"], rates_hz=[50.0]))
    assert {(s.exercise, s.tempo, s.rate_hz) for s in only} == {("deadlift", "21X1", 50.0)}
