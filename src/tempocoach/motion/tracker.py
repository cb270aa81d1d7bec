"""Motion tracker: ImuBatch -> MotionFrame, the one-dimensional motion signal the detector reads.

Translation lifts (squat, press, row...): velocity and position along the lift's axis (vertical, or a
learned horizontal axis) from earth-frame acceleration, integrated between zero-velocity updates.
Rotation lifts (curls, raises, extensions): joint angle and angular rate about the limb's rotation axis,
learned from the gyro; the rate needs no integration, so it does not drift.

The signal is signed so the concentric moves it in the + direction.

Drift is the enemy of slow tempos: a 5 s eccentric over 0.5 m cruises at 0.1 m/s with almost no
acceleration, so the accelerometer alone looks still there. Hence:
- rest (and a zero-velocity update) needs the accelerometer, the gyro AND the integrated velocity to
  agree; the integration's tolerance grows with the time since the last rest, capped below a cruise,
  and while the detector sees a movement under way, it must also have slowed well below that movement;
- the accelerometer offset (bias, scale error along the up axis) is learned at rest and corrected at
  every rest from what the integration left over (velocity is zero at both ends of a movement); until
  a rest teaches it, it is the force's mean over the last few seconds;
- over long stretches without rest (a 4040 set never stops) the velocity's mean over one rep cycle is
  removed: the lift returns to the same place every rep, so that mean is drift;
- integration that has run far past the lift's range of motion has lost track (the sensor turned
  over while being picked up): the next quiet moment is trusted as rest and the offsets relearned.
"""

from __future__ import annotations

import copy
import itertools
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from tempocoach.events import Cruise, MotionFrame, RotationTrace, TrackTrace
from tempocoach.exercises import Exercise
from tempocoach.motion.calibration import AccelerometerBias
from tempocoach.motion.filters import AxisLearner, CycleDetrend, Lowpass, RestWindow, row_norms
from tempocoach.motion.orientation import (
    GYRO_STEADY_RADPS,
    MAX_GYRO_BIAS_RADPS,
    GravityFrame,
    OrientationFilter,
    OrientationSettings,
    truly_still,
)
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch, time_steps

REST_HINT_S = 1.0  # a detector's stop hint holds this long, or until the sensor moves again
# A hole in the samples longer than this breaks the integration. Across a shorter one (a BLE packet or
# two lost, 0.2-0.5 s), integrating the acceleration as a straight line between its two sides keeps
# the speed closer than holding it would, and keeps a slow phase's cruise from being taken for rest.
GAP_S = 0.6
REST_SPEED_WINDOW_S = 0.5  # velocity gained over this window must be small at rest
RECENT_S = 0.6  # history kept to recover a movement's true onset
DRIFT_PER_S = 0.008  # m/s of integration error tolerated per second since the last rest
MAX_REST_SPEED_TOLERANCE = 0.06  # m/s; the slowest eccentrics (0.25 m in 5 s) cruise faster
REST_SHARE_OF_PEAK = 0.35  # ...and once the set shows its slower movement's peak speed, below this share
ONSET_SETTLE_S = 0.3  # rest samples this close to a rest's end are not used for learning
GRAVITY_AT_REST = np.array([0.0, 0.0, STANDARD_GRAVITY])
MAX_ACC_OFFSET_MPS2 = 1.0
GYRO_BIAS_MIN_SAMPLES = 20
AXIS_MEMORY_S = 6.0  # seconds of motion the rotation/horizontal axis remembers
OFFSET_MEAN_WINDOW_S = 10.0  # until a rest teaches the offset, the force's mean over this long...
OFFSET_MEAN_MIN_S = 3.0  # ...once there is this much of it
OFFSET_SD_MPS2 = 0.03  # how far a rest-learned accelerometer offset may be off...
REST_ENTRY_SPEED_SD_MPS = 0.03  # ...and the speed a rest is entered at, besides the offset's drift


def lost_excursion_m(rom_m: float) -> float:
    """Integration that has run this far from the last rest has lost track of the lift."""
    return 2.0 * rom_m + 0.3


