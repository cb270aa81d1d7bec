"""The simulated lifter's whole recording as true kinematics on a fine time grid.

Assembles the rep plan (sim_lifter), the lift's geometry (sim_geometry), the gestures around the set
(sim_setup) and physiology: postural sway, speed-independent orientation wobble, 6-12 Hz tremor and
impact rings. All of it is kinematic (position and orientation), so the accelerometer and gyro the
sensor model derives from it are exactly consistent with the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from tempocoach.events import Phase, Rep
from tempocoach.exercises import Exercise
from tempocoach.sensors.base import FloatArray
from tempocoach.sensors.sim_geometry import FIXED_BOTTOM, SUPPORTED_BOTTOM, LiftGeometry, build_geometry
from tempocoach.sensors.sim_lifter import LifterConfig, RepPlan, draw_load, plan_reps
from tempocoach.sensors.sim_rotations import compose
from tempocoach.sensors.sim_setup import Script, post_set_steps, pre_set_steps
from tempocoach.sensors.sim_shapes import envelope, smooth_noise, smooth_noise_3d
from tempocoach.tempo import TempoCode

TREMOR_HZ = (6.0, 12.0)
SMOOTHING_S = 0.02


@dataclass
class LifterMotion:
    """True kinematics on a uniform fine grid t_s: body position (n, 3) and orientation (body -> world)."""

    t_s: FloatArray
    pos_m: FloatArray
    orientation: Rotation
    lift_coordinate: FloatArray  # c(t): m or rad, + in the concentric
    signal: FloatArray  # the true motion signal (see LiftGeometry.signal)
    truth: list[Rep]
    geometry: LiftGeometry
    load_fraction: float
    pre_set_s: tuple[float, float]  # gesture spans (start == end when there are none)
    post_set_s: tuple[float, float]
    held: FloatArray  # 0..1: how much the lifter is holding the load (scales sway and tremor)


@dataclass(frozen=True)
class MotionStreams:
    """Independent random streams, so switching one feature off leaves the others' draws unchanged."""

    timing: np.random.Generator
    geometry: np.random.Generator
    gestures: np.random.Generator
    physiology: np.random.Generator

    @staticmethod
    def from_seed(seq: np.random.SeedSequence) -> MotionStreams:
        timing, geometry, gestures, physiology = (np.random.default_rng(s) for s in seq.spawn(4))
        return MotionStreams(timing, geometry, gestures, physiology)


def simulate_motion(
    ex: Exercise,
    tempo: TempoCode,
    reps: int,
    placement: str,
    config: LifterConfig,
    streams: MotionStreams,
    grid_hz: float,
) -> LifterMotion:
    rotation = ex.motion_for(placement) == "rotation"
    rng_t, rng_g, rng_s = streams.timing, streams.geometry, streams.gestures
    rom_scale = config.rom_scale if config.rom_scale is not None else float(rng_g.uniform(0.85, 1.15))
    catalogue_rom = ex.rom_rad if rotation else ex.rom_m
    assert catalogue_rom is not None  # the catalogue validates a range for every motion it lists
    rom = catalogue_rom * rom_scale
    geometry = build_geometry(ex, placement, rom, rng_g, config.path_curve_m, config.joint_radius_m)
    load = draw_load(config, rng_t)

    lead_in = float(rng_s.uniform(*config.lead_in_s))
    pre = Script(
        pre_set_steps(ex, placement, geometry.frame, geometry.path, rng_s) if config.pre_set else [],
        lead_in,
        ends_at_origin=True,
    )
    reps_start = (
        lead_in + pre.duration_s + (0.0 if config.pre_set else float(rng_s.uniform(*config.settle_s)))
    )
    plan = plan_reps(
        ex, tempo, reps, rom, not rotation, reps_start, load, config, rng_t, ex.id in FIXED_BOTTOM
    )
    post = Script(
        post_set_steps(ex, placement, geometry.frame, geometry.path, rng_s) if config.post_set else [],
        plan.still_end_s,
        ends_at_origin=False,
    )
    t_end = plan.still_end_s + post.duration_s + float(rng_s.uniform(*config.lead_out_s))
    t = np.arange(0.0, t_end, 1.0 / grid_hz)

    # Muscles cannot change force instantly: blur c over ~20 ms so acceleration is continuous at reversals.
    c = gaussian_filter1d(plan.coordinate(t), sigma=SMOOTHING_S * grid_hz, mode="nearest")
    twist = None
    if rotation and placement == "wrist":  # the forearm pronates and supinates a little as it works
        twist = smooth_noise(t, streams.physiology, float(streams.physiology.uniform(0.03, 0.1)), 0.2, 1.5)
    body_pos, body_rot = geometry.pose(c, twist)
    d_pre, r_pre, impacts_pre = pre.render(t)
    d_post, r_post, impacts_post = post.render(t)
    held = _held_envelope(t, ex, placement, pre, post, plan)
    impacts = impacts_pre + impacts_post + _touchdowns(ex, plan, rng_s) if config.impacts else []
    extra_pos, extra_rot = _physiology(t, held, placement, load, config, streams.physiology)
    pos = body_pos + d_pre + d_post + extra_pos + _rings(t, impacts, rng_s)
    orientation = compose(Rotation.from_rotvec(r_pre + r_post + extra_rot), body_rot)
    return LifterMotion(
        t,
        pos,
        orientation,
        c,
        geometry.signal(pos, c),
        plan.truth,
        geometry,
        load,
        (pre.t0_s, pre.t0_s + pre.duration_s),
        (post.t0_s, post.t0_s + post.duration_s),
        held,
    )


