"""The simulated IMU: samples true kinematics the way a cheap wearable or bar sensor does.

Specific force f = R^T (a_world + g * up) and angular rate from the orientation trajectory (the
relative rotation between fine-grid neighbours), both in the sensor frame, mounted at any orientation.
Then the imperfections: white noise (density constant, so rms grows with sqrt(rate)), bias, scale and
cross-axis error, slow gyro bias drift, range clipping and quantisation, a sample clock a little off
nominal, timestamp jitter and ms resolution, repeated timestamps (resolved here by interpolation, as a
reader must, before anything becomes an ImuBatch), dropped samples and an occasional gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch
from tempocoach.sensors.sim_motion import LifterMotion
from tempocoach.sensors.sim_rotations import compose, relative_rotvecs, resample
from tempocoach.sensors.sim_shapes import smooth_noise_3d

IntArray = np.ndarray


@dataclass(frozen=True)
class SensorConfig:
    """How the simulated IMU misbehaves. `None` means "drawn at random from the seed" (ranges noted).

    Noise rms values are at 100 Hz and scale with sqrt(rate_hz / 100). Biases, scale errors and cross-axis
    terms are per axis, with random signs. bits=None disables quantisation and clipping.
    """

    acc_noise_mps2: float | None = None  # U(0.01, 0.03)
    gyr_noise_radps: float | None = None  # U(0.003, 0.008)
    acc_bias_mps2: float | None = None  # magnitude U(0.05, 0.3)
    acc_scale_error: float | None = None  # U(0.01, 0.03)
    gyr_bias_radps: float | None = None  # U(0.01, 0.03)
    gyr_bias_drift_radps: float = 0.002  # rms of a slow (< 0.02 Hz) wander
    gyr_scale_error: float | None = None  # U(0.002, 0.02)
    cross_axis: float | None = None  # off-diagonal terms, rms; N(0, 0.005)
    acc_range_g: float = 8.0
    gyr_range_dps: float = 2000.0
    bits: int | None = 16
    rate_error: float | None = None  # true rate = nominal x (1 + e); U(-0.01, 0.01)
    timestamp_jitter_s: float | None = None  # uniform +-; U(0.001, 0.003); capped at 0.45 / rate
    timestamp_resolution_s: float = 0.001
    repeat_prob: float = 0.005  # a sample carries its predecessor's timestamp (then resolved)
    drop_prob: float | None = None  # single dropped samples; U(0.001, 0.01)
    gap_prob: float = 0.25  # chance the set has one longer gap
    gap_s: tuple[float, float] = (0.2, 0.5)
    mount: str = "random"  # "random": any orientation; "aligned": sensor axes = body axes
    t0_s: float = 0.0  # the recording clock at the first true sample grid point
    magnetometer: bool = False  # also report mag_ut: Earth's field + hard/soft iron + noise

    @staticmethod
    def ideal(mount: str = "random") -> SensorConfig:
        """A perfect sensor: no noise, errors, quantisation, jitter or drops (for physics checks)."""
        return SensorConfig(
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            bits=None,
            rate_error=0.0,
            timestamp_jitter_s=0.0,
            timestamp_resolution_s=0.0,
            repeat_prob=0.0,
            drop_prob=0.0,
            gap_prob=0.0,
            mount=mount,
        )


@dataclass
class SampledImu:
    batch: ImuBatch
    t_true_s: FloatArray  # every sample instant of the sensor clock (before drops), true time
    kept: IntArray  # indices into t_true_s of the samples in batch
    orientation: Rotation  # world <- sensor at t_true_s
    pos_m: FloatArray
    acc_world_mps2: FloatArray
    signal: FloatArray
    lift_coordinate: FloatArray


def _pick(value: float | None, rng: np.random.Generator, lo: float, hi: float) -> float:
    drawn = float(rng.uniform(lo, hi))  # always drawn, so fixing one knob leaves the other draws alone
    return drawn if value is None else value


def _signed(rng: np.random.Generator, magnitude: float) -> FloatArray:
    return np.asarray(rng.choice([-1.0, 1.0], 3) * magnitude * rng.uniform(0.5, 1.0, 3), dtype=np.float64)


def sample_imu(
    motion: LifterMotion, rate_hz: float, cfg: SensorConfig, rng: np.random.Generator
) -> SampledImu:
    t_grid = motion.t_s
    dt = float(t_grid[1] - t_grid[0])
    mount = Rotation.random(random_state=rng) if cfg.mount == "random" else Rotation.identity()
    world_from_sensor = compose(motion.orientation, mount)

    acc_world = np.zeros_like(motion.pos_m)
    acc_world[1:-1] = (motion.pos_m[2:] - 2.0 * motion.pos_m[1:-1] + motion.pos_m[:-2]) / dt**2
    acc_world[0], acc_world[-1] = acc_world[1], acc_world[-2]
    force_world = acc_world + np.array([0.0, 0.0, STANDARD_GRAVITY])
    force_sensor = world_from_sensor.inv().apply(force_world)
    gyr_mid = relative_rotvecs(world_from_sensor) / dt
    t_mid = t_grid[:-1] + 0.5 * dt

    rate_error = _pick(cfg.rate_error, rng, -0.01, 0.01)
    period = 1.0 / (rate_hz * (1.0 + rate_error))
    t_true = t_grid[0] + rng.uniform(0.0, period) + np.arange(0.0, t_grid[-1] - t_grid[0] - period, period)
    acc = _interp3(t_true, t_grid, force_sensor)
    gyr = _interp3(t_true, t_mid, gyr_mid)
    acc, gyr = _imperfect(acc, gyr, t_true, rate_hz, cfg, rng)

    kept = _kept_samples(t_true, rate_hz, cfg, rng)
    stamps, kept, resolved = _timestamps(t_true[kept] + cfg.t0_s, kept, rate_hz, cfg, rng)
    meta = {
        "source": "simulator",
        "rate_hz": f"{rate_hz:g}",
        "timestamps_resolved": str(resolved),
        "dropped": str(t_true.shape[0] - kept.shape[0]),
    }
    orient = resample(t_grid, world_from_sensor, t_true)
    mag = _magnetometer(orient, rate_hz, cfg, rng)[kept] if cfg.magnetometer else None
    batch = ImuBatch(stamps, acc[kept], gyr[kept], mag, meta)
    return SampledImu(
        batch,
        t_true + cfg.t0_s,
        kept,
        orient,
        _interp3(t_true, t_grid, motion.pos_m),
        _interp3(t_true, t_grid, acc_world),
        np.interp(t_true, t_grid, motion.signal),
        np.interp(t_true, t_grid, motion.lift_coordinate),
    )


def _interp3(t: FloatArray, tp: FloatArray, values: FloatArray) -> FloatArray:
    return np.stack([np.interp(t, tp, values[:, k]) for k in range(3)], axis=1)


def _imperfect(
    acc: FloatArray,
    gyr: FloatArray,
    t: FloatArray,
    rate_hz: float,
    cfg: SensorConfig,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Scale/cross-axis error, bias (gyro bias wanders slowly), white noise, clipping, quantisation."""
    n = t.shape[0]
    root = np.sqrt(rate_hz / 100.0)
    acc_noise = _pick(cfg.acc_noise_mps2, rng, 0.01, 0.03) * root
    gyr_noise = _pick(cfg.gyr_noise_radps, rng, 0.003, 0.008) * root
    cross = _pick(cfg.cross_axis, rng, 0.0, 0.008)
    acc_m = np.eye(3) + np.diag(_signed(rng, _pick(cfg.acc_scale_error, rng, 0.01, 0.03)))
    acc_m += (1.0 - np.eye(3)) * rng.normal(0.0, 1.0, (3, 3)) * cross
    gyr_m = np.eye(3) + np.diag(_signed(rng, _pick(cfg.gyr_scale_error, rng, 0.002, 0.02)))
    gyr_m += (1.0 - np.eye(3)) * rng.normal(0.0, 1.0, (3, 3)) * cross
    acc_bias = _signed(rng, _pick(cfg.acc_bias_mps2, rng, 0.05, 0.3))
    gyr_bias = _signed(rng, _pick(cfg.gyr_bias_radps, rng, 0.01, 0.03))
    drift = smooth_noise_3d(t, rng, cfg.gyr_bias_drift_radps, 0.002, 0.02)
    acc = acc @ acc_m.T + acc_bias + rng.normal(0.0, 1.0, (n, 3)) * acc_noise
    gyr = gyr @ gyr_m.T + gyr_bias + drift + rng.normal(0.0, 1.0, (n, 3)) * gyr_noise
    if cfg.bits is not None:
        acc = _quantise(acc, cfg.acc_range_g * STANDARD_GRAVITY, cfg.bits)
        gyr = _quantise(gyr, np.deg2rad(cfg.gyr_range_dps), cfg.bits)
    return acc, gyr