def _plausible_offset(offset: FloatArray) -> FloatArray:
    """An accelerometer offset (the specific force read at rest) no further than MAX_ACC_OFFSET_MPS2
    per axis from an honest one: no real accelerometer is off by more, so beyond that "rest" was motion."""
    limit = MAX_ACC_OFFSET_MPS2
    return np.asarray(GRAVITY_AT_REST + np.clip(offset - GRAVITY_AT_REST, -limit, limit))


@dataclass(frozen=True)
class TrackerSettings:
    sample_rate_hz: float = 100.0
    cycle_s: float = 6.0  # nominal rep duration (from the tempo): the drift-removal window
    lowpass_hz: float = 2.0  # for rest tests only: removes 6-12 Hz tremor under load
    rest_window_s: float = 0.2
    rest_acc_mps2: float = 0.10  # low-passed axis acceleration below this may be rest
    rest_gyr_radps: float = 0.12  # low-passed angular rate below this may be rest
    # The post-set pass of a translation lift may take rest with the gyro turning this fast: a wrist
    # wobbles 0.1-0.2 rad/s in a held pause, and the pass asks more of a rest than live does (the
    # integrated speed across the set, the acceleration lobes around it). Live, the stricter limit
    # holds: its rests reset the velocity at once (0.2 live: F1 0.923 -> 0.911). Refined duration p95
    # at 0.12 / 0.2 / 0.3 / 0.45: 629 / 588 / 511 / 545 ms (seed 0).
    settled_gyr_radps: float = 0.3
    rest_speed_mps: float = 0.03  # ...and only if the integrated speed agrees
    offset_time_constant_s: float = 3.0  # how fast the at-rest offsets follow
    axis_min_rate_radps: float = 0.15  # low-passed gyro samples faster than this teach the rotation axis
    axis_lowpass_hz: float = 0.5  # below the forearm's 0.2-1.5 Hz twitches, above a slow rep's rotation
    gravity_frame: bool = False  # no usable gyro: up from the low-passed accelerometer instead of the AHRS
    no_gyro: bool = False  # no gyro at all: a rotation lift is followed along the sensor's path
    orientation: OrientationSettings = field(default_factory=OrientationSettings)


