"""What the simulated lifter does around the set: unrack and walk out, pick up, fidget; re-rack, put down.

None of it is a rep. Gestures are a script of steps laid out in time; each step moves the sensor by a
world displacement and rotation (min-jerk), optionally with a step bounce, a decaying swing, or an
impact (a bar hitting hooks, floor or stack: a short damped ring, 25-60 Hz). The pre-set script ends
exactly at the set's start pose; the post-set script starts from the set's end pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tempocoach.exercises import Exercise
from tempocoach.sensors.base import FloatArray
from tempocoach.sensors.sim_shapes import bump, min_jerk

Vec = FloatArray
_Z = np.array([0.0, 0.0, 1.0])

RACKED = {"back-squat", "front-squat", "overhead-press"}
BENCHED = {"bench-press", "incline-bench-press"}
FROM_FLOOR = {"romanian-deadlift", "barbell-row"}


@dataclass(frozen=True)
class Step:
    """One gesture step. dpos/drot: world displacement (m) and rotation vector (rad) over the step."""

    duration_s: float
    dpos: Vec = field(default_factory=lambda: np.zeros(3))
    drot: Vec = field(default_factory=lambda: np.zeros(3))
    bounce_m: float = 0.0
    swing_pos: Vec = field(default_factory=lambda: np.zeros(3))
    swing_rot: Vec = field(default_factory=lambda: np.zeros(3))
    swing_hz: float = 0.0
    impact_mps2: float = 0.0  # ring at the end of the step
    event: str = ""  # "lift": the load leaves its support at the end; "set_down": it is supported again


@dataclass(frozen=True)
class LifterFrame:
    """The lifter's directions in the world: forward, left, up (unit vectors)."""

    forward: Vec
    left: Vec
    up: Vec = field(default_factory=lambda: _Z.copy())


@dataclass
class Script:
    """Steps laid out in time from t0_s; `lift_s`/`set_down_s` say when the load is held."""

    steps: list[Step]
    t0_s: float
    ends_at_origin: bool  # pre-set: the last pose is the set's start pose

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.steps)

    def event_time(self, event: str) -> float | None:
        t = self.t0_s
        for s in self.steps:
            t += s.duration_s
            if s.event == event:
                return t
        return None

    def render(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray, list[tuple[float, float]]]:
        """World displacement (n, 3), rotation vector (n, 3) on t_s, and impacts (time, m/s^2)."""
        total_pos = np.sum([s.dpos for s in self.steps], axis=0) if self.steps else np.zeros(3)
        total_rot = np.sum([s.drot for s in self.steps], axis=0) if self.steps else np.zeros(3)
        pos = -total_pos if self.ends_at_origin else np.zeros(3)
        rot = -total_rot if self.ends_at_origin else np.zeros(3)
        d = np.zeros((t_s.shape[0], 3))
        r = np.zeros((t_s.shape[0], 3))
        first = int(np.searchsorted(t_s, self.t0_s))
        d[:first] = pos
        r[:first] = rot
        impacts: list[tuple[float, float]] = []
        t = self.t0_s
        for s in self.steps:
            i0, i1 = np.searchsorted(t_s, [t, t + s.duration_s])
            u = (t_s[i0:i1] - t) / s.duration_s
            mj = min_jerk(u)[:, None]
            d[i0:i1] = pos + s.dpos * mj + _Z * s.bounce_m * bump(u)[:, None]
            r[i0:i1] = rot + s.drot * mj
            if s.swing_hz > 0.0:
                wave = (np.sin(2.0 * np.pi * s.swing_hz * (t_s[i0:i1] - t)) * bump(u) * (1.0 - u))[:, None]
                d[i0:i1] += s.swing_pos * wave
                r[i0:i1] += s.swing_rot * wave
            pos, rot = pos + s.dpos, rot + s.drot
            d[i1:] = pos
            r[i1:] = rot
            t += s.duration_s
            if s.impact_mps2 > 0.0:
                impacts.append((t, s.impact_mps2))
        return d, r, impacts


def _still(rng: np.random.Generator, lo: float, hi: float) -> Step:
    return Step(float(rng.uniform(lo, hi)))


def _fidgets(rng: np.random.Generator, count: int, pos_m: float, rot_rad: float) -> list[Step]:
    """Grip adjustments: small pushes and turns that mostly undo themselves."""
    steps = []
    for _ in range(count):
        dp = rng.normal(0.0, pos_m, 3)
        dr = rng.normal(0.0, rot_rad, 3)
        dur = float(rng.uniform(0.25, 0.6))
        steps += [Step(dur, dp, dr), _still(rng, 0.05, 0.4), Step(dur, -0.8 * dp, -0.8 * dr)]
    return steps


