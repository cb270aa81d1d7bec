"""Orientation with imufusion's AHRS: sensor-frame samples -> earth-frame specific force.

The AHRS (x-io Fusion, via the `imufusion` package, 1.3 API) wants degrees/s and g; we convert at this
boundary and hand back SI. Earth frame is NWU: z points up, so at rest the earth-frame specific force
is (0, 0, +g). The initial attitude is levelled from the first samples' gravity direction, so Fusion's
~3 s start-up ramp (high gain) starts from the right attitude: recordings often start just before the
unrack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import imufusion
import numpy as np

from tempocoach.motion.filters import Lowpass
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch, time_steps

_DEG_PER_RAD = 180.0 / math.pi
BIAS_UPDATE_S = 0.5  # the gyro bias is updated from this much evidence at a time
GYRO_STEADY_RADPS = 0.06  # a still sensor's gyro varies less than this (noise, tremor)
ACC_STEADY_G = 0.02  # ...and its accelerometer less than this
STILL_TILT_NOISE_RAD = 0.004  # gravity's direction wanders this much at rest (noise, tremor)
MAX_GYRO_BIAS_RADPS = 0.25  # an uncalibrated MEMS gyro (a Feather nRF52840's) reads up to this at rest
CHEAP_GYRO_BIAS_RADPS = 0.1  # a still start teaches a bias this large (a hand's sway can pass for less)
MAX_HOLE_FRACTION = 0.02  # more gaps than this (> 3 periods each) and the gyro cannot be integrated
# An accelerometer axis changing by this much (a 3 degree tilt, or a push) while the gyro reads zero:
# the sensor moved, so it has no gyro.
SILENT_GYRO_MOVE_MPS2 = 0.5


@dataclass(frozen=True)
class OrientationSettings:
    gain: float = 0.5
    acceleration_rejection_deg: float = 20.0
    rejection_timeout_s: float = 5.0
    level_window_s: float = 0.2  # samples averaged to level the initial attitude
    # Integral feedback (as in Mahony's filter): a gyro bias the rests never taught (a lifter holding
    # the bar is never still enough) tilts Fusion's attitude until it rejects the accelerometer. The
    # persistent disagreement between its up and the accelerometer's is learned as bias instead.
    gyro_bias_gain_per_s: float = 0.05  # rad/s of bias learned per second per rad of disagreement
    quasi_static_g: float = 0.3  # samples whose |specific force| is this close to 1 g are used
    max_gyro_bias_radps: float = 0.35  # per axis; MEMS gyros are specified to ~0.2 rad/s (10 deg/s)


@dataclass(frozen=True)
class EarthFrame:
    """Per sample: specific force in the earth frame (z up, m/s^2) and the up direction in the sensor
    frame (unit vector), both from the AHRS."""

    t_s: FloatArray
    specific_force_earth_mps2: FloatArray
    up_in_sensor: FloatArray


def truly_still(gyr_radps: FloatArray, acc: FloatArray, duration_s: float) -> bool:
    """Is the gyro's mean over these samples a bias, or a slow turn? A turn tilts gravity in the
    sensor frame by as much as the gyro says; a bias does not. (acc in any unit.)"""
    half = len(acc) // 2
    first, second = acc[:half].mean(axis=0), acc[half:].mean(axis=0)
    cos = float(first @ second) / max(float(np.linalg.norm(first) * np.linalg.norm(second)), 1e-9)
    tilt_rad = float(np.arccos(np.clip(cos, -1.0, 1.0)))
    turn_rad = float(np.linalg.norm(gyr_radps.mean(axis=0))) * duration_s / 2
    return tilt_rad < 0.3 * turn_rad + STILL_TILT_NOISE_RAD


def still_start_bias(gyr_radps: FloatArray, acc_g: FloatArray, duration_s: float) -> FloatArray | None:
    """The gyro's bias, if the stream starts with the sensor still (a bar in the rack, a watch at
    rest): its mean there. None if the sensor moves. A cheap gyro's bias (up to 0.25 rad/s) left to
    the integral feedback takes tens of seconds to learn, and meanwhile tilts the attitude by up to
    the rejection angle."""
    if len(gyr_radps) < 8 or float(gyr_radps.std(axis=0).max()) >= GYRO_STEADY_RADPS:
        return None
    level_g = float(np.linalg.norm(acc_g.mean(axis=0)))
    if float(acc_g.std(axis=0).max()) >= ACC_STEADY_G or abs(level_g - 1.0) > 0.05:
        return None
    # Only the part across gravity: a turn about the vertical (a hand swaying) does not tilt gravity,
    # so the accelerometer cannot tell it from a bias, and it does not tilt the attitude either.
    up = acc_g.mean(axis=0) / level_g
    mean = np.asarray(gyr_radps.mean(axis=0))
    across = mean - float(mean @ up) * up
    if float(np.linalg.norm(across)) < CHEAP_GYRO_BIAS_RADPS or not truly_still(gyr_radps, acc_g, duration_s):
        return None
    return np.asarray(across)


def _level_quaternion(acc: FloatArray) -> tuple[float, float, float, float]:
    """Quaternion (w, x, y, z) rotating the sensor frame so that `acc` (measured up) maps to +z."""
    up = acc / max(float(np.linalg.norm(acc)), 1e-9)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(up, z)
    s = float(np.linalg.norm(axis))
    c = float(np.dot(up, z))
    if s < 1e-9:
        return (1.0, 0.0, 0.0, 0.0) if c > 0 else (0.0, 1.0, 0.0, 0.0)
    angle = math.atan2(s, c)
    axis = axis / s
    half = angle / 2
    return (math.cos(half), *(float(a) * math.sin(half) for a in axis))  # type: ignore[return-value]


def rotation_matrices(quaternions: FloatArray) -> FloatArray:
    """Sensor-to-earth rotation matrices, shape (n, 3, 3), from Fusion's unit quaternions (w, x, y, z)
    (the standard formula, as Fusion's own FusionQuaternionToMatrix)."""
    w, x, y, z = quaternions.T
    out = np.empty((len(quaternions), 3, 3))
    out[:, 0, 0] = 1 - 2 * (y * y + z * z)
    out[:, 0, 1] = 2 * (x * y - w * z)
    out[:, 0, 2] = 2 * (x * z + w * y)
    out[:, 1, 0] = 2 * (x * y + w * z)
    out[:, 1, 1] = 1 - 2 * (x * x + z * z)
    out[:, 1, 2] = 2 * (y * z - w * x)
    out[:, 2, 0] = 2 * (x * z - w * y)
    out[:, 2, 1] = 2 * (y * z + w * x)
    out[:, 2, 2] = 1 - 2 * (x * x + y * y)
    return out


class OrientationFilter:
    """Streaming AHRS. `update` takes an ImuBatch (SI) and returns the EarthFrame for its samples."""

    def __init__(self, sample_rate_hz: float, settings: OrientationSettings | None = None) -> None:
        self.settings = settings or OrientationSettings()
        self._ahrs = imufusion.Ahrs()
        self._ahrs.set_settings(
            imufusion.AhrsSettings(
                sample_rate=max(1, round(sample_rate_hz)),
                convention=imufusion.CONVENTION_NWU,
                gain=self.settings.gain,
                gyroscope_range=4000,
                acceleration_rejection=self.settings.acceleration_rejection_deg,
                magnetic_rejection=0,
                # Seconds in imufusion 1.3 (a float), not samples as in older examples: passing a sample
                # count made a lost attitude stay lost for minutes.
                rejection_timeout=self.settings.rejection_timeout_s,
            )
        )
        self._nominal_dt_s = 1.0 / sample_rate_hz
        self._period_set_s = self._nominal_dt_s
        self._last_t_s: float | None = None
        self._levelled = False
        self.gyro_bias_radps = np.zeros(3)  # learned by integral feedback, removed before Fusion
        self._bias_evidence: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        # A count, not a duration: a rate estimated as 99.98 or 100 Hz must batch the same way.
        self._bias_update_samples = max(1, round(BIAS_UPDATE_S * sample_rate_hz))

    def _learn_gyro_bias(self, up: FloatArray, acc_g: FloatArray, dts: FloatArray) -> None:
        """The attitude error seen by the accelerometer, integrated into the gyro bias. Only quasi-static
        samples count; the reps' own accelerations come and go and average out."""
        norm = np.linalg.norm(acc_g, axis=1)
        used = np.abs(norm - 1.0) < self.settings.quasi_static_g
        if not used.any():
            return
        measured_up = acc_g[used] / norm[used, None]
        # A gyro reading too fast turns the estimate past the measurement about this axis.
        error = np.cross(up[used], measured_up)
        # Only where Fusion itself still trusts the accelerometer: beyond that, the disagreement is
        # motion (or a lost attitude), and integrating it would wind the bias up.
        rejection = math.sin(math.radians(self.settings.acceleration_rejection_deg))
        trusted = np.linalg.norm(error, axis=1) < rejection
        step = self.settings.gyro_bias_gain_per_s * (error[trusted] * dts[used][trusted, None]).sum(axis=0)
        limit = self.settings.max_gyro_bias_radps
        self.gyro_bias_radps = np.clip(self.gyro_bias_radps + step, -limit, limit)

    def hand_over_gyro_bias(self, share: float) -> None:
        """The caller now removes `share` of the gyro's bias before this filter sees it (it measured
        the bias at a rest): drop that share of the bias learned here, or it is removed twice."""
        self.gyro_bias_radps = self.gyro_bias_radps * (1.0 - share)

    def update(self, batch: ImuBatch) -> EarthFrame:
        n = len(batch)
        if n == 0:
            return EarthFrame(batch.t_s, np.empty((0, 3)), np.empty((0, 3)))
        acc_g = batch.acc_mps2 / STANDARD_GRAVITY
        if not self._levelled:
            k = max(1, int(self.settings.level_window_s / self._nominal_dt_s))
            bias = still_start_bias(batch.gyr_radps[:k], acc_g[:k], k * self._nominal_dt_s)
            if bias is not None:
                limit = self.settings.max_gyro_bias_radps
                self.gyro_bias_radps = np.clip(bias, -limit, limit)
            # Fusion's start-up ramp (high gain, no rejection, ~3 s) is kept: skipping it left the
            # attitude stuck 60 degrees off on an Apple Watch set that starts mid-movement, with the
            # accelerometer rejected from then on.
            self._ahrs.set_quaternion(np.array(_level_quaternion(acc_g[:k].mean(axis=0))))
            self._levelled = True
        gyr_dps = (batch.gyr_radps - self.gyro_bias_radps) * _DEG_PER_RAD
        dts = time_steps(batch.t_s, self._last_t_s)
        if self._last_t_s is None:
            dts[0] = self._nominal_dt_s
        ahrs = self._ahrs
        update = ahrs.update_no_magnetometer
        get_quaternion = ahrs.get_quaternion
        quaternions: list[FloatArray] = []
        tolerance = 0.25 * self._nominal_dt_s
        for gyr_row, acc_row, dt in zip(gyr_dps, acc_g, dts.tolist(), strict=True):
            if abs(dt - self._period_set_s) > tolerance:
                ahrs.set_sample_period(dt)
                self._period_set_s = dt
            update(gyr_row, acc_row)
            quaternions.append(get_quaternion())
        self._last_t_s = float(batch.t_s[-1])
        # What Fusion's get_earth_acceleration and get_gravity would give, for all samples at once.
        rotation = rotation_matrices(np.array(quaternions))
        earth = np.einsum("nij,nj->ni", rotation, batch.acc_mps2)  # specific force, calibrated later
        up = rotation[:, 2, :]
        self._bias_evidence.append((up, acc_g, dts))
        if sum(len(part[2]) for part in self._bias_evidence) >= self._bias_update_samples:
            # In batches: the bias changes over tens of seconds, and the update's cost is per call.
            ups, accs, steps = zip(*self._bias_evidence, strict=True)
            self._learn_gyro_bias(np.concatenate(ups), np.concatenate(accs), np.concatenate(steps))
            self._bias_evidence = []
        return EarthFrame(batch.t_s, earth, up)


class GravityFrame:
    """Orientation without a trustworthy gyro (none on the device, or a stream with many holes that the
    gyro cannot be integrated across): the up direction is the slowly low-passed accelerometer, and
    only the vertical component of the specific force is known. Good for bar-mounted lifts, which
    barely turn; the horizontal axes are reported as zero."""

    def __init__(self, sample_rate_hz: float, cutoff_hz: float = 0.4) -> None:
        self._lowpass = Lowpass(cutoff_hz, sample_rate_hz, 3)

    def hand_over_gyro_bias(self, share: float) -> None:
        """No gyro is used here: nothing to hand over."""

    def update(self, batch: ImuBatch) -> EarthFrame:
        acc = batch.acc_mps2
        n = len(batch)
        if n == 0:
            return EarthFrame(batch.t_s, np.zeros((0, 3)), np.zeros((0, 3)))
        slow = self._lowpass(acc)
        up = slow / np.maximum(np.linalg.norm(slow, axis=1, keepdims=True), 1e-9)
        earth = np.zeros((n, 3))
        earth[:, 2] = np.einsum("ij,ij->i", acc, up)
        return EarthFrame(batch.t_s, earth, up)


def gyro_absent(batch: ImuBatch) -> bool:
    """No gyro at all: said so, or all zeros (as from a Polar H10). For a whole recording; a stream's
    first samples need `gyro_seen`."""
    return batch.meta.get("gyro") == "absent" or not np.any(batch.gyr_radps)


def gyro_seen(batch: ImuBatch) -> bool | None:
    """Does a stream's start show a gyro? True: it reads something. False: said to be absent, or all
    zeros while the accelerometer moved (a turning sensor shows a rate). None: all zeros at rest, which
    tells nothing: a quiet gyro with a coarse step (16 bits over +-2000 dps is 1 mrad/s) or a zero-rate
    deadband reads exactly zero while still."""
    if batch.meta.get("gyro") == "absent":
        return False
    if np.any(batch.gyr_radps):
        return True
    acc = batch.acc_mps2
    moved = len(acc) > 0 and float(np.abs(acc - acc[0]).max()) > SILENT_GYRO_MOVE_MPS2
    return False if moved else None


def needs_gravity_frame(batch: ImuBatch, no_gyro: bool | None = None) -> bool:
    """No usable gyro for an AHRS: absent (gyro_absent, unless `no_gyro` says already) or a stream full
    of holes."""
    absent = gyro_absent(batch) if no_gyro is None else no_gyro
    if absent:
        return True
    if len(batch) < 20:
        return False
    dt = np.diff(batch.t_s)
    holes = float(np.mean(dt > 3 * np.median(dt)))
    return holes > MAX_HOLE_FRACTION