def _held_envelope(
    t: FloatArray, ex: Exercise, placement: str, pre: Script, post: Script, plan: RepPlan
) -> FloatArray:
    """1 while the lifter holds the load, 0 while it rests on hooks, floor or stack."""
    lift_s = pre.event_time("lift")
    start = lift_s if lift_s is not None else plan.reps_start_s - 0.3
    down_s = post.event_time("set_down")
    end = down_s if down_s is not None else float(t[-1]) + 1.0
    held = envelope(t, [(start, end)], edge_s=0.6)
    if ex.id in SUPPORTED_BOTTOM and plan.bottom_rests_s:
        rests = [(a + 0.15, b - 0.15) for a, b in plan.bottom_rests_s if b - a > 0.5]
        held *= 1.0 - 0.8 * envelope(t, rests, edge_s=0.3)
    if placement == "wrist":  # an arm is never still the way a racked bar is
        held = 0.35 + 0.65 * held
    return held


def _touchdowns(ex: Exercise, plan: RepPlan, rng: np.random.Generator) -> list[tuple[float, float]]:
    """A bar meeting the floor between reps rings like a re-rack, only softer."""
    if ex.id not in SUPPORTED_BOTTOM:
        return []
    return [(m.t1_s, float(rng.uniform(3.0, 10.0))) for m in plan.movements if m.phase is Phase.ECCENTRIC]


def _physiology(
    t: FloatArray,
    held: FloatArray,
    placement: str,
    load: float,
    config: LifterConfig,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """Postural sway, orientation wobble and tremor, scaled by how much the load is held."""
    wrist = placement == "wrist"
    gate = held[:, None]
    sway = smooth_noise_3d(t, rng, config.sway_m, 0.1, 0.9)
    sway[:, 2] *= 0.6  # the body sways more sideways than up and down
    wobble = smooth_noise_3d(t, rng, 0.03 if wrist else 0.005, 0.1, 1.0)
    tremor_acc = config.tremor_mps2 if config.tremor_mps2 is not None else 0.02 + 0.08 * load
    tremor_w = 2.0 * np.pi * 9.0
    tremor = smooth_noise_3d(t, rng, tremor_acc / tremor_w**2, *TREMOR_HZ)
    tremor_rot = smooth_noise_3d(t, rng, (0.5 if wrist else 0.25) * tremor_acc / tremor_w, *TREMOR_HZ)
    return (sway + tremor) * gate, (wobble + tremor_rot) * gate


def _rings(t: FloatArray, impacts: list[tuple[float, float]], rng: np.random.Generator) -> FloatArray:
    """Damped 25-60 Hz rings, mostly vertical; peak acceleration about the impact's m/s^2."""
    out = np.zeros((t.shape[0], 3))
    for t0, peak in impacts:
        hz, tau = rng.uniform(25.0, 60.0), rng.uniform(0.02, 0.05)
        w = 2.0 * np.pi * hz
        i0, i1 = np.searchsorted(t, [t0, t0 + 6.0 * tau])
        s = t[i0:i1] - t0
        ring = -(peak / w**2) * np.exp(-s / tau) * np.sin(w * s) * np.minimum(s / 0.004, 1.0)
        direction = np.array([*rng.normal(0.0, 0.3, 2), 1.0])
        out[i0:i1] += ring[:, None] * direction
    return out
