"""ImuBatch, the one currency between sources and the motion core, and the Source protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tempocoach.errors import DataFormatError

FloatArray = npt.NDArray[np.float64]

STANDARD_GRAVITY = 9.80665  # m/s^2 per g


def time_steps(t_s: FloatArray, previous_t_s: float | None) -> FloatArray:
    """Each sample's time since the one before it (the first's since previous_t_s, or 0 without one):
    np.diff with prepend, without its per-call cost."""
    steps = np.empty(len(t_s))
    if len(t_s):
        steps[0] = t_s[0] - (t_s[0] if previous_t_s is None else previous_t_s)
        np.subtract(t_s[1:], t_s[:-1], out=steps[1:])
    return steps


def estimate_rate_hz(t_s: np.ndarray) -> float:
    """Nominal sample rate from timestamps (median period, robust to gaps and jitter), to 0.01 Hz:
    differences of large timestamps carry float noise (100 Hz reads 100.00000000000213), and the rate
    sizes filters and windows, so a recording and its live stream must agree on it exactly."""
    if len(t_s) < 2:
        return 100.0
    period = float(np.median(np.diff(t_s)))
    return round(1.0 / period, 2) if period > 0 else 100.0


@dataclass(frozen=True)
class ImuBatch:
    """A run of IMU samples in SI units on the source's clock.

    t_s: (n,) seconds, strictly increasing. acc_mps2: (n, 3) specific force as the accelerometer
    reports it (+9.81 on the up axis at rest). gyr_radps: (n, 3). mag_ut: optional (n, 3).
    Gaps are allowed and stay visible: nothing is interpolated here.
    """

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = self.t_s.shape[0]
        if self.t_s.ndim != 1:
            raise DataFormatError(f"ImuBatch: t must be 1-D, got shape {self.t_s.shape}")
        for name, arr in (("acc", self.acc_mps2), ("gyr", self.gyr_radps), ("mag", self.mag_ut)):
            if arr is not None and arr.shape != (n, 3):
                raise DataFormatError(f"ImuBatch: {name} must have shape ({n}, 3), got {arr.shape}")
        if n > 1 and not bool(np.all(np.diff(self.t_s) > 0)):
            i = int(np.argmin(np.diff(self.t_s)))
            raise DataFormatError(
                f"ImuBatch: timestamps must strictly increase; sample {i + 1} at {self.t_s[i + 1]:.6f} s "
                f"follows {self.t_s[i]:.6f} s (resolve repeats and reordering in the reader)"
            )

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if len(self) > 1 else 0.0

    @staticmethod
    def empty(with_mag: bool = False) -> ImuBatch:
        z = np.zeros((0, 3))
        return ImuBatch(np.zeros(0), z, z.copy(), z.copy() if with_mag else None)

    @staticmethod
    def concat(batches: list[ImuBatch]) -> ImuBatch:
        """Join batches in time order (each must start after the previous one ends)."""
        parts = [b for b in batches if len(b)]
        if not parts:
            return ImuBatch.empty()
        mag = (
            np.concatenate([b.mag_ut for b in parts if b.mag_ut is not None])
            if all(b.mag_ut is not None for b in parts)
            else None
        )
        return ImuBatch(
            np.concatenate([b.t_s for b in parts]),
            np.concatenate([b.acc_mps2 for b in parts]),
            np.concatenate([b.gyr_radps for b in parts]),
            mag,
            dict(parts[0].meta),
        )

    def slice(self, start: int, stop: int) -> ImuBatch:
        mag = self.mag_ut[start:stop] if self.mag_ut is not None else None
        return self.with_samples(
            self.t_s[start:stop], self.acc_mps2[start:stop], self.gyr_radps[start:stop], mag
        )

    def with_samples(self, t_s: FloatArray, acc_mps2: FloatArray, gyr_radps: FloatArray,
                     mag_ut: FloatArray | None = None) -> ImuBatch:
        """A batch of samples derived from this one (a slice, or corrected readings at the same
        times), without checking again what this batch's checks already proved: the motion core
        makes one per 50 ms step."""
        batch = object.__new__(ImuBatch)
        for name, value in (("t_s", t_s), ("acc_mps2", acc_mps2), ("gyr_radps", gyr_radps),
                            ("mag_ut", mag_ut), ("meta", self.meta)):
            object.__setattr__(batch, name, value)
        return batch

    def chunks(self, n_samples: int) -> list[ImuBatch]:
        """Split into consecutive batches of at most n_samples (a file replayed as packets)."""
        return [self.slice(i, i + n_samples) for i in range(0, len(self), n_samples)]


class Source(Protocol):
    """Anything that streams ImuBatches: a BLE sensor, a file replay, the simulator."""

    @property
    def name(self) -> str: ...

    def batches(self) -> AsyncIterator[ImuBatch]: ...
