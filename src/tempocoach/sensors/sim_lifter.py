"""The simulated lifter's reps: how long each phase really takes, how far it goes, and the ground truth.

The rep motion is one scalar, the *lift coordinate* c(t): metres (translation lifts) or radians
(rotation lifts), increasing in the concentric. It moves between alternating levels (top / bottom)
with smooth velocity shapes and holds still (up to sway, added later) in pauses. A 0-second pause is
truly 0: the movement reverses with no dwell, and the truth keeps that pause as a zero-duration span
so every truth rep has all four phases, in the exercise's order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tempocoach.events import Phase, PhaseSpan, Rep
from tempocoach.exercises import Exercise
from tempocoach.sensors.base import FloatArray
from tempocoach.sensors.sim_shapes import MoveShape, progress_profile
from tempocoach.tempo import TempoCode

MOVES = (Phase.ECCENTRIC, Phase.CONCENTRIC)
MIN_MOVE_S = 0.3


@dataclass(frozen=True)
class LifterConfig:
    """How the simulated lifter behaves. `None` means "drawn at random from the seed".

    Timing: each phase lasts its target x set_bias x lognormal(duration_sigma); set_bias is one draw per
    set (lognormal(set_bias_sigma)): lifters count consistently fast or slow. A fraction
    rushed_eccentric_prob of timed eccentrics last rushed_range x target. X (explosive) phases last
    explosive_s (light -> heavy by load_fraction), slowing by `fatigue` (fraction) over the set.
    Range: rom_scale x catalogue ROM, varying rep to rep by rom_rep_sigma (clipped to +-10%); the top
    drifts by top_drift per rep (m or rad). Shape: sticking points, speed wobble. Around the set:
    pre_set/post_set gestures (unrack/walkout, pick-up, fidgets; re-rack, put down), impacts.
    Physiology: sway_m (postural sway rms under load) and tremor_mps2 (6-12 Hz, rms under load).
    """

    load_fraction: float | None = None  # of 1RM; None -> U(0.45, 0.9)
    duration_sigma: float = 0.15
    set_bias_sigma: float = 0.08
    rushed_eccentric_prob: float = 0.1
    rushed_range: tuple[float, float] = (0.5, 0.7)
    explosive_s: tuple[float, float] = (0.4, 1.0)
    fatigue: float | None = None  # None -> U(0, 0.3) * load
    rom_scale: float | None = None  # None -> U(0.85, 1.15)
    rom_rep_sigma: float = 0.05
    top_drift: float | None = None  # per rep; None -> 0.006 m or 0.03 rad
    sticking_prob: float | None = None  # None -> 0.15 + 0.6 * max(0, load - 0.6)
    wobble: float = 0.08
    unplanned_pause_prob: float = 0.0  # chance a 0-s pause becomes a real 0.3-1.5 s breath (in truth)
    pre_set: bool = True
    post_set: bool = True
    lead_in_s: tuple[float, float] = (0.1, 1.0)
    settle_s: tuple[float, float] = (0.6, 2.0)
    linger_s: tuple[float, float] = (0.4, 1.8)
    lead_out_s: tuple[float, float] = (0.3, 1.5)
    impacts: bool = True
    sway_m: float = 0.002
    tremor_mps2: float | None = None  # None -> 0.02 + 0.08 * load
    path_curve_m: float | None = None  # off-axis bar path amplitude; None -> U(0.01, 0.06)
    joint_radius_m: float | None = None  # rotation lifts; None -> per joint (elbow 0.25-0.35 m ...)


@dataclass(frozen=True)
class Movement:
    """One eccentric or concentric: c goes from c0_to_c1[0] to [1] between t0_s and t1_s."""

    t0_s: float
    t1_s: float
    c0: float
    c1: float
    shape: MoveShape
    phase: Phase
    rep_index: int


@dataclass
class RepPlan:
    """The set's reps: movements on the lift coordinate, the truth, and where the reps sit in time."""

    movements: list[Movement]
    truth: list[Rep]
    start_level: float
    end_level: float
    reps_start_s: float
    truth_end_s: float  # end of the last truth phase
    still_end_s: float  # the lifter holds the end position until here, then post-set gestures start
    rom_nominal: float
    bottom_rests_s: list[tuple[float, float]] = field(default_factory=list)  # load supported (floor)

    def coordinate(self, t_s: FloatArray) -> FloatArray:
        """c(t) on any time grid: levels held between movements, smooth profiles inside them."""
        c = np.full_like(t_s, self.start_level)
        for m in self.movements:
            i0, i1 = np.searchsorted(t_s, [m.t0_s, m.t1_s])
            c[i1:] = m.c1
            s = (t_s[i0:i1] - m.t0_s) / (m.t1_s - m.t0_s)
            c[i0:i1] = m.c0 + (m.c1 - m.c0) * progress_profile(m.shape, s)
        return c


