"""Motion tracker: ImuBatch -> MotionFrame, the one-dimensional motion signal the detector reads.

Translation lifts (squat, press, row...): velocity and position along the lift's axis (vertical, or a
learned horizontal axis) from earth-frame acceleration, integrated between zero-velocity updates.
Rotation lifts (curls, raises, extensions): joint angle and angular rate about the limb's rotation axis,
learned from the gyro; the rate needs no integration, so it does not drift.

The signal is signed so the concentric moves it in the + direction.

Drift is the enemy of slow tempos: a 5 s eccentric over 0.5 m cruises at 0.1 m/s with almost no
acceleration, so the accelerometer alone looks still there. We therefore
- only declare rest (and zero the velocity) when the accelerometer, the gyro AND the integrated velocity
  all say so;
- learn the accelerometer offset (bias, scale error on the up axis) at rest;
- between rests, learn the residual bias from the lift's own geometry: every top turnaround sits at the
  same height, every bottom turnaround too (closure), which pins the drift over long pause-free sets.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, sosfilt, sosfilt_zi

from tempocoach.events import MotionFrame
from tempocoach.exercises import Exercise
from tempocoach.motion.orientation import OrientationFilter, OrientationSettings
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch

REST_SPEED_WINDOW_S = 0.5
CLOSURE_RIDGE = 0.05  # relative weight pulling the residual bias towards zero
MAX_RESIDUAL_BIAS_MPS2 = 0.05
DRIFT_PER_S = 0.012  # m/s of integration error we accept per second since the last rest
MAX_REST_SPEED_TOLERANCE = 0.08  # m/s; slow eccentrics cruise faster than this


@dataclass(frozen=True)
class TrackerSettings:
    sample_rate_hz: float = 100.0
    lowpass_hz: float = 2.0  # for rest tests only: removes 6-12 Hz tremor under load
    rest_window_s: float = 0.2
    rest_acc_mps2: float = 0.10  # low-passed axis acceleration below this may be rest
    rest_gyr_radps: float = 0.12  # low-passed angular rate below this may be rest
    rest_speed_mps: float = 0.03  # ...and only if the integrated speed agrees
    rest_speed_radps: float = 0.12
    offset_time_constant_s: float = 3.0  # how fast the at-rest offsets follow
    turnaround_min_m: float = 0.05  # excursion that makes a turnaround count for closure
    axis_min_rate_radps: float = 0.3  # gyro samples faster than this teach the rotation axis
    orientation: OrientationSettings = OrientationSettings()


class _Lowpass:
    """Streaming Butterworth low-pass with carried state (columns filtered independently)."""

    def __init__(self, cutoff_hz: float, rate_hz: float, columns: int) -> None:
        self._sos = butter(2, min(cutoff_hz, 0.45 * rate_hz), fs=rate_hz, output="sos")
        self._columns = columns
        self._zi: FloatArray | None = None

    def __call__(self, x: FloatArray) -> FloatArray:
        x2 = x.reshape(len(x), self._columns)
        if self._zi is None:
            base = sosfilt_zi(self._sos)  # start settled on the first value: no start-up transient
            self._zi = base[:, :, None] * x2[0][None, None, :]
        y, self._zi = sosfilt(self._sos, x2, axis=0, zi=self._zi)
        return np.asarray(y).reshape(x.shape)


class _RestDetector:
    """Rest = every sample of the last window quiet on the accelerometer and the gyro."""

    def __init__(self, window: int) -> None:
        self._window = max(2, window)
        self._tail = np.zeros(0, dtype=bool)

    def __call__(self, quiet: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self._tail, quiet])
        if len(joined) < self._window:
            self._tail = joined
            return np.zeros(len(quiet), dtype=bool)
        all_quiet = sliding_window_view(joined, self._window).all(axis=1)
        out = np.zeros(len(quiet), dtype=bool)
        out[len(quiet) - len(all_quiet) :] = all_quiet[-len(quiet) :]
        self._tail = joined[-(self._window - 1) :]
        return out


class _Closure:
    """Residual-bias estimate from turnaround heights since the last rest (see module docstring).

    Model since the rest at t_z: q(t) = p(t) + b (t - t_z)^2 / 2, tops at one height, bottoms at another.
    """

    def __init__(self) -> None:
        self.reset(0.0, start_kind=None)

    def reset(self, t_rest_s: float, start_kind: int | None) -> None:
        self.t_rest_s = t_rest_s
        self.bias = 0.0
        self._points: list[tuple[int, float, float, float]] = []  # (kind, x, q, weight)
        self._start_kind = start_kind

    def add(self, kind: int, t_s: float, q: float) -> float:
        """kind +1 = top (position maximum), -1 = bottom. Returns the change in the bias estimate."""
        if not self._points and self._start_kind is None:
            self._points.append((-kind, 0.0, 0.0, 0.5))  # the rest we left was the other end
        x = 0.5 * (t_s - self.t_rest_s) ** 2
        self._points.append((kind, x, q, 1.0))
        before = self.bias
        self._fit()
        return self.bias - before

    def _fit(self) -> None:
        kinds = [p[0] for p in self._points]
        if kinds.count(1) < 2 or kinds.count(-1) < 2:
            return
        rows = np.array([[p[1], 1.0 if p[0] > 0 else 0.0, 1.0 if p[0] < 0 else 0.0] for p in self._points])
        w = np.sqrt(np.array([p[3] for p in self._points]))
        q = np.array([p[2] for p in self._points])
        # Ridge on the bias: heights vary a few cm rep to rep, and the residual bias after the
        # at-rest corrections is small, so only a consistent trend should move it.
        ridge = CLOSURE_RIDGE * float(np.max(rows[:, 0])) ** 2
        a = np.vstack([rows * w[:, None], [np.sqrt(ridge), 0.0, 0.0]])
        y = np.concatenate([q * w, [0.0]])
        sol, *_ = np.linalg.lstsq(a, y, rcond=None)
        self.bias = float(np.clip(sol[0], -MAX_RESIDUAL_BIAS_MPS2, MAX_RESIDUAL_BIAS_MPS2))


class MotionTracker:
    """Streaming: `update(batch)` returns the MotionFrame for the batch's samples."""

    def __init__(self, exercise: Exercise, placement: str, settings: TrackerSettings | None = None) -> None:
        self.settings = s = settings or TrackerSettings()
        self.exercise = exercise
        self.mode = exercise.motion_for(placement)
        self.unit = "m" if self.mode == "translation" else "rad"
        self._orientation = OrientationFilter(s.sample_rate_hz, s.orientation)
        rate = s.sample_rate_hz
        self._acc_lp = _Lowpass(s.lowpass_hz, rate, 3)
        self._gyr_lp = _Lowpass(s.lowpass_hz, rate, 3)
        self._rest = _RestDetector(round(s.rest_window_s * rate))
        self._offset_alpha = 1.0 / max(1.0, s.offset_time_constant_s * rate)
        # Translation state.
        self._acc_offset = np.array([0.0, 0.0, STANDARD_GRAVITY])
        self._offset_known = False
        self._force_sum = np.zeros(3)
        self._force_count = 0
        self._rest_samples_seen = 0
        self._horizontal_cov = np.zeros((2, 2))
        self._vel = np.zeros(3)  # earth-frame velocity (x, y, z); ZUPT-reset
        self._pos = np.zeros(3)
        self._closure = _Closure()
        # Rest is judged on the lift's own axis: the horizontal axes carry the AHRS's tilt errors.
        self._axes = slice(0, 2) if exercise.concentric == "horizontal" else slice(2, 3)
        # Only rep-sized turnarounds inform the closure: unracking and walking out are not at the
        # lift's top or bottom.
        rom_m = exercise.rom_m if self.mode == "translation" and exercise.rom_m else 0.3
        self._turnaround_min_m = max(s.turnaround_min_m, 0.35 * rom_m)
        self._last_turn_pos: float | None = None
        self._last_turn_sign = 0
        self._t_prev: float | None = None
        self._a_prev = np.zeros(3)
        self._resting = False
        self._rest_start_t = 0.0
        self._recent_t = np.zeros(0)
        self._recent_acc = np.zeros((0, 3))
        self._recent_dev = np.zeros(0)
        self._recent_dt = np.zeros(0)
        self._pending_rest: list[tuple[FloatArray, FloatArray]] = []
        self._motion_start_t = 0.0
        # Rotation state.
        self._gyro_bias = np.zeros(3)
        self._axis_cov = np.zeros((3, 3))
        self._angle = 0.0
        self._sign_evidence = 0.0
        self._first_move_sign = 0
        self._rest_position = 0.0
        self._angle_at_rest = 0.0

    # -- public ---------------------------------------------------------------------------------
    def update(self, batch: ImuBatch) -> MotionFrame:
        n = len(batch)
        if n == 0:
            z = np.zeros(0)
            return MotionFrame(z, z, z, np.zeros(0, dtype=bool), self.unit)
        # The AHRS gets the gyro with its learned bias removed: a biased gyro tilts the earth frame,
        # which leaks gravity into the horizontal axes.
        earth = self._orientation.update(
            ImuBatch(batch.t_s, batch.acc_mps2, batch.gyr_radps - self._gyro_bias, None, batch.meta)
        )
        t = batch.t_s
        dt = np.diff(t, prepend=t[0] if self._t_prev is None else self._t_prev)
        dt[0] = dt[0] if self._t_prev is not None else 0.0
        dt = np.minimum(dt, 0.5)  # across a long gap we cannot integrate; the gap stays visible in t
        if not self._offset_known:
            # Until the first rest, the long-run mean: bounded motion averages to zero acceleration.
            self._force_sum += earth.specific_force_earth_mps2.sum(axis=0)
            self._force_count += n
            self._acc_offset = self._force_sum / self._force_count
        acc_lin = earth.specific_force_earth_mps2 - self._acc_offset
        acc_lp = self._acc_lp(acc_lin)
        gyr = batch.gyr_radps - self._gyro_bias
        gyr_lp = self._gyr_lp(gyr)
        s = self.settings
        axes = self._axes
        quiet = (np.linalg.norm(acc_lp[:, axes], axis=1) < s.rest_acc_mps2) & (
            np.linalg.norm(gyr_lp, axis=1) < s.rest_gyr_radps
        )
        # A slow start is quiet on every sensor, but its speed still builds up: check the velocity
        # gained over the last half second too.
        gain = self._recent_velocity_gain(t, dt, acc_lin)
        quiet &= np.linalg.norm(gain[:, axes], axis=1) < s.rest_speed_mps
        candidate_rest = self._rest(quiet)
        vel, pos, rest = self._integrate(t, dt, acc_lin, np.linalg.norm(acc_lp[:, axes], axis=1), candidate_rest)
        self._learn_at_rest(t, earth.specific_force_earth_mps2, batch.gyr_radps, rest)
        if self.mode == "translation":
            position, velocity = self._translation_signal(vel, pos, acc_lp)
        else:
            position, velocity = self._rotation_signal(dt, gyr, vel, rest)
        self._t_prev = float(t[-1])
        return MotionFrame(t, position, velocity, rest, self.unit)

    # -- translation ----------------------------------------------------------------------------
    def _integrate(
        self, t: FloatArray, dt: FloatArray, acc: FloatArray, dev: FloatArray, candidate_rest: np.ndarray
    ) -> tuple[FloatArray, FloatArray, np.ndarray]:
        """Trapezoidal integration of earth-frame acceleration with zero-velocity updates at rest.

        Rest needs the integrated vertical speed to agree: a bar cruising at constant speed is quiet on
        the accelerometer and the gyro but not at rest. Rest is only recognised after a quiet window,
        so when it ends the motion began a little earlier: the velocity picked up since the true onset
        is recovered from the recent samples instead of being lost.
        """
        n = len(t)
        vel = np.empty((n, 3))
        pos = np.empty((n, 3))
        rest = np.zeros(n, dtype=bool)
        v = self._vel.copy()
        p = self._pos.copy()
        a_prev = self._a_prev
        closure = self._closure
        recent_t = np.concatenate([self._recent_t, t])
        recent_acc = np.concatenate([self._recent_acc, acc])
        recent_dev = np.concatenate([self._recent_dev, dev])
        recent_dt = np.concatenate([self._recent_dt, dt])
        base = len(self._recent_t)
        edges = np.flatnonzero(np.diff(candidate_rest.astype(np.int8))) + 1
        bounds = [0, *edges.tolist(), n]
        for lo, hi in itertools.pairwise(bounds):
            a = acc[lo:hi]
            a_mid = 0.5 * (a + np.vstack([a_prev, a[:-1]]))
            incr = a_mid * dt[lo:hi, None]
            incr[:, 2] -= closure.bias * dt[lo:hi]
            v_run = v + np.cumsum(incr, axis=0)
            speed_agrees = self._speed_agrees(v_run, float(t[lo]))
            if candidate_rest[lo] and (speed_agrees or not self._offset_known):
                v_run[:] = 0.0
                rest[lo:hi] = True
                if not self._resting:
                    self._correct_offset_at_rest(v_run[0], float(t[lo]))
                    self._rest_start_t = float(t[lo])
                    start_kind = None if self._last_turn_sign == 0 else -self._last_turn_sign
                    closure.reset(float(t[lo]), start_kind)
                    self._last_turn_pos = None
                    self._last_turn_sign = 0
                self._resting = True
            elif self._resting:
                # Leaving rest: add what the motion gained between its true onset and now.
                self._resting = False
                self._motion_start_t = float(t[lo])
                onset = self._onset_index(recent_dev, base + lo, recent_t)
                onset = max(onset, int(np.searchsorted(recent_t, self._rest_start_t)))
                seg = slice(onset, base + lo)
                gained = (recent_acc[seg] * recent_dt[seg, None]).sum(axis=0)
                v_run += gained
                p = p + gained * 0.5 * float(recent_t[base + lo] - recent_t[onset])
            p_run = p + np.cumsum(0.5 * (v_run + np.vstack([v, v_run[:-1]])) * dt[lo:hi, None], axis=0)
            if not rest[lo]:
                for i, bias_change in self._find_turnarounds(t[lo:hi], v_run[:, 2], p_run[:, 2], v[2]):
                    # The new bias explains velocity and position error accumulated since the rest.
                    since = t[lo + i :hi] - closure.t_rest_s
                    v_run[i:, 2] -= bias_change * since
                    p_run[i:, 2] -= 0.5 * bias_change * since**2
            vel[lo:hi] = v_run
            pos[lo:hi] = p_run
            v = v_run[-1].copy()
            p = p_run[-1].copy()
            a_prev = a[-1]
        self._vel, self._pos, self._a_prev = v, p, a_prev.copy()
        keep = recent_t > recent_t[-1] - 0.6
        self._recent_t, self._recent_acc = recent_t[keep], recent_acc[keep]
        self._recent_dev, self._recent_dt = recent_dev[keep], recent_dt[keep]
        return vel, pos, rest

    def _recent_velocity_gain(self, t: FloatArray, dt: FloatArray, acc: FloatArray) -> FloatArray:
        """Per sample, the velocity change integrated over the preceding REST_SPEED_WINDOW_S."""
        all_t = np.concatenate([self._recent_t, t])
        cum = np.cumsum(np.concatenate([self._recent_acc, acc]) * np.concatenate([self._recent_dt, dt])[:, None],
                        axis=0)
        cum = np.vstack([np.zeros((1, 3)), cum])
        first = np.searchsorted(all_t, t - REST_SPEED_WINDOW_S)
        last = np.arange(len(self._recent_t), len(all_t)) + 1
        return np.asarray(cum[last] - cum[first])

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

    def _speed_agrees(self, v_run: FloatArray, t_s: float) -> bool:
        """Is the integrated speed small enough for rest? The tolerance grows with the time since
        the last rest (the integration's error grows too) but stays below a slow eccentric's cruise."""
        since_rest_s = max(0.0, t_s - self._motion_start_t)
        tolerance = min(MAX_REST_SPEED_TOLERANCE, self.settings.rest_speed_mps + DRIFT_PER_S * since_rest_s)
        speed = np.linalg.norm(v_run[:, self._axes], axis=1)
        return bool(speed[0] < tolerance and speed.max() < 2 * tolerance)

    def _find_turnarounds(
        self, t: FloatArray, vz: FloatArray, pz: FloatArray, v_before: float
    ) -> list[tuple[int, float]]:
        """Turnarounds in this run; each may refine the closure bias. Returns (index, bias change)."""
        min_excursion_m = self._turnaround_min_m
        changes: list[tuple[int, float]] = []
        signs = np.sign(np.concatenate([[v_before], vz]))
        flips = np.flatnonzero((signs[1:] != signs[:-1]) & (signs[:-1] != 0))
        for i in flips:
            kind = 1 if signs[i] > 0 else -1  # velocity was rising -> this is a top
            if self._last_turn_pos is not None and abs(pz[i] - self._last_turn_pos) < min_excursion_m:
                continue
            if kind == self._last_turn_sign:
                continue
            change = self._closure.add(kind, float(t[i]), float(pz[i]))
            self._last_turn_pos = float(pz[i])
            self._last_turn_sign = kind
            if change:
                changes.append((int(i), change))
                pz = pz - 0.5 * change * (t - self._closure.t_rest_s) ** 2
        return changes

    def _correct_offset_at_rest(self, residual_velocity: FloatArray, t_rest_s: float) -> None:
        """Velocity is truly zero at both ends of a movement between two rests, so whatever the
        integration left over is the accelerometer offset's error times the time it ran."""
        duration_s = t_rest_s - self._motion_start_t
        self._offset_known = True
        if duration_s < 0.5:
            return
        correction = residual_velocity / duration_s
        self._acc_offset += np.clip(correction, -0.5, 0.5)

    def _learn_at_rest(self, t: FloatArray, force: FloatArray, gyr: FloatArray, rest: np.ndarray) -> None:
        """Learn the gyro bias and the accelerometer offset from rest samples once they are safely
        inside a rest: the last moments before a rest ends are already the next movement's slow onset.
        The offset follows slowly: the movement-to-movement residuals refine it better."""
        if rest.any():
            self._pending_rest.append((t[rest], np.hstack([force[rest], gyr[rest]])))
        if not rest[-1]:
            self._pending_rest.clear()  # the rest ended: its tail is not trustworthy
            return
        t_safe = float(t[-1]) - 0.3
        ready = [chunk for chunk in self._pending_rest if chunk[0][-1] <= t_safe]
        if not ready:
            return
        self._pending_rest = [chunk for chunk in self._pending_rest if chunk[0][-1] > t_safe]
        rows = np.concatenate([c[1] for c in ready])
        # A plain running mean until a time constant's worth of rest is seen, then slow forgetting.
        self._rest_samples_seen += len(rows)
        w = max(len(rows) / self._rest_samples_seen, 1.0 - (1.0 - self._offset_alpha) ** len(rows))
        mean = rows.mean(axis=0)
        self._gyro_bias += w * (mean[3:] - self._gyro_bias)
        self._acc_offset += w * (mean[:3] - self._acc_offset)

    def _translation_signal(
        self, vel: FloatArray, pos: FloatArray, acc_lp: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        direction = self.exercise.concentric
        if direction == "up":
            return pos[:, 2].copy(), vel[:, 2].copy()
        if direction == "down":
            return -pos[:, 2], -vel[:, 2]
        # Horizontal: the principal horizontal axis of the motion, signed by the first real move.
        moving = np.linalg.norm(acc_lp[:, :2], axis=1) > 0.05
        if moving.any():
            h = acc_lp[moving, :2]
            self._horizontal_cov += h.T @ h
        _, vecs = np.linalg.eigh(self._horizontal_cov + 1e-12 * np.eye(2))
        axis = vecs[:, -1]
        position = pos[:, :2] @ axis
        velocity = vel[:, :2] @ axis
        return self._apply_first_move_sign(position, velocity, 0.05)

    # -- rotation -------------------------------------------------------------------------------
    def _rotation_signal(
        self, dt: FloatArray, gyr: FloatArray, vel_earth: FloatArray, rest: np.ndarray
    ) -> tuple[FloatArray, FloatArray]:
        fast = np.linalg.norm(gyr, axis=1) > self.settings.axis_min_rate_radps
        if fast.any():
            g = gyr[fast]
            self._axis_cov += g.T @ g
        _, vecs = np.linalg.eigh(self._axis_cov + 1e-12 * np.eye(3))
        axis = vecs[:, -1]
        rate = gyr @ axis
        rate[rest] = 0.0
        angle = self._angle + np.cumsum(rate * dt)
        self._angle = float(angle[-1])
        direction = self.exercise.concentric
        if direction == "horizontal":
            return self._apply_first_move_sign(angle, rate, 0.3)
        # Which way is "up": the sign that makes the wrist rise with the angle (concentric up).
        self._sign_evidence += float(np.sum(rate[fast] * vel_earth[fast, 2]))
        sign = 1.0 if self._sign_evidence >= 0 else -1.0
        if direction == "down":
            sign = -sign
        return sign * angle, sign * rate

    def _apply_first_move_sign(
        self, position: FloatArray, velocity: FloatArray, min_move: float
    ) -> tuple[FloatArray, FloatArray]:
        """For axes with no absolute direction: the first real move away from rest is the lift's
        starting phase (concentric for concentric-first lifts)."""
        if self._first_move_sign == 0:
            away = position - self._rest_position
            big = np.flatnonzero(np.abs(away) > min_move)
            if big.size:
                moved = 1 if away[big[0]] > 0 else -1
                self._first_move_sign = moved if self.exercise.starts_with == "concentric" else -moved
            else:
                return position * 0.0, velocity * 0.0
        return self._first_move_sign * position, self._first_move_sign * velocity