class MotionTracker:
    """Streaming: `update(batch)` returns the MotionFrame for the batch's samples."""

    def __init__(self, exercise: Exercise, placement: str, settings: TrackerSettings | None = None) -> None:
        self.settings = s = settings or TrackerSettings()
        self.exercise = exercise
        self.mode = exercise.motion_for(placement)
        if s.no_gyro and self.mode == "rotation":
            # No gyro to read the joint's turning from (an accelerometer-only sensor): the limb's end,
            # where the sensor is (wrist, pad), is followed along its path as a translation lift is.
            self.mode = "translation"
        self.unit = "m" if self.mode == "translation" else "rad"
        rate = s.sample_rate_hz
        self._orientation: OrientationFilter | GravityFrame = (
            GravityFrame(rate) if s.gravity_frame else OrientationFilter(rate, s.orientation)
        )
        self._motion_lp = Lowpass(s.lowpass_hz, rate, 6)  # accelerometer and gyro side by side
        self._motion_slow = Lowpass(0.3, rate, 6)  # the local mean, for quiet tests without offsets
        self._axis_lp = Lowpass(s.axis_lowpass_hz, rate, 3)
        self._rest_window = RestWindow(round(s.rest_window_s * rate))
        self._settled_window = RestWindow(round(s.rest_window_s * rate))
        self._detrend = CycleDetrend(s.cycle_s)
        self._offset_alpha = 1.0 / max(1.0, s.offset_time_constant_s * rate)
        # Rest is judged on the lift's own axis: the horizontal axes carry the AHRS's tilt errors.
        self._axes = slice(0, 2) if exercise.concentric == "horizontal" else slice(2, 3)
        rom_m = exercise.rom_m if self.mode == "translation" and exercise.rom_m else 0.4
        self._lost_excursion_m = lost_excursion_m(rom_m)
        # Offsets and integration state.
        # Until a rest teaches it, assume an honest accelerometer: at rest it reads +g on the up axis.
        self._acc_offset = GRAVITY_AT_REST.copy()
        self._gyro_bias = np.zeros(3)
        self._acc_bias = AccelerometerBias()
        self._gyro_bias_known = False
        self._steady_rows: list[FloatArray] = []  # this rest's gyro and raw accelerometer rows so far
        self._offset_known = False
        self._force_sums: deque[tuple[float, FloatArray, int]] = deque()  # (t_end, sum, count) per batch
        self._force_total, self._force_count = np.zeros(3), 0  # over _force_sums
        self._gap_since_rest = False
        self._rest_hint_s: float | None = None
        self._max_rest_speed = MAX_REST_SPEED_TOLERANCE
        self._cruise: Cruise | None = None  # see expect_cruise
        self._last_unquiet_t = -np.inf  # the last sample that was no rest candidate
        self._rest_samples_seen = 0
        self._pending_rest: list[tuple[FloatArray, FloatArray]] = []
        self._vel = np.zeros(3)  # raw integrated earth-frame velocity, zeroed at rest
        self._vel_detrended = np.zeros(3)  # the last sample's detrended velocity (positions integrate it)
        self._pos = np.zeros(3)  # integrated from the detrended velocity
        self._pos_at_rest = np.zeros(3)
        self._a_prev = np.zeros(3)
        self._t_prev: float | None = None
        self._resting = False
        self._rest_start_t = 0.0
        self._motion_start_t = 0.0
        self._recent_t = np.zeros(0)
        self._recent_acc = np.zeros((0, 3))
        self._recent_dev = np.zeros(0)
        self._recent_dt = np.zeros(0)
        # Signal axes and signs.
        self._horizontal_axis = AxisLearner(2, AXIS_MEMORY_S * rate)
        self._rotation_axis = AxisLearner(3, AXIS_MEMORY_S * rate)
        self._sign_keep_per_sample = 1.0 - 1.0 / (AXIS_MEMORY_S * rate)
        self._angle = 0.0
        self._rate_prev = 0.0  # the last sample's rate about the axis (the next trapezoid starts there)
        self._sign_evidence = 0.0
        self._gyr_lp_prev = np.zeros(3)  # the last low-passed gyro sample, for its derivative
        self._first_move_sign = 0

    # -- public ---------------------------------------------------------------------------------
    def update(self, batch: ImuBatch) -> MotionFrame:
        n = len(batch)
        if n == 0:
            z = np.zeros(0)
            return MotionFrame(z, z, z, np.zeros(0, dtype=bool), self.unit)
        # The AHRS gets the gyro with its learned bias removed: a biased gyro tilts the earth frame.
        gyr = batch.gyr_radps - self._gyro_bias
        acc_sensor = batch.acc_mps2 - self._acc_bias.bias_mps2
        earth = self._orientation.update(batch.with_samples(batch.t_s, acc_sensor, gyr))
        force = earth.specific_force_earth_mps2
        t = batch.t_s
        if not self._offset_known:
            self._offset_from_mean(t, force)
        dt = time_steps(t, self._t_prev)
        acc = force - self._acc_offset
        # One filter call for both sensors: the per-call overhead dominates at packet sizes.
        both_lp = self._motion_lp(np.hstack([acc, gyr]))
        acc_lp, gyr_lp = both_lp[:, :3], both_lp[:, 3:]
        quiet, quiet_turning = self._quiet(t, dt, acc, acc_lp, gyr_lp, gyr)
        candidate_rest = self._rest_window(quiet)
        vel, pos, rest = self._integrate(t, dt, acc, row_norms(acc_lp[:, self._axes]),
                                         candidate_rest)
        self._learn_at_rest(t, force, batch.gyr_radps, batch.acc_mps2, rest)
        self._t_prev = float(t[-1])
        if self.mode == "translation":
            # Refinement gets the acceleration before the offsets learned live: it removes a constant
            # offset per stretch between rests itself, and the live offsets also soak up real motion.
            position, velocity, acceleration = self._translation_signal(vel, pos, force - GRAVITY_AT_REST,
                                                                        acc_lp)
            trace = TrackTrace(acceleration, self._settled_window(quiet_turning), earth.up_in_sensor)
            return MotionFrame(t, position, velocity, rest, self.unit, trace)
        position, velocity, sign = self._rotation_signal(dt, gyr, gyr_lp, acc_lp[:, 2], rest)
        return MotionFrame(t, position, velocity, rest, self.unit, sign=sign,
                           rotation=RotationTrace(gyr, np.tile(self._rotation_axis.axis, (n, 1))))

    # -- rest ---------------------------------------------------------------------------------------
    def _quiet(self, t: FloatArray, dt: FloatArray, acc: FloatArray, acc_lp: FloatArray,
               gyr_lp: FloatArray, gyr_raw: FloatArray) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: quiet enough for a rest live, and quiet but for a gyro turning as fast as
        settled_gyr_radps (for the post-set pass; see TrackerSettings)."""
        s = self.settings
        axes = self._axes
        # A slow start is quiet on every sensor, but its speed still builds up: the velocity gained
        # over the last half second must be small too.
        gain = self._recent_velocity_gain(t, dt, acc)
        quiet = (row_norms(acc_lp[:, axes]) < s.rest_acc_mps2) & (
            row_norms(gain[:, axes]) < s.rest_speed_mps
        )
        slow = self._motion_slow(np.hstack([acc, gyr_raw]))
        change = acc_lp - slow[:, :3]
        if self._lost() or not self._offset_known:
            # The offset is unknown or wrong (the sensor turned over): judge quiet on change alone.
            quiet |= row_norms(change[:, axes]) < s.rest_acc_mps2
        rate = row_norms(gyr_lp)
        change_rate = row_norms(gyr_lp - slow[:, 3:])

        def still_gyro(limit_radps: float) -> np.ndarray:
            still = rate < limit_radps
            if not self._gyro_bias_known:
                # A cheap gyro can sit 0.1-0.25 rad/s off zero until its bias is learned at a rest,
                # and that rest must be allowed to happen: judge the gyro on change too. No bias is
                # larger than MAX_GYRO_BIAS_RADPS, though: a steady turn faster than that is a slow
                # movement's cruise.
                still |= (change_rate < limit_radps) & (rate < limit_radps + MAX_GYRO_BIAS_RADPS)
            return still

        return (np.asarray(quiet & still_gyro(s.rest_gyr_radps)),
                np.asarray(quiet & still_gyro(s.settled_gyr_radps)))

    def _recent_velocity_gain(self, t: FloatArray, dt: FloatArray, acc: FloatArray) -> FloatArray:
        """Per sample, the velocity change integrated over the preceding REST_SPEED_WINDOW_S."""
        all_t = np.concatenate([self._recent_t, t])
        steps = np.concatenate([self._recent_acc, acc]) * np.concatenate([self._recent_dt, dt])[:, None]
        cum = np.vstack([np.zeros((1, 3)), np.cumsum(steps, axis=0)])
        first = np.searchsorted(all_t, t - REST_SPEED_WINDOW_S)
        last = np.arange(len(self._recent_t), len(all_t)) + 1
        return np.asarray(cum[last] - cum[first])

    def _lost(self, position: FloatArray | None = None) -> bool:
        p = self._pos if position is None else position
        return float(np.linalg.norm((p - self._pos_at_rest)[self._axes])) > self._lost_excursion_m

    def _agreeing(self, v: FloatArray, t: FloatArray) -> np.ndarray:
        """Per sample: is the integrated speed small enough for rest? The tolerance grows with the time
        since the last rest (the integration's error grows too) but stays below a slow cruise, and below
        a share of the movement the detector sees under way (expect_cruise)."""
        since_rest_s = np.maximum(0.0, t - self._motion_start_t)
        growing = self.settings.rest_speed_mps + DRIFT_PER_S * since_rest_s
        # Within a rep's time of the last rest, speed near the set's own is motion; later, drift may
        # have built up past that, and rest must still be found.
        cap = np.where(since_rest_s < self.settings.cycle_s, self._max_rest_speed, MAX_REST_SPEED_TOLERANCE)
        tolerance = np.minimum(cap, growing)
        speed = row_norms(v[:, self._axes])
        agrees = speed < tolerance
        cruise = self._cruise
        if cruise is not None and self._last_unquiet_t >= cruise.seen_s:
            # (Only a movement that moved the sensors since it was seen: a pause's integrated
            # velocity creeping over the threshold is not one, and must still end in rest.)
            agrees &= (t >= cruise.until_s) | (speed < cruise.min_speed)
        return np.asarray(agrees)

    # -- integration ----------------------------------------------------------------------------
    def _integrate(
        self, t: FloatArray, dt: FloatArray, acc: FloatArray, dev: FloatArray, candidate_rest: np.ndarray
    ) -> tuple[FloatArray, FloatArray, np.ndarray]:
        """Trapezoidal integration with zero-velocity updates at rest, run by run (a run is a stretch
        of samples with the same rest candidacy), vectorised within a run."""
        n = len(t)
        vel = np.empty((n, 3))
        pos = np.empty((n, 3))
        rest = np.zeros(n, dtype=bool)
        v, p, a_prev = self._vel.copy(), self._pos.copy(), self._a_prev
        v_out_prev = self._vel_detrended.copy()
        recent_t = np.concatenate([self._recent_t, t])
        recent_acc = np.concatenate([self._recent_acc, acc])
        recent_dev = np.concatenate([self._recent_dev, dev])
        recent_dt = np.concatenate([self._recent_dt, dt])
        base = len(self._recent_t)
        edges = np.flatnonzero(np.diff(candidate_rest.astype(np.int8))) + 1
        segments = list(itertools.pairwise([0, *edges.tolist(), n]))
        k = 0
        while k < len(segments):
            lo, hi = segments[k]
            k += 1
            a = acc[lo:hi]
            steps = 0.5 * (a + np.vstack([a_prev, a[:-1]])) * dt[lo:hi, None]
            # Across a gap (lost packets) nothing is known: hold the velocity and trust the next quiet
            # moment as rest, as when lost.
            gap = dt[lo:hi] > GAP_S
            if gap.any():
                steps[gap] = 0.0
                self._gap_since_rest = True
            v_run = v + np.cumsum(steps, axis=0)
            lost = self._lost(p) or self._gap_since_rest
            if self._resting and not candidate_rest[lo]:
                # Leaving rest: add what the motion gained between its true onset and now.
                self._resting = False
                self._motion_start_t = float(t[lo])
                self._detrend.reset(float(t[lo]))
                onset = max(self._onset_index(recent_dev, base + lo, recent_t),
                            int(np.searchsorted(recent_t, self._rest_start_t)))
                seg = slice(onset, base + lo)
                v_run += (recent_acc[seg] * recent_dt[seg, None]).sum(axis=0)
            if not candidate_rest[lo] and self._rest_hint_s is not None and t[lo] > self._rest_hint_s:
                self._rest_hint_s = None  # moving again: the hint was for a stop that is over
            if not candidate_rest[lo]:
                self._last_unquiet_t = float(t[hi - 1])
            may_rest = bool(candidate_rest[lo]) and not self._resting
            detrend_before = copy.deepcopy(self._detrend) if may_rest else self._detrend
            v_out = self._detrend(t[lo:hi], dt[lo:hi], v_run)
            if may_rest:
                # Rest begins at the first quiet sample whose speed agrees (sample by sample, so the
                # result does not depend on how the stream was cut into packets).
                hinted = self._rest_hint_s is not None and float(t[lo]) - self._rest_hint_s < REST_HINT_S
                agrees = self._agreeing(v_out, t[lo:hi]) | lost | (not self._offset_known) | hinted
                first = int(np.argmax(agrees)) if agrees.any() else hi - lo
                if first > 0:
                    if first < hi - lo:
                        segments.insert(k, (lo + first, hi))
                    hi = lo + first
                    self._detrend = detrend_before
                    v_run = v_run[:first]
                    v_out = self._detrend(t[lo:hi], dt[lo:hi], v_run)
                    a = a[:first]
                else:
                    self._enter_rest(v_out[0], float(t[lo]), p, lost)
            if candidate_rest[lo] and self._resting:
                v_run[:] = 0.0
                v_out = v_run
                rest[lo:hi] = True
            p_run = p + np.cumsum(0.5 * (v_out + np.vstack([v_out_prev, v_out[:-1]])) * dt[lo:hi, None],
                                  axis=0)
            vel[lo:hi], pos[lo:hi] = v_out, p_run
            v, p, a_prev, v_out_prev = v_run[-1].copy(), p_run[-1].copy(), a[-1], v_out[-1].copy()
        self._vel, self._pos, self._a_prev, self._vel_detrended = v, p, a_prev.copy(), v_out_prev
        keep = recent_t > recent_t[-1] - RECENT_S
        self._recent_t, self._recent_acc = recent_t[keep], recent_acc[keep]
        self._recent_dev, self._recent_dt = recent_dev[keep], recent_dt[keep]
        return vel, pos, rest

    def limit_rest_speed(self, slowest_peak: float | None) -> None:
        """The set's slower movements peak at about this speed (None: not known yet). Integrated speed
        a good share of it is a cruise, not a rest, for a rep's time after the last rest."""
        self._max_rest_speed = MAX_REST_SPEED_TOLERANCE if slowest_peak is None else float(
            np.clip(REST_SHARE_OF_PEAK * slowest_peak, self.settings.rest_speed_mps, MAX_REST_SPEED_TOLERANCE)
        )

    def expect_cruise(self, cruise: Cruise | None) -> None:
        """The detector sees a movement under way (None: it sees none): if the sensors moved since it
        was seen, integrated speed above its minimum is its cruise until then, however quiet the
        sensors are now. (A rotation lift's rate comes from the gyro and needs no such help.)"""
        self._cruise = cruise if self.mode == "translation" else None

    def hint_rest(self, t_s: float) -> None:
        """The detector saw a movement slow right down and level off: the next quiet moment is rest,
        whatever the integrated speed says (it carries the integration's error)."""
        self._rest_hint_s = t_s

    def _enter_rest(self, residual_velocity: FloatArray, t_s: float, position: FloatArray,
                    lost: bool) -> None:
        self._gap_since_rest = False
        if lost:
            self._rest_samples_seen = 0  # relearn the offsets quickly
            self._offset_known = False
        else:
            self._correct_offset_at_rest(residual_velocity, t_s)
        self._pos_at_rest = position.copy()
        self._rest_start_t = t_s
        self._resting = True

    def _onset_index(self, dev: FloatArray, end: int, t: FloatArray) -> int:
        """Walk back from `end` over samples that were already moving (above the noise floor)."""
        floor = 0.3 * self.settings.rest_acc_mps2
        i = end
        while i > 0 and dev[i - 1] > floor:
            i -= 1
        # The low-pass that judged "quiet" lags by about a quarter period of its cutoff.
        lag_s = 0.25 / self.settings.lowpass_hz
        while i > 0 and t[i - 1] > t[i] - lag_s and t[end] - t[i - 1] < 0.5:
            i -= 1
        return i

    # -- offsets --------------------------------------------------------------------------------
    def _offset_from_mean(self, t: FloatArray, force: FloatArray) -> None:
        """Until a rest teaches it (some lifters never keep still long enough before the set): the
        force's mean over the last OFFSET_MEAN_WINDOW_S. The lifter sets up, lifts and comes back, so
        the speed is about the same at both ends of the window and the mean acceleration is near zero."""
        total = force.sum(axis=0)
        self._force_sums.append((float(t[-1]), total, len(force)))
        self._force_total, self._force_count = self._force_total + total, self._force_count + len(force)
        while self._force_sums[0][0] < t[-1] - OFFSET_MEAN_WINDOW_S:
            _, old_total, old_count = self._force_sums.popleft()
            self._force_total = self._force_total - old_total
            self._force_count -= old_count
        if self._force_count < OFFSET_MEAN_MIN_S * self.settings.sample_rate_hz:
            return
        mean = self._force_total / self._force_count
        self._acc_offset = _plausible_offset(mean)

    def _correct_offset_at_rest(self, residual_velocity: FloatArray, t_rest_s: float) -> None:
        """Velocity is truly zero at both ends of a movement between two rests, so whatever the
        integration left over is the accelerometer offset's error times the time it ran."""
        duration_s = t_rest_s - self._motion_start_t
        if duration_s < 0.5 or not self._offset_known:
            return
        # The residual also holds the speed rest was entered at (up to its tolerance), which over a
        # short movement would pass for a large offset: weigh the two estimates by their errors.
        measured_sd = REST_ENTRY_SPEED_SD_MPS / duration_s
        gain = OFFSET_SD_MPS2**2 / (OFFSET_SD_MPS2**2 + measured_sd**2)
        self._acc_offset += gain * np.clip(residual_velocity / duration_s, -0.5, 0.5)

    def _learn_at_rest(self, t: FloatArray, force: FloatArray, gyr: FloatArray, acc_raw: FloatArray,
                       rest: np.ndarray) -> None:
        """Learn the gyro bias and the accelerometer offset from rest samples once they are safely
        inside a rest: the last moments before a rest ends are already the next movement's onset."""
        if rest.any():
            self._pending_rest.append((t[rest], np.hstack([force[rest], gyr[rest], acc_raw[rest]])))
        if not rest[-1]:
            self._pending_rest.clear()  # the rest ended: its tail is not trustworthy
            self._steady_rows = []
            return
        t_safe = float(t[-1]) - ONSET_SETTLE_S
        ready = [chunk for chunk in self._pending_rest if chunk[0][-1] <= t_safe]
        if not ready:
            return
        self._pending_rest = [chunk for chunk in self._pending_rest if chunk[0][-1] > t_safe]
        rows = np.concatenate([c[1] for c in ready])
        # A plain running mean until a time constant's worth of rest is seen, then slow forgetting.
        self._rest_samples_seen += len(rows)
        w = max(len(rows) / self._rest_samples_seen, 1.0 - (1.0 - self._offset_alpha) ** len(rows))
        mean = rows.mean(axis=0)
        self._acc_offset += w * (mean[:3] - self._acc_offset)
        self._acc_offset = _plausible_offset(self._acc_offset)
        if self._rest_samples_seen >= 0.25 * self.settings.sample_rate_hz:
            self._offset_known = True
        # The gyro bias steers the AHRS, so only a steady gyro teaches it: a slow turn that passed
        # for rest would tilt the earth frame and leak gravity into every axis.
        self._steady_rows.append(rows[:, 3:9])
        steady_rows = np.concatenate(self._steady_rows)
        if len(steady_rows) < GYRO_BIAS_MIN_SAMPLES:
            return
        self._steady_rows = []
        if float(steady_rows[:, :3].std(axis=0).max()) < GYRO_STEADY_RADPS and self._truly_still(steady_rows):
            steady_mean = steady_rows.mean(axis=0)
            self._gyro_bias += w * (steady_mean[:3] - self._gyro_bias)
            self._orientation.hand_over_gyro_bias(w)  # the AHRS sees the gyro with this bias removed
            self._gyro_bias_known = True
            if self._acc_bias.add_rest(steady_mean[3:], len(steady_rows)):
                # With the sensor-frame bias removed, a rest reads |g| straight up at any tilt.
                self._acc_offset = np.array([0.0, 0.0, self._acc_bias.gravity_mps2])

    def _truly_still(self, rows: FloatArray) -> bool:
        """Is the gyro's mean here a bias, or a slow turn? (rows: gyro rad/s, then raw accelerometer.)"""
        return truly_still(rows[:, :3], rows[:, 3:], len(rows) / self.settings.sample_rate_hz)

    # -- signals --------------------------------------------------------------------------------
    def _translation_signal(self, vel: FloatArray, pos: FloatArray, acc: FloatArray, acc_lp: FloatArray
                            ) -> tuple[FloatArray, FloatArray, FloatArray]:
        direction = self.exercise.concentric
        if direction == "up":
            return pos[:, 2].copy(), vel[:, 2].copy(), acc[:, 2].copy()
        if direction == "down":
            return -pos[:, 2], -vel[:, 2], -acc[:, 2]
        # Horizontal: the principal horizontal axis of the motion, signed by the first real move.
        moving = row_norms(acc_lp[:, :2]) > 0.05
        axis = self._horizontal_axis.learn(acc_lp[moving, :2])
        position, velocity = self._apply_first_move_sign(pos[:, :2] @ axis, vel[:, :2] @ axis, 0.05)
        return position, velocity, self._first_move_sign * (acc[:, :2] @ axis)

    def _rotation_signal(self, dt: FloatArray, gyr: FloatArray, gyr_lp: FloatArray, acc_up: FloatArray,
                         rest: np.ndarray) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        # The axis is learned from the low-passed gyro: a forearm that twitches about its own length
        # can turn faster than a slow curl turns the elbow, but it goes back and forth.
        smooth = self._axis_lp(gyr)
        fast = row_norms(smooth) > self.settings.axis_min_rate_radps
        axis = self._rotation_axis.learn(smooth[fast])
        rate = gyr @ axis
        rate[rest] = 0.0
        # Trapezoids, as for translation: across a hole in the samples the rate before it counts as
        # much as the rate after it (a 1 s hole read at the rate it ends with alone turned the angle
        # by a whole phase's range).
        before = np.concatenate([[self._rate_prev], rate[:-1]])
        self._rate_prev = float(rate[-1])
        angle = self._angle + np.cumsum(0.5 * (before + rate) * dt)
        self._angle = float(angle[-1])
        direction = self.exercise.concentric
        if direction == "horizontal":
            return (*self._apply_first_move_sign(angle, rate, 0.3, provisional=True), None)
        # Which way is "up": the sign that makes the wrist rise with the angle (concentric up), read as
        # the wrist's upward acceleration going with the turn's speeding up and slowing down. The
        # integrated vertical velocity would say it more directly, but drifts until a rest teaches the
        # accelerometer's offset (a slow curl's speed is soon below that drift).
        # (Differenced as vectors, then projected: the axis learned this batch reads the last batch's
        # sample too, so a change of axis is no step in the rate.)
        spin_up = (np.diff(np.vstack([self._gyr_lp_prev, gyr_lp]), axis=0) @ axis) / np.maximum(dt, 1e-3)
        self._gyr_lp_prev = gyr_lp[-1].copy()
        self._sign_evidence = self._sign_evidence * self._sign_keep_per_sample ** int(fast.sum()) + float(
            np.sum(spin_up[fast] * acc_up[fast])
        )
        sign = 1.0 if self._sign_evidence >= 0 else -1.0
        if direction == "down":
            sign = -sign
        return sign * angle, sign * rate, np.full(len(angle), sign)

    def _apply_first_move_sign(self, position: FloatArray, velocity: FloatArray, min_move: float,
                               provisional: bool = False) -> tuple[FloatArray, FloatArray]:
        """For axes with no absolute direction: the first real move away from rest is the lift's
        starting phase (concentric for concentric-first lifts). Until a move is big enough to settle
        that, the signal is zero, or (provisional, for a gyro's rate, which does not drift) read as if
        the move under way were that first one, so the first rep is seen as it starts."""
        starting = 1 if self.exercise.starts_with == "concentric" else -1
        if self._first_move_sign == 0:
            big = np.flatnonzero(np.abs(position) > min_move)
            if not big.size:
                sign = starting * np.sign(position) if provisional else np.zeros(len(position))
                return sign * position, sign * velocity
            moved = 1 if position[big[0]] > 0 else -1
            self._first_move_sign = starting * moved
        return self._first_move_sign * position, self._first_move_sign * velocity