def _magnetometer(
    orient: Rotation, rate_hz: float, cfg: SensorConfig, rng: np.random.Generator
) -> FloatArray:
    """Earth's field (25-65 uT, random dip and heading) in the sensor frame, plus the steel the sensor
    rides on (hard iron, fixed in the sensor frame, up to 40 uT), soft-iron distortion and white noise."""
    strength = rng.uniform(25.0, 65.0)
    dip, heading = rng.uniform(-1.2, 1.2), rng.uniform(0.0, 2.0 * np.pi)
    field = strength * np.array([np.cos(dip) * np.cos(heading), np.cos(dip) * np.sin(heading), -np.sin(dip)])
    hard_iron = rng.uniform(-40.0, 40.0, 3)
    soft_iron = np.eye(3) + rng.normal(0.0, 0.03, (3, 3))
    noise = 0.3 * np.sqrt(rate_hz / 100.0)
    n = orient.as_quat().shape[0]
    mag = orient.inv().apply(field) @ soft_iron.T + hard_iron + rng.normal(0.0, noise, (n, 3))
    if cfg.bits is not None:
        mag = _quantise(mag, 4900.0, cfg.bits)  # +-49 gauss full scale, 16 bit ~ 0.15 uT
    return np.asarray(mag, dtype=np.float64)


