"""Small helpers the profile modules share: fixed-point packing, UUID matching, building batches."""

from __future__ import annotations

import math

import numpy as np

from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, ImuBatch

DEG = math.pi / 180.0  # rad per degree
G = STANDARD_GRAVITY  # m/s^2 per g


def quantise(values: FloatArray, lsb: float, bits: int = 16) -> np.ndarray:
    """Round SI-free values (already in the device's unit) to signed integers of `bits`, clipping
    at the ends of the range the way a saturated sensor would."""
    hi = 2 ** (bits - 1) - 1
    return np.clip(np.rint(np.asarray(values) / lsb), -hi - 1, hi).astype(np.int64)


def norm_uuid(uuid: str) -> str:
    return uuid.strip().lower()


def has_uuid(service_uuids: list[str], wanted: str) -> bool:
    target = norm_uuid(wanted)
    return any(norm_uuid(u) == target for u in service_uuids)


def make_batch(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    meta: dict[str, str],
    mag_ut: FloatArray | None = None,
) -> ImuBatch | None:
    """An ImuBatch, or None when there are no samples (decoders return None for 'nothing new')."""
    if t_s.shape[0] == 0:
        return None
    return ImuBatch(
        np.ascontiguousarray(t_s, dtype=np.float64),
        np.ascontiguousarray(acc_mps2, dtype=np.float64).reshape(-1, 3),
        np.ascontiguousarray(gyr_radps, dtype=np.float64).reshape(-1, 3),
        None if mag_ut is None else np.ascontiguousarray(mag_ut, dtype=np.float64).reshape(-1, 3),
        dict(meta),
    )


def nearest(options: tuple[float, ...], wanted: float) -> float:
    """The supported value closest to the wanted one (ratio distance: 100 Hz is nearer 104 than 52)."""
    return min(options, key=lambda v: abs(math.log(v / wanted)) if wanted > 0 else v)
