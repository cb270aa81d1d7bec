"""Tracker + detector as one streaming unit, and the offline `analyze` path over a whole recording.

The core steps in fixed blocks of samples (BLOCK_S of data, counted in samples), whatever size the
sensor's packets are: a WitMotion sends one sample per notification, a Movesense a dozen, a file
arrives whole. The tracker and detector steer each other once per block, so stepping them per packet
made the reps depend on the packet size. With blocks, a stream gives the same reps however it was cut,
and `analyze_recording` (the whole recording in one update) gives exactly the live reps. It then
refines the set with all of it in hand (refine.py): its reps are the post-set report's. A recording of
several sets is cut between them and each set refined on its own.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from tempocoach.events import MotionFrame, Phase, PhaseEvent, Rep, SetRecord
from tempocoach.exercises import Exercise
from tempocoach.motion.detector import DetectorSettings, RepDetector
from tempocoach.motion.orientation import OrientationSettings, gyro_absent, gyro_seen, needs_gravity_frame
from tempocoach.motion.refine import (
    RefineSettings,
    about_set_axis,
    drop_edge_outliers,
    fits_sensor_errors,
    quietest_middle,
    recording_sets,
    refine_translation,
    separate_sets,
    set_pace,
    smoothed_for_tempo,
    with_tempo_sign,
)
from tempocoach.motion.tracker import MotionTracker, TrackerSettings
from tempocoach.sensors.base import ImuBatch, estimate_rate_hz
from tempocoach.tempo import TempoCode

BLOCK_S = 0.05  # the core's step; samples wait at most this long for their block
# The first step is longer: the AHRS levels its starting attitude from the first step's samples.
FIRST_STEP_S = OrientationSettings.level_window_s
RATE_SAMPLES = 8  # samples needed to estimate an unknown rate
GYRO_WAIT_S = 10.0  # still samples kept while a gyro reading all zeros says nothing yet
Reading = tuple[list[list[Rep]], MotionFrame]  # the sets found in a stretch, and its refined motion


class MotionPipeline:
    """ImuBatch in, PhaseEvents out. Construct per set."""

    def __init__(self, exercise: Exercise, tempo: TempoCode, placement: str,
                 sample_rate_hz: float | None = None, *,
                 tracker_settings: TrackerSettings | None = None,
                 detector_settings: DetectorSettings | None = None) -> None:
        self.exercise = exercise
        self.tempo = tempo
        self.placement = placement
        exercise.motion_for(placement)  # fail early if this placement cannot see the lift
        self._rate_hz = sample_rate_hz
        self._tracker_settings = tracker_settings
        self._detector_settings = detector_settings
        self._tracker: MotionTracker | None = None
        self._detector: RepDetector | None = None
        self._frames: list[MotionFrame] = []
        self._held: list[ImuBatch] = []  # samples not yet stepped (less than a step's worth)
        self._held_count = 0
        self._block = 0  # samples per step, once the rate is known
        self._last_t_s: float | None = None
        self.stale_samples = 0  # samples dropped for arriving at or before a sample already seen
        self._refined: tuple[list[Rep], MotionFrame] | None = None

    def _gyro_missing(self, held: ImuBatch) -> bool | None:
        """Whether the sensor lacks a gyro, once its first samples show it (None: not yet, all zeros
        at rest; nothing happens until the sensor moves, and then it shows)."""
        if self._tracker_settings is not None and self._tracker_settings.no_gyro:
            return True
        seen = gyro_seen(held)
        return None if seen is None else not seen

    def _start(self, rate_hz: float, first: ImuBatch, no_gyro: bool) -> None:
        base = self._tracker_settings or TrackerSettings()
        settings = replace(base, sample_rate_hz=rate_hz, cycle_s=self.tempo.rep_duration_s,
                           gravity_frame=base.gravity_frame or needs_gravity_frame(first, no_gyro),
                           no_gyro=no_gyro)
        self._tracker = MotionTracker(self.exercise, self.placement, settings)
        self._detector = RepDetector(self.exercise, self.tempo, self._detector_settings,
                                     unit=self._tracker.unit)
        self._block = max(1, round(BLOCK_S * rate_hz))

    def update(self, batch: ImuBatch) -> list[PhaseEvent]:
        """Take a packet of any size; step the core over every whole block now complete."""
        self._hold(batch)
        events: list[PhaseEvent] = []
        if self._tracker is None:
            if self._rate_hz is None and self._held_count < RATE_SAMPLES:
                return []  # the rate is learned from the first few samples
            held = self._take_held()
            self._rate_hz = self._rate_hz or estimate_rate_hz(held.t_s)
            first = max(1, round(FIRST_STEP_S * self._rate_hz))
            no_gyro = self._gyro_missing(held)
            if len(held) < first or no_gyro is None:
                # While waiting, only the last GYRO_WAIT_S is kept: stepping a long wait at once
                # would hold up the first rep's events.
                keep_from = int(np.searchsorted(held.t_s, held.t_s[-1] - GYRO_WAIT_S))
                self._put_back(held.slice(keep_from, len(held)))
                return []
            self._start(self._rate_hz, held, no_gyro)
            self._put_back(held.slice(first, len(held)))
            events += self._step(held.slice(0, first))
        if self._held_count < self._block:
            return events
        held = self._take_held()
        whole = len(held) - len(held) % self._block
        self._put_back(held.slice(whole, len(held)))
        for lo in range(0, whole, self._block):
            events += self._step(held.slice(lo, lo + self._block))
        return events

    def finish(self) -> list[PhaseEvent]:
        """Step what is left (a last, partial block) and close the set."""
        events: list[PhaseEvent] = []
        held = self._take_held()
        if len(held) and self._tracker is None:
            self._rate_hz = self._rate_hz or estimate_rate_hz(held.t_s)
            self._start(self._rate_hz, held, bool(self._gyro_missing(held)))
        if len(held):
            events = self._step(held)
        self._refined = None
        if self._detector is None:
            return events
        return events + self._detector.finish()

    def _hold(self, batch: ImuBatch) -> None:
        if self._last_t_s is not None and len(batch) and batch.t_s[0] <= self._last_t_s:
            # A late packet (resent, or reordered by the radio) must not run time backwards.
            fresh = int(np.searchsorted(batch.t_s, self._last_t_s, side="right"))
            self.stale_samples += fresh
            batch = batch.slice(fresh, len(batch))
        if len(batch):
            self._held.append(batch)
            self._held_count += len(batch)
            self._last_t_s = float(batch.t_s[-1])

    def _take_held(self) -> ImuBatch:
        held = ImuBatch.concat(self._held)
        self._held, self._held_count = [], 0
        return held

    def _put_back(self, held: ImuBatch) -> None:
        """Samples taken but not stepped (already checked against time running backwards)."""
        self._held, self._held_count = [held], len(held)

    def _step(self, block: ImuBatch) -> list[PhaseEvent]:
        assert self._tracker is not None and self._detector is not None
        frame = self._tracker.update(block)
        self._frames.append(frame)
        self._refined = None  # the post-set view is worked out again if asked for
        events = self._detector.update(frame)
        self._tracker.limit_rest_speed(self._detector.slowest_typical_peak)
        self._tracker.expect_cruise(self._detector.cruise)
        if self._detector.stopped_at_s is not None:
            # The lift's structure says the bar stopped: let the tracker zero its velocity there.
            self._tracker.hint_rest(self._detector.stopped_at_s)
            self._detector.stopped_at_s = None
        return events

    @property
    def reps(self) -> list[Rep]:
        return list(self._detector.reps) if self._detector else []

    @property
    def current(self) -> tuple[int, Phase, float] | None:
        return self._detector.current if self._detector else None

    @property
    def unit(self) -> str:
        return self._tracker.unit if self._tracker else "m"

    def motion(self) -> MotionFrame:
        """Everything tracked so far, joined (for the report's figure)."""
        joined = MotionFrame.concat(self._frames)
        return joined if len(joined) else replace(joined, unit=self.unit)

    def refined(self) -> tuple[list[Rep], MotionFrame]:
        """The post-set view: reps found again on the motion refined with the whole set in hand (the
        live reps and motion when the lift gives refinement nothing to work with), without a first or
        last "rep" that is unlike the set's others."""
        if self._refined is None:
            self._refined = self._refine()
        return self._refined

    def _refine(self) -> tuple[list[Rep], MotionFrame]:
        motion = self.motion()
        if self._tracker is None:
            return self.reps, motion
        # A recording of several sets (a session on a watch): each set is refined on its own stretch
        # (the sensor's errors differ from set to set), cut in the longest rest between sets. A stretch
        # may still hold more than one set, where live saw too few reps of one to tell.
        sets = separate_sets(self.reps, motion)
        between = [quietest_middle(motion, a[-1].end_s, b[0].start_s) for a, b in itertools.pairwise(sets)]
        cuts = [0, *between, len(motion)]
        found: list[list[Rep]] = []
        parts: list[MotionFrame] = []
        for lo, hi in itertools.pairwise(cuts):
            live = [rep for rep in self.reps if motion.t_s[lo] <= rep.start_s <= motion.t_s[hi - 1]]
            stretch_sets, part_motion = self._refine_stretch(motion.part(lo, hi), live)
            found += stretch_sets
            parts.append(part_motion)
        return recording_sets(found), MotionFrame.concat(parts)

    def _refine_stretch(self, motion: MotionFrame, live_reps: list[Rep]) -> Reading:
        """The sets found in one stretch, and its refined motion (or the live reps and motion when the
        lift gives refinement nothing to work with). Where the live reps were lifted far off the tempo
        (set_pace), the stretch is also refined expecting their pace, and the reading that finds more
        reps wins (ties go to the tempo): live reps that are mostly handling make a false pace."""
        paces = dict.fromkeys([self.tempo, set_pace(live_reps, self.tempo)])
        readings = [self._refine_stretch_at(motion, live_reps, pace) for pace in paces]
        return _most_reps(readings)

    def _refine_stretch_at(self, motion: MotionFrame, live_reps: list[Rep], pace: TempoCode) -> Reading:
        """_refine_stretch, expecting the set to be lifted at `pace`."""
        assert self._tracker is not None
        if motion.unit == "rad":
            tracking = self._tracker.settings
            span_s = (live_reps[0].start_s, live_reps[-1].end_s) if live_reps else None
            better = about_set_axis(motion, pace.rep_duration_s, tracking.axis_lowpass_hz,
                                    tracking.axis_min_rate_radps, reps_span_s=span_s)
            better = smoothed_for_tempo(better or motion, pace) or better
        else:
            settings = RefineSettings(rest_window_s=self._tracker.settings.rest_window_s)
            vertical = self.exercise.concentric != "horizontal"
            ahrs = not self._tracker.settings.gravity_frame

            def refined(fit_errors: bool) -> MotionFrame | None:
                return refine_translation(motion, pace, self.exercise.rom_m or 0.4, settings=settings,
                                          vertical=vertical, ahrs=ahrs, fit_errors=fit_errors,
                                          eccentric_first=self.exercise.phase_order[0] is Phase.ECCENTRIC)

            better = refined(True)
            if fits_sensor_errors(pace, vertical, ahrs, settings):
                # The error fit can explain a lift away where the sensor tilts in step with it (a bar
                # on the hips), or leave its position wandering: the reading that finds more reps wins.
                readings = [(self._sets_in(frame, pace), frame) for frame in (better, refined(False))
                            if frame is not None]
                if readings:
                    return _most_reps(readings)
        if self.exercise.concentric == "horizontal":
            # Neither gravity nor the rotation's sense says which way is the concentric: the tempo
            # may. Read the other way round, the live reps are no use: the fresh detector reads it.
            best = better if better is not None else motion
            signed = with_tempo_sign(best, self.tempo, live_reps)
            better = signed if signed is not best else better
        if better is None:
            return [drop_edge_outliers(live_reps, motion, tempo=pace)], motion
        return self._sets_in(better, pace), better

    def _sets_in(self, frame: MotionFrame, pace: TempoCode) -> list[list[Rep]]:
        """The sets a fresh detector finds in a refined frame, expecting the set's pace (set_pace)."""
        detector = RepDetector(self.exercise, pace, self._detector_settings, unit=frame.unit)
        detector.update(frame)
        detector.finish()
        found = separate_sets(list(detector.reps), frame)
        return [drop_edge_outliers(one_set, frame, tempo=pace) for one_set in found]


def _most_reps(readings: list[Reading]) -> Reading:
    """Of several readings of one stretch, the one that finds the most reps (the first on a tie)."""
    return max(readings, key=lambda reading: sum(map(len, reading[0])))


def analyze_recording(batch: ImuBatch, exercise: Exercise, tempo: TempoCode, placement: str,
                      source: str = "") -> SetRecord:
    """Run the streaming pipeline over a whole recording and collect the set."""
    settings = TrackerSettings(gravity_frame=needs_gravity_frame(batch), no_gyro=gyro_absent(batch))
    pipe = MotionPipeline(exercise, tempo, placement, estimate_rate_hz(batch.t_s), tracker_settings=settings)
    events = pipe.update(batch) + pipe.finish()  # stepped in the same blocks as live
    reps, motion = pipe.refined()
    return SetRecord(
        exercise=exercise.id,
        tempo=str(tempo),
        placement=placement,
        reps=reps,
        events=events,
        motion=motion,
        source=source,
    )