def _quantise(x: FloatArray, full_scale: float, bits: int) -> FloatArray:
    lsb = 2.0 * full_scale / 2**bits
    counts = np.clip(np.round(x / lsb), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return np.asarray(counts * lsb, dtype=np.float64)


def _kept_samples(
    t_true: FloatArray, rate_hz: float, cfg: SensorConfig, rng: np.random.Generator
) -> IntArray:
    """Indices of samples that arrive: random single drops and, sometimes, one longer gap."""
    n = t_true.shape[0]
    keep = np.greater_equal(rng.random(n), _pick(cfg.drop_prob, rng, 0.001, 0.01))
    has_gap = bool(rng.random() < cfg.gap_prob)
    gap_len = float(rng.uniform(*cfg.gap_s))
    gap_at = float(rng.uniform(t_true[0] + 1.0, max(t_true[-1] - 1.0 - gap_len, t_true[0] + 1.0)))
    if has_gap:
        keep &= ~((t_true >= gap_at) & (t_true < gap_at + gap_len))
    keep[0] = keep[-1] = True
    return np.flatnonzero(keep)


def _timestamps(
    t: FloatArray, kept: IntArray, rate_hz: float, cfg: SensorConfig, rng: np.random.Generator
) -> tuple[FloatArray, IntArray, int]:
    """Jitter, resolution and repeats as a reader sees them; then the reader's fix: a timestamp that does
    not advance is re-placed by interpolation between its good neighbours (trailing ones are dropped)."""
    n = t.shape[0]
    jitter = min(_pick(cfg.timestamp_jitter_s, rng, 0.001, 0.003), 0.45 / rate_hz)
    stamps = t + rng.uniform(-jitter, jitter, n)
    if cfg.timestamp_resolution_s > 0.0:
        stamps = np.round(stamps / cfg.timestamp_resolution_s) * cfg.timestamp_resolution_s
    repeat = np.less(rng.random(n), cfg.repeat_prob)
    repeat[0] = False
    source = np.maximum.accumulate(np.where(repeat, 0, np.arange(n)))
    stamps = stamps[source]
    running_max = np.maximum.accumulate(stamps)
    good = np.ones(n, dtype=bool)
    good[1:] = stamps[1:] > running_max[:-1]
    last_good = int(np.flatnonzero(good)[-1])
    bad = np.flatnonzero(~good[: last_good + 1])
    idx = np.arange(n)
    stamps[bad] = np.interp(idx[bad], idx[good], stamps[good])
    return stamps[: last_good + 1], kept[: last_good + 1], int(bad.shape[0] + n - 1 - last_good)