def draw_load(config: LifterConfig, rng: np.random.Generator) -> float:
    return config.load_fraction if config.load_fraction is not None else float(rng.uniform(0.45, 0.9))


def plan_reps(
    exercise: Exercise,
    tempo: TempoCode,
    reps: int,
    rom_nominal: float,
    unit_is_m: bool,
    start_s: float,
    load: float,
    config: LifterConfig,
    rng: np.random.Generator,
    floor_bottom: bool,
) -> RepPlan:
    """Draw the set's phase durations and levels and lay them out in time from start_s."""
    order = exercise.phase_order
    durations = _draw_durations(tempo, order, reps, rom_nominal, unit_is_m, load, config, rng)
    levels = _draw_levels(order, reps, rom_nominal, unit_is_m, config, rng, floor_bottom)
    movements: list[Movement] = []
    truth: list[Rep] = []
    bottom_rests: list[tuple[float, float]] = []
    t = start_s
    level_k = 0
    flat = [(i, ph, durations[i][j]) for i in range(reps) for j, ph in enumerate(order)]
    for k, (rep_i, phase, dur) in enumerate(flat):
        if phase in MOVES:
            prev_pause = flat[k - 1][2] if k > 0 else -1.0
            next_pause = flat[k + 1][2] if k + 1 < len(flat) else -1.0
            shape = _draw_shape(phase, dur, tempo, prev_pause == 0.0, next_pause == 0.0, load, config, rng)
            movements.append(
                Movement(t, t + dur, levels[level_k], levels[level_k + 1], shape, phase, rep_i + 1)
            )
            level_k += 1
        elif phase is Phase.BOTTOM_PAUSE and floor_bottom and dur > 0:
            bottom_rests.append((t, t + dur))
        t += dur
    t = start_s
    for i in range(reps):
        spans = []
        for j, phase in enumerate(order):
            spans.append(PhaseSpan(phase, float(t), float(t + durations[i][j])))
            t += durations[i][j]
        con = next(m for m in movements if m.rep_index == i + 1 and m.phase is Phase.CONCENTRIC)
        truth.append(Rep(i + 1, tuple(spans), range_of_motion=float(abs(con.c1 - con.c0))))
    linger = float(rng.uniform(*config.linger_s))
    if floor_bottom and order[-1] is Phase.BOTTOM_PAUSE:
        bottom_rests.append((t, t + linger + 60.0))
    return RepPlan(movements, truth, levels[0], levels[-1], start_s, t, t + linger, rom_nominal, bottom_rests)


