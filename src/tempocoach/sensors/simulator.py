"""Simulated sets: a lifter following a tempo code, seen by an imperfect IMU, with honest ground truth.

    sim = simulate_set("back-squat", "31X0", reps=6, placement="bar", rate_hz=100, seed=1)
    sim.batch      # ImuBatch: the whole recording, SI units, sensor frame
    sim.truth      # list[Rep]: true phase spans on the batch clock
    for batch in sim.batches(10): ...   # as a stream of packets

Truth conventions. Every rep has all four phases in the exercise's order (eccentric-first:
eccentric, bottom_pause, concentric, top_pause; concentric-first: concentric, top_pause, eccentric,
bottom_pause). Phase edges are where the lift's motion truly starts or stops (its velocity leaves or
returns to zero). A pause the lifter did not make (a 0 in the tempo) is a zero-duration span, start ==
end. The last rep's final pause lasts what the lifter meant it to (drawn like any pause); the lifter then
lingers still and puts the load away, which is not part of any rep. Pre- and post-set gestures
(unrack, walkout, pick-up, fidgets, re-rack) are never in the truth.

`position` is the true motion signal at `t_true_s`: translation lifts, metres along gravity (up +; the
seated row: metres along the pull, towards the lifter +) measured from the lift's nominal bottom, including
gestures and sway; rotation lifts, the joint angle travelled from the nominal bottom, in radians,
+ in the concentric. `concentric_sign` says which way `position` moves in the concentric.

Random streams: the seed splits into independent streams for timing, geometry, gestures, physiology
and the sensor, so sweeping a sensor knob keeps the lifter's motion identical (and vice versa).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation

from tempocoach.errors import TempoCoachError
from tempocoach.events import Rep
from tempocoach.exercises import catalog, get_exercise
from tempocoach.sensors.base import FloatArray, ImuBatch
from tempocoach.sensors.sim_lifter import LifterConfig
from tempocoach.sensors.sim_motion import MotionStreams, simulate_motion
from tempocoach.sensors.sim_sensor import SensorConfig, sample_imu
from tempocoach.tempo import parse_tempo

__all__ = [
    "SUITE_TEMPOS",
    "LifterConfig",
    "SensorConfig",
    "SimulatedSession",
    "SimulatedSet",
    "SimulationError",
    "simulate_session",
    "simulate_set",
    "simulate_suite",
]

MIN_GRID_HZ = 500.0  # the true kinematics are built on a grid >= 4x the rate, then sampled


class SimulationError(TempoCoachError):
    """The simulator was asked for something it cannot simulate."""


@dataclass
class SimulatedSet:
    batch: ImuBatch
    truth: list[Rep]
    exercise: str
    tempo: str
    placement: str
    rate_hz: float
    seed: int
    position: FloatArray
    t_true_s: FloatArray
    # Extra truth for checks and plots, all at t_true_s (every sample instant, dropped ones included).
    concentric_sign: float = 1.0
    unit: str = "m"
    lift_coordinate: FloatArray | None = None  # the pure rep motion c(t) (no gestures or sway), + concentric
    pos_world_m: FloatArray | None = None  # sensor position, world frame (z up)
    acc_world_mps2: FloatArray | None = None  # its true acceleration (gravity not included)
    quat_world_from_sensor: FloatArray | None = None  # (n, 4) scalar-last (x, y, z, w)
    kept: np.ndarray | None = None  # indices into t_true_s of the samples present in batch
    pre_set_s: tuple[float, float] = (0.0, 0.0)  # span of the gestures before the reps
    post_set_s: tuple[float, float] = (0.0, 0.0)  # span of the gestures after the reps
    load_fraction: float = 0.0

    def batches(self, chunk_samples: int = 10) -> Iterator[ImuBatch]:
        """The recording as consecutive packets of at most chunk_samples samples."""
        if chunk_samples < 1:
            raise SimulationError(f"batches: chunk_samples must be >= 1, got {chunk_samples}")
        yield from self.batch.chunks(chunk_samples)

    @property
    def reps_span_s(self) -> tuple[float, float]:
        """From the first rep's start to the last rep's end, on the batch clock."""
        return self.truth[0].start_s, self.truth[-1].end_s


def simulate_set(
    exercise: str,
    tempo: str,
    reps: int = 6,
    placement: str = "bar",
    rate_hz: float = 100.0,
    seed: int = 0,
    *,
    lifter: LifterConfig | None = None,
    sensor: SensorConfig | None = None,
    sensor_seed: int | None = None,
) -> SimulatedSet:
    """Simulate one set; the same arguments always give identical arrays. The sensor (mount, errors,
    noise) is drawn from `seed` too, unless `sensor_seed` is given: the sets of one session share it."""
    ex = get_exercise(exercise)
    code = parse_tempo(tempo)
    motion_kind = ex.motion_for(placement)
    if not 1 <= reps <= 200:
        raise SimulationError(f"simulate_set: reps={reps} is out of range; use 1..200")
    if not 10.0 <= rate_hz <= 1000.0:
        raise SimulationError(f"simulate_set: rate_hz={rate_hz:g} is out of range; use 10..1000 Hz")
    lifter = lifter or LifterConfig()
    sensor = sensor or SensorConfig()
    if sensor.mount not in ("random", "aligned"):
        raise SimulationError(f"SensorConfig.mount='{sensor.mount}'; use 'random' or 'aligned'")
    lifter_seq, sensor_seq = np.random.SeedSequence(seed).spawn(2)
    if sensor_seed is not None:
        sensor_seq = np.random.SeedSequence(sensor_seed).spawn(2)[1]
    motion = simulate_motion(
        ex,
        code,
        reps,
        placement,
        lifter,
        MotionStreams.from_seed(lifter_seq),
        max(MIN_GRID_HZ, 4.0 * rate_hz),
    )
    imu = sample_imu(motion, rate_hz, sensor, np.random.default_rng(sensor_seq))
    meta = dict(imu.batch.meta, exercise=ex.id, tempo=str(code), placement=placement, seed=str(seed))
    batch = ImuBatch(imu.batch.t_s, imu.batch.acc_mps2, imu.batch.gyr_radps, imu.batch.mag_ut, meta)
    t0 = sensor.t0_s
    return SimulatedSet(
        batch=batch,
        truth=[_shift(rep, t0) for rep in motion.truth],
        exercise=ex.id,
        tempo=str(code),
        placement=placement,
        rate_hz=float(rate_hz),
        seed=seed,
        position=imu.signal,
        t_true_s=imu.t_true_s,
        concentric_sign=motion.geometry.concentric_sign,
        unit="rad" if motion_kind == "rotation" else "m",
        lift_coordinate=imu.lift_coordinate,
        pos_world_m=imu.pos_m,
        acc_world_mps2=imu.acc_world_mps2,
        quat_world_from_sensor=_as_quat(imu.orientation),
        kept=imu.kept,
        pre_set_s=(motion.pre_set_s[0] + t0, motion.pre_set_s[1] + t0),
        post_set_s=(motion.post_set_s[0] + t0, motion.post_set_s[1] + t0),
        load_fraction=motion.load_fraction,
    )


@dataclass
class SimulatedSession:
    """Several sets on one clock: the recording, and each set's true reps."""

    batch: ImuBatch
    truth: list[list[Rep]]