def _walk(rng: np.random.Generator, direction: Vec, distance_m: float) -> list[Step]:
    """A few steps carrying the load: horizontal shuffles, each with a vertical bounce."""
    n = int(rng.integers(2, 5))
    weights = rng.uniform(0.6, 1.4, n)
    steps = []
    for w in weights / weights.sum():
        steps.append(
            Step(
                float(rng.uniform(0.45, 0.8)),
                direction * distance_m * w + rng.normal(0.0, 0.01, 3),
                rng.normal(0.0, 0.03, 3),
                bounce_m=float(rng.uniform(0.008, 0.025)),
            )
        )
        steps.append(_still(rng, 0.05, 0.35))
    return steps


def _breath(rng: np.random.Generator) -> list[Step]:
    rise = _Z * float(rng.uniform(0.005, 0.015))
    return [Step(float(rng.uniform(0.8, 1.5)), rise), Step(float(rng.uniform(0.8, 1.5)), -rise)]


def _swing(rng: np.random.Generator, frame: LifterFrame, pos_m: float, rot_rad: float) -> Step:
    hz = float(rng.uniform(0.6, 1.2))
    return Step(
        float(rng.uniform(1.5, 3.0)),
        swing_pos=frame.forward * pos_m * rng.uniform(0.5, 1.0),
        swing_rot=frame.left * rot_rad * rng.uniform(0.5, 1.0),
        swing_hz=hz,
    )


def _random_rot(rng: np.random.Generator, lo: float, hi: float) -> Vec:
    axis = rng.normal(size=3)
    return np.asarray(axis / np.linalg.norm(axis) * rng.uniform(lo, hi), dtype=np.float64)


def pre_set_steps(
    ex: Exercise, placement: str, frame: LifterFrame, path: Vec, rng: np.random.Generator
) -> list[Step]:
    """From picking up / unracking to the set's start pose (ends with a settle and a breath)."""
    f, lft = frame.forward, frame.left
    wrist = placement == "wrist"
    grip = _fidgets(rng, int(rng.integers(0, 3)), 0.003, 0.08 if wrist else 0.03)
    settle = [_still(rng, 0.3, 0.8), *(_breath(rng) if rng.random() < 0.6 else [])]
    if ex.id in RACKED:
        lift = Step(float(rng.uniform(0.6, 1.0)), _Z * rng.uniform(0.03, 0.07), event="lift")
        return [*grip, lift, _still(rng, 0.3, 0.8), *_walk(rng, -f, float(rng.uniform(0.3, 0.6))), *settle]
    if ex.id in BENCHED:
        lift = Step(float(rng.uniform(0.5, 0.9)), _Z * rng.uniform(0.04, 0.08), event="lift")
        over = Step(float(rng.uniform(0.8, 1.3)), f * rng.uniform(0.15, 0.3) + rng.normal(0, 0.01, 3))
        return [*grip, lift, over, *settle]
    if ex.id == "leg-press":
        push = Step(float(rng.uniform(0.5, 0.9)), path * rng.uniform(0.03, 0.05), event="lift")
        return [*grip, push, *_fidgets(rng, 1, 0.004, 0.02), *settle]
    if ex.id in FROM_FLOOR:
        floor_to_top = float(rng.uniform(0.45, 0.55))
        pick = Step(float(rng.uniform(1.2, 2.0)), _Z * floor_to_top, rng.normal(0, 0.05, 3), event="lift")
        steps = [*grip, pick, _still(rng, 0.4, 1.0)]
        if ex.starts_with == "concentric":  # row: hinge over to the hanging start
            steps.append(Step(float(rng.uniform(0.8, 1.4)), -_Z * rng.uniform(0.15, 0.3) + f * 0.05))
        return [*steps, *settle]
    if ex.id == "hip-thrust":
        roll = Step(
            float(rng.uniform(1.2, 2.0)),
            -f * rng.uniform(0.4, 0.6) + _Z * 0.1,
            lft * rng.uniform(1.0, 3.0),
            event="lift",
        )
        return [*grip, roll, _still(rng, 0.3, 0.8), *_fidgets(rng, 1, 0.005, 0.05), *settle]
    if ex.equipment == "dumbbell":
        pick = Step(
            float(rng.uniform(1.0, 2.0)),
            _Z * rng.uniform(0.3, 0.7) + f * rng.uniform(-0.2, 0.2) + lft * rng.uniform(-0.2, 0.2),
            _random_rot(rng, 0.3, 1.2),
            event="lift",
        )
        return [
            pick,
            _swing(rng, frame, 0.06, 0.15),
            *_fidgets(rng, int(rng.integers(1, 3)), 0.01, 0.1),
            *settle,
        ]
    if ex.equipment == "cable":
        grab = Step(
            float(rng.uniform(0.8, 1.6)),
            path * rng.uniform(0.1, 0.3) + rng.normal(0, 0.03, 3),
            _random_rot(rng, 0.1, 0.4),
            event="lift",
        )
        return [_still(rng, 0.2, 0.6), grab, *_fidgets(rng, int(rng.integers(1, 3)), 0.01, 0.05), *settle]
    if ex.id == "push-up":
        plank = Step(
            float(rng.uniform(1.5, 2.5)),
            -_Z * rng.uniform(0.2, 0.4),
            lft * rng.uniform(1.0, 1.4),
            event="lift",
        )
        return [plank, *_fidgets(rng, 1, 0.01, 0.05), *settle]
    if ex.id in ("pull-up", "dip"):
        jump = Step(
            float(rng.uniform(0.5, 0.9)),
            _Z * rng.uniform(0.15, 0.4),
            event="lift",
            impact_mps2=float(rng.uniform(2.0, 6.0)),
        )
        return [_still(rng, 0.3, 1.0), jump, _swing(rng, frame, 0.04, 0.08), *settle]
    # Machines and the rest of the bodyweight lifts: the limb settles into place.
    return [*_fidgets(rng, int(rng.integers(1, 4)), 0.01, 0.06 if wrist else 0.03), *settle]


