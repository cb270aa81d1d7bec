"""Data passed between the core's stages: motion frames, phase events, reps and sets.

Phase names are fixed by the design: eccentric, bottom_pause, concentric, top_pause. "Bottom" is the
end of the eccentric (lengthened position) and "top" the end of the concentric, whatever the
direction of travel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from tempocoach.sensors.base import FloatArray


class Phase(StrEnum):
    ECCENTRIC = "eccentric"
    BOTTOM_PAUSE = "bottom_pause"
    CONCENTRIC = "concentric"
    TOP_PAUSE = "top_pause"


# The order phases follow within a rep, by where the rep starts.
ECCENTRIC_FIRST = (Phase.ECCENTRIC, Phase.BOTTOM_PAUSE, Phase.CONCENTRIC, Phase.TOP_PAUSE)
CONCENTRIC_FIRST = (Phase.CONCENTRIC, Phase.TOP_PAUSE, Phase.ECCENTRIC, Phase.BOTTOM_PAUSE)


@dataclass(frozen=True)
class TrackTrace:
    """What the tracker saw, per sample, for the post-set refinement of a translation lift.

    acceleration: gravity-free acceleration along the lift's signed axis (m/s^2) before any offset
    learned live; quiet: accelerometer and gyro alone look still (a rest candidate, before the
    integrated speed is asked; the gyro may turn as fast as TrackerSettings.settled_gyr_radps, looser
    than live rest allows); up_in_sensor: the up direction in the sensor frame (unit vectors).
    """

    acceleration: FloatArray
    quiet: np.ndarray
    up_in_sensor: FloatArray

    @staticmethod
    def concat(traces: list[TrackTrace]) -> TrackTrace:
        return TrackTrace(np.concatenate([x.acceleration for x in traces]),
                          np.concatenate([x.quiet for x in traces]),
                          np.concatenate([x.up_in_sensor for x in traces]))

    def part(self, lo: int, hi: int) -> TrackTrace:
        return TrackTrace(self.acceleration[lo:hi], self.quiet[lo:hi], self.up_in_sensor[lo:hi])


@dataclass(frozen=True)
class Cruise:
    """A movement the detector sees under way, as the tracker needs it: seen (its threshold crossed)
    at `seen_s`, and until `until_s` still running if its speed stays above `min_speed` (m/s). (The
    detector's speeds are net of the velocity offset it carries after a stop the tracker missed; the
    tracker compares min_speed with its own integrated speed, which can differ by that offset.)"""

    min_speed: float
    seen_s: float
    until_s: float


@dataclass(frozen=True)
class RotationTrace:
    """What the tracker read a rotation lift from, per sample: the gyro with its learned bias removed
    (rad/s, sensor frame) and the rotation axis it was projected on then (unit vectors)."""

    gyro_radps: FloatArray
    axis: FloatArray

    @staticmethod
    def concat(traces: list[RotationTrace]) -> RotationTrace:
        return RotationTrace(np.concatenate([x.gyro_radps for x in traces]),
                             np.concatenate([x.axis for x in traces]))

    def part(self, lo: int, hi: int) -> RotationTrace:
        return RotationTrace(self.gyro_radps[lo:hi], self.axis[lo:hi])


@dataclass(frozen=True)
class MotionFrame:
    """The tracker's output for one batch: the motion signal the detector reads.

    position: metres along gravity (translation lifts) or radians of joint angle (rotation lifts),
    signed so that the concentric moves it in +direction. velocity: its time derivative.
    still: True where the sensor is judged at rest (no translation and no rotation).
    trace: the tracker's working, kept for the post-set refinement (translation lifts only).
    sign: rotation lifts with a vertical concentric: the sign the tracker gave each sample. Which way
    is up is learned as the set goes on, so the first reps may have been read upside down; the
    post-set view applies the final sign to all of them.
    rotation: rotation lifts: the gyro and the axis it was read about (RotationTrace). The axis is also
    learned as the set goes on, so the post-set view reads the reps before it settled again.
    """

    t_s: FloatArray
    position: FloatArray
    velocity: FloatArray
    still: np.ndarray
    unit: str = "m"  # "m" or "rad"
    trace: TrackTrace | None = None
    sign: FloatArray | None = None
    rotation: RotationTrace | None = None

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def part(self, lo: int, hi: int) -> MotionFrame:
        """Samples lo to hi - 1, with what was kept of the tracker's working."""
        return MotionFrame(
            self.t_s[lo:hi], self.position[lo:hi], self.velocity[lo:hi], self.still[lo:hi], self.unit,
            self.trace.part(lo, hi) if self.trace is not None else None,
            self.sign[lo:hi] if self.sign is not None else None,
            self.rotation.part(lo, hi) if self.rotation is not None else None,
        )

    @staticmethod
    def concat(frames: list[MotionFrame]) -> MotionFrame:
        """Frames one after another; the traces only if every frame has them."""
        frames = [f for f in frames if len(f)]
        if not frames:
            z = np.zeros(0)
            return MotionFrame(z, z, z, np.zeros(0, dtype=bool))
        traces = [f.trace for f in frames if f.trace is not None]
        signs = [f.sign for f in frames if f.sign is not None]
        rotations = [f.rotation for f in frames if f.rotation is not None]
        return MotionFrame(
            np.concatenate([f.t_s for f in frames]),
            np.concatenate([f.position for f in frames]),
            np.concatenate([f.velocity for f in frames]),
            np.concatenate([f.still for f in frames]),
            frames[0].unit,
            TrackTrace.concat(traces) if len(traces) == len(frames) else None,
            np.concatenate(signs) if len(signs) == len(frames) else None,
            RotationTrace.concat(rotations) if len(rotations) == len(frames) else None,
        )


@dataclass(frozen=True)
class PhaseSpan:
    phase: Phase
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Rep:
    """One finished rep: its phases in the order they happened (absent pauses may be missing)."""

    index: int
    phases: tuple[PhaseSpan, ...]
    range_of_motion: float = 0.0  # metres or radians, whichever the motion signal uses
    set_number: int = 1  # a recording that held several sets: which one (1-based)

    @property
    def start_s(self) -> float:
        return self.phases[0].start_s

    @property
    def end_s(self) -> float:
        return self.phases[-1].end_s

    def span(self, phase: Phase) -> PhaseSpan | None:
        return next((p for p in self.phases if p.phase is phase), None)

    def duration_of(self, phase: Phase) -> float:
        span = self.span(phase)
        return span.duration_s if span is not None else 0.0


@dataclass(frozen=True)
class PhaseEvent:
    """Emitted by the detector as soon as it is sure of something.

    kind "phase": `phase` of rep `rep_index` started at `start_s`.
    kind "rep": rep `rep_index` is finished; `rep` holds its phases.
    detected_s is the sample time at which the detector decided (detected_s - start_s is its delay).
    """

    kind: str
    rep_index: int
    start_s: float
    detected_s: float
    phase: Phase | None = None
    rep: Rep | None = None


@dataclass
class SetRecord:
    """Everything known about one set after it ends; the report and the logbook read this."""

    exercise: str
    tempo: str
    placement: str
    reps: list[Rep] = field(default_factory=list)
    events: list[PhaseEvent] = field(default_factory=list)
    motion: MotionFrame | None = None
    transcript: list[tuple[float, str]] = field(default_factory=list)
    source: str = ""