def simulate_session(
    exercise: str,
    tempo: str,
    sets: int = 3,
    reps: int = 6,
    placement: str = "bar",
    rate_hz: float = 100.0,
    seed: int = 0,
    rest_s: float = 60.0,
) -> SimulatedSession:
    """Sets one after another, the load resting rest_s (still, in the rack or on the floor) before each.

    Each set's lifter is drawn from seed, seed + 1, ...; the sensor (mount, errors) is the same for
    all. Each rest holds the sensor as the last set left it, turns it (seen by the gyro) in its middle
    TURN_S to how the next set starts, and holds it there: the readings at rest are the sets' own
    resting readings, plus white noise."""
    if not 1 <= sets <= 100:
        raise SimulationError(f"simulate_session: sets={sets} is out of range; use 1..100")
    rng = np.random.default_rng(seed)
    parts: list[ImuBatch] = []
    truth: list[list[Rep]] = []
    t_end_s = 0.0
    settle = max(1, round(0.5 * rate_hz))  # the load is about still for half a second at a set's ends
    resting: tuple[FloatArray, FloatArray] | None = None  # (accelerometer, gyro) as the last set ended
    for k in range(sets):
        sim = simulate_set(exercise, tempo, reps, placement, rate_hz, seed + k, sensor_seed=seed)
        acc, gyr = sim.batch.acc_mps2, sim.batch.gyr_radps
        # A set's ends are not quite still (a wrist trembles, a bar lands in the rack): the resting
        # attitude is the median there, and the gyro at rest reads its bias, the set's median.
        bias = np.median(gyr, axis=0)
        starting = (np.median(acc[:settle], axis=0), bias)
        t_rest = t_end_s + np.arange(1, round(rest_s * rate_hz) + 1) / rate_hz
        rest_acc, rest_gyr = _rest_turning(t_rest - t_end_s, resting or starting, starting)
        parts.append(ImuBatch(t_rest, rest_acc + rng.normal(0.0, 0.02, rest_acc.shape),
                              rest_gyr + rng.normal(0.0, 0.005, rest_gyr.shape)))
        shift_s = t_end_s + (len(t_rest) + 1) / rate_hz - float(sim.batch.t_s[0])
        parts.append(ImuBatch(sim.batch.t_s + shift_s, acc, gyr))
        truth.append([_shift(rep, shift_s) for rep in sim.truth])
        t_end_s = float(parts[-1].t_s[-1])
        resting = (np.median(acc[-settle:], axis=0), bias)
    return SimulatedSession(ImuBatch.concat(parts), truth)


