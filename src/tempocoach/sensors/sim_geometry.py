"""Where the sensor is and how it is turned, given the lift coordinate c (m or rad).

Translation lifts move the bar along a path (vertical, horizontal, or the leg press's 45-degree sled)
with an off-axis curve (the bench press J-curve, a squat's few-cm drift) and a slight bar tilt; a wrist
sensor rides with the bar and also turns with the forearm. Rotation lifts swing a limb about a joint
axis (elbow, shoulder, knee): the sensor sits at radius r from the joint, so it sees gravity rotate
plus tangential and centripetal acceleration; the joint itself drifts a little (elbows creep forward).
World frame: z up; the lifter faces `forward`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from tempocoach.exercises import Exercise
from tempocoach.sensors.base import FloatArray
from tempocoach.sensors.sim_rotations import compose
from tempocoach.sensors.sim_setup import LifterFrame
from tempocoach.sensors.sim_shapes import random_unit_horizontal, unit

_Z = np.array([0.0, 0.0, 1.0])

# Lifts whose bottom is fixed: the bar rests on the floor / hips on the floor / a dead hang.
FIXED_BOTTOM = {"deadlift", "pull-up", "hip-thrust", "glute-bridge"}
# Of those, the ones where the load is supported at the bottom (no sway, no tremor; touchdowns ring).
SUPPORTED_BOTTOM = {"deadlift", "hip-thrust", "glute-bridge"}

# Rotation lifts: joint, limb direction at the concentric start (in forward/left/up components), the
# direction it swings toward, and how far a wrist supinates over the concentric (rad, range).
_JOINTS: dict[
    str, tuple[str, tuple[float, float, float], tuple[float, float, float], tuple[float, float]]
] = {
    "barbell-curl": ("elbow", (0.2, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 0.05)),
    "dumbbell-curl": ("elbow", (0.2, 0.0, -1.0), (1.0, 0.0, 0.0), (0.4, 0.9)),
    "hammer-curl": ("elbow", (0.2, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 0.15)),
    "triceps-pushdown": ("elbow", (1.0, 0.0, 0.55), (0.0, 0.0, -1.0), (0.0, 0.1)),
    "overhead-triceps-extension": ("elbow", (-0.35, 0.0, -1.0), (-1.0, 0.0, 0.0), (0.0, 0.1)),
    "lateral-raise": ("shoulder", (0.0, 0.25, -1.0), (0.0, 1.0, 0.0), (0.0, 0.2)),
    "rear-delt-fly": ("shoulder", (0.0, 0.1, -1.0), (0.0, 1.0, 0.0), (0.0, 0.2)),
    "cable-fly": ("shoulder", (-0.25, 1.0, 0.2), (1.0, 0.0, -0.4), (0.0, 0.2)),
    "leg-extension": ("knee", (0.2, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 0.0)),
    "leg-curl": ("knee", (-1.0, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 0.0)),  # lying face down
    "seated-leg-curl": ("knee", (1.0, 0.0, -0.1), (0.0, 0.0, -1.0), (0.0, 0.0)),
}
# How far the bar (or belt, handle) turns about its own axis over the range of motion, rad: a back-squat
# bar rides on the traps and follows the torso's lean; a deadlift bar hangs and barely turns.
_BAR_PITCH_RAD = {
    "back-squat": (0.3, 0.7),
    "front-squat": (0.1, 0.3),
    "air-squat": (0.3, 0.6),
    "hip-thrust": (0.3, 0.6),
    "glute-bridge": (0.3, 0.6),
    "bench-press": (0.05, 0.15),
    "incline-bench-press": (0.05, 0.15),
    "dumbbell-press": (0.1, 0.4),
    "overhead-press": (0.05, 0.2),
    "barbell-row": (0.05, 0.2),
    "lat-pulldown": (0.1, 0.3),
    "seated-cable-row": (0.1, 0.4),
    "pull-up": (0.1, 0.3),
    "dip": (0.1, 0.3),
    "push-up": (0.05, 0.15),
    "leg-press": (0.0, 0.01),
}
_RADIUS_M = {"elbow": (0.25, 0.35), "shoulder": (0.5, 0.65), "knee": (0.33, 0.42)}
_JOINT_DRIFT_M = {"elbow": (0.02, 0.05), "shoulder": (0.01, 0.03), "knee": (0.0, 0.008)}


@dataclass(frozen=True)
class LiftGeometry:
    """Maps c(t) to the body's world position and orientation (before gestures, sway and mount)."""

    frame: LifterFrame
    rotation: bool
    path: FloatArray  # translation: unit direction of +c; rotation: joint axis
    signal_axis: FloatArray  # translation: the axis `position` is measured along
    concentric_sign: float
    rom_nominal: float
    base: Rotation  # body orientation at c = 0
    curve_dir: FloatArray
    curve_linear_m: float
    curve_bow_m: float
    tilt_per_rom: FloatArray  # rotation vector at c = rom (translation) / extra twist axis (rotation)
    limb0: FloatArray  # rotation: limb direction at c = 0
    radius_m: float
    joint_drift: FloatArray  # joint displacement at c = rom
    supination_rad: float

    def pose(self, c: FloatArray, twist_rad: FloatArray | None = None) -> tuple[FloatArray, Rotation]:
        """Body position and orientation at lift coordinate c; twist_rad: extra turn about the limb."""
        frac = np.clip(c / self.rom_nominal, -0.3, 1.3)[:, None]
        if not self.rotation:
            off = self.curve_linear_m * frac + self.curve_bow_m * np.sin(np.pi * frac)
            pos = self.path * c[:, None] + self.curve_dir * off
            return pos, compose(Rotation.from_rotvec(self.tilt_per_rom * frac), self.base)
        swing = Rotation.from_rotvec(self.path * c[:, None])
        pos = self.joint_drift * frac + self.radius_m * swing.apply(self.limb0)
        turn = self.supination_rad * frac + (0.0 if twist_rad is None else twist_rad[:, None])
        twist = Rotation.from_rotvec(np.array([1.0, 0.0, 0.0]) * turn)
        return pos, compose(swing, self.base, twist)

    def signal(self, pos: FloatArray, c: FloatArray) -> FloatArray:
        """The true motion signal: m along signal_axis (translation) or joint angle from c = 0 (rad)."""
        if self.rotation:
            return c.copy()
        return np.asarray(pos @ self.signal_axis, dtype=np.float64)


