"""Small streaming signal helpers for the tracker: a low-pass with carried state, a rest window,
the rep-cycle drift remover and an axis learner. Each keeps its own state across batches."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, sosfilt_zi

from tempocoach.sensors.base import FloatArray


def row_norms(x: FloatArray) -> FloatArray:
    """Euclidean norm of each row: np.linalg.norm(x, axis=1)'s arithmetic without its per-call cost
    (the tracker takes several per block)."""
    return np.asarray(np.sqrt(np.add.reduce(x * x, axis=1)))


class Lowpass:
    """Streaming Butterworth low-pass with carried state (columns filtered independently)."""

    def __init__(self, cutoff_hz: float, rate_hz: float, columns: int) -> None:
        self._sos = butter(2, min(cutoff_hz, 0.45 * rate_hz), fs=rate_hz, output="sos")
        self._columns = columns
        self._zi: FloatArray | None = None

    def __call__(self, x: FloatArray) -> FloatArray:
        y = x.reshape(len(x), self._columns)
        if self._zi is None:
            base = sosfilt_zi(self._sos)  # start settled on the first value: no start-up transient
            self._zi = base[:, :, None] * y[0][None, None, :]
        # Section by section with lfilter (the same transposed direct form as sosfilt): sosfilt's
        # input checks cost 25 us a call, five times lfilter's, and the tracker calls it per block.
        for k, section in enumerate(self._sos):
            y, self._zi[k] = lfilter(section[:3], section[3:], y, axis=0, zi=self._zi[k])
        return np.asarray(y).reshape(x.shape)


class RestWindow:
    """Rest candidate = every sample of the last window quiet."""

    def __init__(self, window: int) -> None:
        self._window = max(2, window)
        self._run = 0  # quiet samples in a row up to the last one seen

    def __call__(self, quiet: np.ndarray) -> np.ndarray:
        # The length of the quiet run ending at each sample: the count since the last loud sample
        # (or the run carried in from earlier batches).
        index = np.arange(1, len(quiet) + 1)
        last_loud = np.maximum.accumulate(np.where(quiet, 0, index))
        run = np.where(last_loud == 0, index + self._run, index - last_loud)
        if len(quiet):
            self._run = int(run[-1])
        return np.asarray(run >= self._window)


class CycleDetrend:
    """Removes the mean velocity over the last rep cycle once a stretch without rest is longer than
    a cycle (the lift comes back to the same place every rep, so that mean is drift)."""

    def __init__(self, cycle_s: float) -> None:
        self.cycle_s = cycle_s
        self.reset(0.0)

    def reset(self, t_s: float) -> None:
        self._since_s = t_s
        self._t = np.zeros(0)
        self._cum = np.zeros((1, 3))  # cumulative integral of velocity, one row ahead of _t

    def __call__(self, t: FloatArray, dt: FloatArray, v: FloatArray) -> FloatArray:
        all_t = np.concatenate([self._t, t])
        cum = np.vstack([self._cum, self._cum[-1] + np.cumsum(v * dt[:, None], axis=0)])
        out = v.copy()
        cycle = self.cycle_s
        elapsed = t - self._since_s
        late = np.flatnonzero(elapsed > cycle)
        if late.size:
            now = len(self._t) + late
            mean_now = self._window_mean(all_t, cum, now, cycle)
            # Drift grows linearly (a bias), so the window mean lags it by half a cycle: extrapolate
            # with the mean's slope once there is history for it.
            half = np.searchsorted(all_t, t[late] - cycle / 2, side="right") - 1
            mean_before = self._window_mean(all_t, cum, np.maximum(half, 0), cycle)
            has_history = (elapsed[late] > 1.5 * cycle)[:, None]
            slope = np.where(has_history, (mean_now - mean_before) / (cycle / 2), 0.0)
            out[late] -= mean_now + slope * (cycle / 2)
        keep = all_t > all_t[-1] - 2 * cycle - 0.5
        first_kept = int(np.argmax(keep))
        self._t = all_t[first_kept:]
        self._cum = cum[first_kept:]
        return out

    @staticmethod
    def _window_mean(all_t: FloatArray, cum: FloatArray, end: np.ndarray, window_s: float) -> FloatArray:
        """Mean velocity over the window_s ending at sample index `end` (cum is one row ahead)."""
        first = np.searchsorted(all_t, all_t[end] - window_s)
        span = (all_t[end] - all_t[first])[:, None]
        return np.asarray((cum[end + 1] - cum[first]) / np.maximum(span, 1e-6))


def principal_axis(scatter: FloatArray) -> FloatArray:
    """The unit eigenvector of a scatter matrix (sum of v v^T) with the largest eigenvalue."""
    _, vecs = np.linalg.eigh(scatter + 1e-12 * np.eye(len(scatter)))
    return np.asarray(vecs[:, -1])


class AxisLearner:
    """Principal axis of a stream of vectors, with a sign kept stable from batch to batch. Old samples
    fade (per learned sample), so gestures before the set give way to the lift's own motion."""

    def __init__(self, dims: int, memory_samples: float) -> None:
        self._cov = np.zeros((dims, dims))
        self._axis = np.zeros(dims)
        self._keep_per_sample = 1.0 - 1.0 / max(memory_samples, 1.0)

    @property
    def axis(self) -> FloatArray:
        """The axis learned so far (zeros before any)."""
        return self._axis.copy()

    def learn(self, samples: FloatArray) -> FloatArray:
        if len(samples):
            self._cov = self._cov * self._keep_per_sample ** len(samples) + samples.T @ samples
        axis = principal_axis(self._cov)
        if float(np.dot(axis, self._axis)) < 0:
            axis = -axis
        self._axis = axis
        return axis