def _draw_durations(
    tempo: TempoCode,
    order: tuple[Phase, ...],
    reps: int,
    rom_nominal: float,
    unit_is_m: bool,
    load: float,
    config: LifterConfig,
    rng: np.random.Generator,
) -> list[list[float]]:
    bias_move = float(rng.lognormal(0.0, config.set_bias_sigma))
    bias_pause = float(rng.lognormal(0.0, config.set_bias_sigma))
    fatigue = config.fatigue if config.fatigue is not None else float(rng.uniform(0.0, 0.3) * load)
    lo, hi = config.explosive_s
    heavy = float(np.clip((load - 0.4) / 0.5, 0.0, 1.0))
    size = min(1.0, float(np.sqrt(rom_nominal / (0.45 if unit_is_m else 1.8))))
    out: list[list[float]] = []
    for i in range(reps):
        progress = i / max(reps - 1, 1)
        row = []
        for phase in order:
            target = tempo.target_s(phase)
            if phase in MOVES:
                if target is None or target == 0.0:
                    base = (lo + (hi - lo) * heavy) * size * (1.0 + fatigue * progress**1.5)
                    if phase is Phase.ECCENTRIC:
                        base *= 0.8
                    dur = base * float(rng.lognormal(0.0, 0.1))
                else:
                    dur = target * bias_move * float(rng.lognormal(0.0, config.duration_sigma))
                    if phase is Phase.ECCENTRIC and rng.random() < config.rushed_eccentric_prob:
                        dur = target * float(rng.uniform(*config.rushed_range))
                row.append(max(dur, MIN_MOVE_S))
            elif not target:
                unplanned = rng.random() < config.unplanned_pause_prob
                row.append(float(rng.uniform(0.3, 1.5)) if unplanned else 0.0)
            else:
                row.append(max(target * bias_pause * float(rng.lognormal(0.0, config.duration_sigma)), 0.15))
        out.append(row)
    return out


def _draw_levels(
    order: tuple[Phase, ...],
    reps: int,
    rom_nominal: float,
    unit_is_m: bool,
    config: LifterConfig,
    rng: np.random.Generator,
    floor_bottom: bool,
) -> list[float]:
    """Alternating levels the movements go between; concentric-first sets start at the bottom."""
    drift_step = config.top_drift if config.top_drift is not None else (0.006 if unit_is_m else 0.03)
    drift = np.cumsum(rng.normal(0.0, drift_step, reps + 1))
    drift -= drift[0]
    roms = rom_nominal * (1.0 + np.clip(rng.normal(0.0, config.rom_rep_sigma, reps + 1), -0.1, 0.1))
    if floor_bottom:  # the load rests on the floor (deadlift) or hangs (pull-up): the bottom is fixed
        tops, bottoms = roms, np.zeros(reps + 1)
    else:
        tops = rom_nominal + drift
        bottoms = tops - roms
    levels: list[float] = []
    if order[0] is Phase.ECCENTRIC:
        for i in range(reps):
            levels += [float(tops[i]), float(bottoms[i + 1])]
        levels.append(float(tops[reps]))
    else:
        for i in range(reps):
            levels += [float(bottoms[i]), float(tops[i + 1])]
        levels.append(float(bottoms[reps]))
    return levels


def _draw_shape(
    phase: Phase,
    dur: float,
    tempo: TempoCode,
    turn_in: bool,
    turn_out: bool,
    load: float,
    config: LifterConfig,
    rng: np.random.Generator,
) -> MoveShape:
    explosive = not tempo.target_s(phase)
    if explosive:
        ramp_in, ramp_out = rng.uniform(0.35, 0.55), rng.uniform(0.3, 0.5)
    elif phase is Phase.ECCENTRIC:
        ramp_in, ramp_out = rng.uniform(0.1, 0.28), rng.uniform(0.15, 0.35)  # slow eccentrics cruise
    else:
        ramp_in, ramp_out = rng.uniform(0.18, 0.38), rng.uniform(0.18, 0.4)
    total = ramp_in + ramp_out
    if total > 1.0:
        ramp_in, ramp_out = ramp_in / total, ramp_out / total
    stick_prob = config.sticking_prob
    if stick_prob is None:
        stick_prob = 0.15 + 0.6 * max(0.0, load - 0.6)
    stick = phase is Phase.CONCENTRIC and rng.random() < stick_prob
    wobble = tuple(
        (
            float(config.wobble * rng.uniform(0.3, 1.0)),
            float(max(0.7, dur * rng.uniform(0.4, 1.2))),
            float(rng.uniform(0.0, 2.0 * np.pi)),
        )
        for _ in range(2)
    )
    return MoveShape(
        float(ramp_in),
        float(ramp_out),
        turn_in,
        turn_out,
        stick_depth=float(rng.uniform(0.3, 0.7)) if stick else 0.0,
        stick_at=float(rng.uniform(0.3, 0.6)),
        stick_width=float(rng.uniform(0.07, 0.15)),
        wobble=wobble,
    )