def post_set_steps(
    ex: Exercise, placement: str, frame: LifterFrame, path: Vec, rng: np.random.Generator
) -> list[Step]:
    """From the set's end pose to the load put away (impacts where metal meets metal)."""
    f = frame.forward
    clang = float(rng.uniform(5.0, 20.0))
    shake = [_swing(rng, frame, 0.03, 0.4)] if placement == "wrist" and rng.random() < 0.5 else []
    if ex.id in RACKED:
        down = Step(
            float(rng.uniform(0.5, 0.9)), -_Z * rng.uniform(0.03, 0.07), impact_mps2=clang, event="set_down"
        )
        return [*_walk(rng, f, float(rng.uniform(0.3, 0.6))), down, *shake]
    if ex.id in BENCHED:
        back = Step(float(rng.uniform(0.7, 1.2)), -f * rng.uniform(0.15, 0.3))
        down = Step(
            float(rng.uniform(0.4, 0.8)), -_Z * rng.uniform(0.04, 0.08), impact_mps2=clang, event="set_down"
        )
        return [back, down, *shake]
    if ex.id == "leg-press":
        return [
            Step(
                float(rng.uniform(0.5, 0.9)),
                -path * rng.uniform(0.03, 0.05),
                impact_mps2=clang,
                event="set_down",
            )
        ]
    if ex.id in FROM_FLOOR:
        steps = (
            [Step(float(rng.uniform(0.8, 1.4)), _Z * rng.uniform(0.15, 0.3))]
            if ex.id == "barbell-row"
            else []
        )
        return [
            *steps,
            Step(
                float(rng.uniform(1.0, 1.8)),
                -_Z * rng.uniform(0.45, 0.6),
                rng.normal(0, 0.05, 3),
                impact_mps2=clang,
                event="set_down",
            ),
            *shake,
        ]
    if ex.id in ("deadlift", "hip-thrust"):
        return [*_fidgets(rng, 1, 0.005, 0.05), *shake]
    if ex.equipment == "dumbbell":
        return [
            Step(
                float(rng.uniform(0.8, 1.6)),
                -_Z * rng.uniform(0.3, 0.7) + f * rng.uniform(-0.2, 0.2),
                _random_rot(rng, 0.3, 1.2),
                impact_mps2=float(rng.uniform(3.0, 10.0)),
                event="set_down",
            ),
            *shake,
        ]
    if ex.equipment == "cable":
        return [
            Step(
                float(rng.uniform(0.6, 1.2)),
                -path * rng.uniform(0.1, 0.3),
                _random_rot(rng, 0.1, 0.4),
                impact_mps2=float(rng.uniform(2.0, 8.0)),
                event="set_down",
            ),
            *shake,
        ]
    if ex.id == "push-up":
        return [
            Step(
                float(rng.uniform(0.8, 1.5)),
                -_Z * rng.uniform(0.1, 0.25),
                -frame.left * 0.8,
                impact_mps2=float(rng.uniform(2.0, 5.0)),
                event="set_down",
            )
        ]
    if ex.id in ("pull-up", "dip"):
        return [
            Step(
                float(rng.uniform(0.3, 0.5)),
                -_Z * rng.uniform(0.15, 0.4),
                impact_mps2=float(rng.uniform(8.0, 25.0)),
                event="set_down",
            ),
            *shake,
        ]
    return [*_fidgets(rng, int(rng.integers(1, 3)), 0.01, 0.05), *shake]