TURN_S = 2.0  # between sets, the sensor turns from one resting attitude to the next over this long


def _rest_turning(t_s: FloatArray, before: tuple[FloatArray, FloatArray], after: tuple[FloatArray, FloatArray]
                  ) -> tuple[FloatArray, FloatArray]:
    """Accelerometer and gyro readings (no noise) of a sensor resting as `before`, turning smoothly
    about the shortest axis in the middle TURN_S of t_s to rest as `after`. A world-fixed vector seen
    from a sensor turning at w moves at -w x v, so the gyro reads -phi' times the axis (plus bias)."""
    (acc0, gyr0), (acc1, gyr1) = before, after
    up0, up1 = acc0 / np.linalg.norm(acc0), acc1 / np.linalg.norm(acc1)
    axis = np.cross(up0, up1)
    angle = float(np.arctan2(np.linalg.norm(axis), up0 @ up1))
    axis = axis / max(float(np.linalg.norm(axis)), 1e-12)
    span = float(t_s[-1] - t_s[0]) if len(t_s) > 1 else 0.0
    turn_s = min(TURN_S, span)
    begin_s = float(t_s[0]) + 0.5 * (span - turn_s) if len(t_s) else 0.0
    u = np.clip((t_s - begin_s) / max(turn_s, 1e-9), 0.0, 1.0)
    phi = angle * (1.0 - np.cos(np.pi * u)) / 2.0
    rate = angle * np.pi / (2.0 * max(turn_s, 1e-9)) * np.sin(np.pi * u)
    magnitude = np.linalg.norm(acc0) + u * (np.linalg.norm(acc1) - np.linalg.norm(acc0))
    acc = magnitude[:, None] * Rotation.from_rotvec(phi[:, None] * axis).apply(up0)
    gyr = gyr0 + u[:, None] * (gyr1 - gyr0) - rate[:, None] * axis
    return acc, gyr


SUITE_TEMPOS = ("31X0", "2010", "3110", "4040", "20X1", "30X0", "2121", "(10)010", "5010", "3-2-1-2")


def simulate_suite(
    n_sets: int,
    seed: int = 0,
    *,
    exercises: Sequence[str] | None = None,
    tempos: Sequence[str] = SUITE_TEMPOS,
    rates_hz: Sequence[float] = (50.0, 100.0, 200.0),
    reps_range: tuple[int, int] = (3, 12),
    rough_sensors: bool = True,
) -> Iterator[SimulatedSet]:
    """A reproducible benchmark mix: random exercise and placement from the catalogue (or `exercises`),
    tempo, rep count, rate and seed per set. With rough_sensors, about one set in five has a cheap
    sensor's large uncalibrated gyro bias (0.05-0.25 rad/s, as on a Feather nRF52840 bar sensor) and one
    in seven a coarse 12-bit, +-4 g / +-1000 dps IMU."""
    rng = np.random.default_rng(seed)
    names = list(exercises) if exercises is not None else [ex.id for ex in catalog()]
    cases = [(name, placement) for name in names for placement in get_exercise(name).motion]
    for i in range(n_sets):
        exercise, placement = cases[int(rng.integers(len(cases)))]
        tempo = tempos[int(rng.integers(len(tempos)))]
        reps = int(rng.integers(reps_range[0], reps_range[1] + 1))
        rate = float(rates_hz[int(rng.integers(len(rates_hz)))])
        sensor = SensorConfig()
        roll = rng.random()
        if rough_sensors and roll < 0.2:
            sensor = replace(sensor, gyr_bias_radps=float(rng.uniform(0.05, 0.25)))
        elif rough_sensors and roll < 0.34:
            sensor = replace(sensor, bits=12, acc_range_g=4.0, gyr_range_dps=1000.0)
        yield simulate_set(exercise, tempo, reps, placement, rate, seed * 100_003 + i, sensor=sensor)


def _as_quat(rotation: Rotation) -> FloatArray:
    return np.asarray(rotation.as_quat(), dtype=np.float64)


def _shift(rep: Rep, offset_s: float) -> Rep:
    if offset_s == 0.0:
        return rep
    from tempocoach.events import PhaseSpan

    phases = tuple(PhaseSpan(p.phase, p.start_s + offset_s, p.end_s + offset_s) for p in rep.phases)
    return Rep(rep.index, phases, rep.range_of_motion)