def build_geometry(
    ex: Exercise,
    placement: str,
    rom_nominal: float,
    rng: np.random.Generator,
    curve_m: float | None,
    radius_m: float | None,
) -> LiftGeometry:
    forward = random_unit_horizontal(rng)
    frame = LifterFrame(forward, np.cross(_Z, forward))
    if ex.motion_for(placement) == "rotation":
        return _rotation_geometry(ex, placement, frame, rom_nominal, rng, radius_m)
    return _translation_geometry(ex, placement, frame, rom_nominal, rng, curve_m)


def _translation_geometry(
    ex: Exercise,
    placement: str,
    frame: LifterFrame,
    rom: float,
    rng: np.random.Generator,
    curve_m: float | None,
) -> LiftGeometry:
    f, lft = frame.forward, frame.left
    if ex.concentric == "horizontal":
        axis = -f  # the handle comes toward the lifter
        path = unit(axis + _Z * rng.uniform(-0.15, 0.15))
        signal_axis, curve_dir = axis, unit(_Z + lft * rng.uniform(-0.3, 0.3))
    else:
        axis = _Z if ex.concentric == "up" else -_Z
        if ex.id == "leg-press":  # the sled runs at 45 degrees, away from the lifter
            path = unit(axis + f)
        else:
            path = unit(axis + random_unit_horizontal(rng) * np.tan(rng.uniform(0.0, 0.08)))
        signal_axis, curve_dir = _Z, unit(f + lft * rng.uniform(-0.3, 0.3))
    bow = curve_m if curve_m is not None else rng.uniform(0.01, 0.06)
    j_curve = ex.id in ("bench-press", "incline-bench-press")  # the bar ends over the shoulders
    linear = rng.uniform(0.04, 0.1) if j_curve else rng.uniform(-0.02, 0.02)
    bar_frame = Rotation.from_matrix(np.stack([f, lft, _Z], axis=1))  # the bar lies along `left`
    pitch = lft * rng.uniform(*_BAR_PITCH_RAD.get(ex.id, (0.02, 0.1))) * rng.choice([-1.0, 1.0])
    if placement == "wrist":
        # The forearm: turned at random about the bar, and pitching with the lift (elbow and wrist angles).
        base = Rotation.from_rotvec(lft * rng.uniform(-1.5, 1.5)) * bar_frame
        tilt_axis = unit(lft + f * rng.uniform(-0.4, 0.4) + _Z * rng.uniform(-0.3, 0.3))
        tilt = pitch + tilt_axis * rng.uniform(0.08, 0.35) * rng.choice([-1.0, 1.0])
    else:
        base = bar_frame
        tilt = pitch + f * rng.normal(0.0, 0.03)  # and a little side-to-side roll
    return LiftGeometry(
        frame,
        False,
        path,
        signal_axis,
        -1.0 if ex.concentric == "down" else 1.0,
        rom,
        base,
        curve_dir * rng.choice([-1.0, 1.0]),
        float(linear),
        float(bow),
        tilt,
        np.zeros(3),
        0.0,
        np.zeros(3),
        0.0,
    )


def _rotation_geometry(
    ex: Exercise,
    placement: str,
    frame: LifterFrame,
    rom: float,
    rng: np.random.Generator,
    radius_m: float | None,
) -> LiftGeometry:
    joint, limb_flu, toward_flu, supination = _JOINTS.get(
        ex.id, ("elbow", (0.2, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 0.1))
    )
    basis = np.stack([frame.forward, frame.left, _Z], axis=1)
    limb0 = unit(basis @ np.array(limb_flu))
    axis = unit(np.cross(limb0, basis @ np.array(toward_flu)))
    radius = radius_m if radius_m is not None else rng.uniform(*_RADIUS_M[joint])
    if placement == "bar" and joint == "elbow":
        radius += 0.04  # the bar or handle sits in the hand, beyond the wrist
    base = Rotation.from_matrix(np.stack([limb0, axis, np.cross(limb0, axis)], axis=1))
    drift_dir = unit(np.cross(axis, limb0) + rng.normal(0.0, 0.3, 3))
    return LiftGeometry(
        frame,
        True,
        axis,
        axis,
        1.0,
        rom,
        base,
        np.zeros(3),
        0.0,
        0.0,
        np.zeros(3),
        limb0,
        float(radius),
        drift_dir * rng.uniform(*_JOINT_DRIFT_M[joint]),
        float(rng.uniform(*supination)) if placement == "wrist" else 0.0,
    )
