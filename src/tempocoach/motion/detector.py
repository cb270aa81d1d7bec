"""Streaming rep and phase detector: MotionFrame -> PhaseEvent.

Two layers:
- a segmenter turns the signed motion signal (concentric = +) into movements (up / down) and rests,
  with hysteresis and thresholds adapted from the set itself (slow eccentrics get low thresholds);
- an assembler maps movements and rests to phases in the lift's order and only counts a rep when the
  movement was big enough and came back (unracking, walking out, grip adjustments and re-racking are
  small or do not return, so they are not reps).

Edges are placed where the motion really starts and stops (extrapolated to zero speed), not where the
speed crosses a threshold, which would make slow phases 100-160 ms short.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from tempocoach.events import Cruise, MotionFrame, Phase, PhaseEvent, PhaseSpan, Rep
from tempocoach.exercises import Exercise
from tempocoach.motion.edges import (
    acceleration_onset,
    creep_before_onset,
    extrapolate_to_rest,
    settling_time,
)
from tempocoach.tempo import TempoCode

UP, DOWN, REST = 1, -1, 0
MAX_PHASE_FACTOR = 3.0  # a movement longer than this many times its target (+ slack) is not a rep phase
MAX_PHASE_SLACK_S = 2.0
MAX_PHASE_FLOOR_S = 6.0  # ...but any up to this long may be one: a grinding rep, a lifter off tempo
STOPPED_FRACTION_OF_PEAK = 0.25  # a movement slowed below this share of its peak speed...
FLAT_FRACTION = 0.3  # ...whose velocity changed less than this share of the threshold...
FLAT_WINDOW_S = 0.15  # ...over this long has stopped
MIN_PHASE_FACTOR_FOR_STOP = 0.5  # ...once it has lasted this share of its target
SCAN_SAMPLES = 256  # samples looked ahead at once for the next thing that can happen...
STEPS_BETWEEN_SCANS = 8  # ...and after finding it at once, samples stepped before looking again
SETTLING_FIT_FRACTION = 0.5  # a movement's end is fitted to its slowing below this share of its peak...
MAX_SETTLING_S = 0.3  # ...and lies at most this long after its speed fell to the floor
EDGE_LOOKBACK_S = 2.0  # a movement's start is searched no further back than this
# A first movement quicker than this share of its target is no attempt at a rep (a twitch). Lifters
# who ignore a slow tempo move in a quarter of it (1 s of a 4 s eccentric) and must still be counted;
# their size and their return tell swings and fidgets apart. (0.3 lost every rep of a 1010 lifter
# programmed 4040.)
MIN_PHASE_FACTOR = 0.1
MIN_CREEP_S = 0.3  # a movement that crept this long before accelerating hard began when it did...
CREEP_ACCEL_FRACTION = 0.25  # ...the creep's acceleration staying below this share of its peak...
MAX_CREEP_MPS2 = 0.3  # ...and below this (an accelerometer offset left after learning is smaller)
TEMPO_SPEED_FRACTION = 0.5  # a start threshold stays below this share of the tempo's mean speed
HALF_SIZE_SLACK = 0.75  # a first half this share of the minimum may still be a rep if the second is big
CRUISE_FRACTION_OF_PEAK = 0.15  # a movement under way is still cruising above this share of its peak...
CRUISE_TARGET_FACTOR = 1.5  # ...while younger than this many times its target...
CRUISE_SLACK_S = 0.5  # ...plus this (slow lifters run 20-40% over a slow phase's target)


@dataclass(frozen=True)
class DetectorSettings:
    min_speed: float = 0.025  # m/s or rad/s floor for "moving" (translation default)
    speed_fraction: float = 0.16  # moving threshold = this share of the direction's typical peak speed
    floor_fraction: float = 0.3  # edges are extrapolated from below this share of the threshold
    reverse_fraction: float = 0.5  # a reversal is confirmed at this share of the threshold
    hold_s: float = 0.10  # slow speed this long makes a rest
    min_excursion_fraction_of_rom: float = 0.35  # before the set tells us its range of motion
    min_excursion_fraction_of_reps: float = 0.45  # after: share of the median rep excursion
    return_fraction: float = 0.2  # the second movement must cover this share of the first
    history_s: float = 4.0
    velocity_creeps: bool = True  # integrated from acceleration (m/s): a pause may carry drift

    @staticmethod
    def for_unit(unit: str) -> DetectorSettings:
        if unit == "m":
            return DetectorSettings(min_speed=0.025)
        return DetectorSettings(min_speed=0.12, velocity_creeps=False)


@dataclass
class _Move:
    direction: int
    start_s: float
    start_pos: float
    seen_s: float  # when it crossed the threshold (or reversed the last one)
    reversal: bool = False  # it began by reversing the last movement, with no rest between
    peak_speed: float = 0.0
    end_s: float | None = None
    end_pos: float | None = None

    @property
    def excursion(self) -> float:
        return 0.0 if self.end_pos is None else abs(self.end_pos - self.start_pos)


@dataclass
class _RepInProgress:
    index: int
    spans: list[PhaseSpan] = field(default_factory=list)
    first_excursion: float = 0.0


def _time_of(sample: tuple[float, float, float]) -> float:
    return sample[0]


class _PeakSpeeds:
    """The peak speeds of one direction's recent moves, and the start threshold they set (kept up to
    date here because the detector reads it at every sample). The threshold never exceeds `ceiling`:
    a threshold learned from moves faster than the set's own (lowering the bar to the hang before a
    set of slow rows) would hide every rep of the set, and no hidden move could ever lower it again."""

    def __init__(self, settings: DetectorSettings, ceiling: float) -> None:
        self._settings = settings
        self._speeds: list[float] = []
        self._ceiling = max(settings.min_speed, min(ceiling, 4 * settings.min_speed))
        self.threshold = settings.min_speed
        self.typical = 0.0  # the median peak speed of the recent moves (0 until one is seen)

    def add(self, speed: float) -> None:
        self._speeds.append(speed)
        self._update()

    def drop_last(self) -> None:
        if self._speeds:
            self._speeds.pop()
            self._update()

    def _update(self) -> None:
        s = self._settings
        recent = sorted(self._speeds[-6:])
        self.typical = recent[len(recent) // 2] if recent else 0.0
        self.threshold = max(s.min_speed, min(s.speed_fraction * self.typical, self._ceiling))


class RepDetector:
    """Streaming: `update(frame)` returns the events the frame made certain; `finish()` at stream end."""

    def __init__(self, exercise: Exercise, tempo: TempoCode, settings: DetectorSettings | None = None,
                 unit: str = "m") -> None:
        self.exercise = exercise
        self.tempo = tempo
        self.settings = settings or DetectorSettings.for_unit(unit)
        order = exercise.phase_order
        self._first_dir = DOWN if order[0] is Phase.ECCENTRIC else UP
        self._phase_of_move = {DOWN: Phase.ECCENTRIC, UP: Phase.CONCENTRIC}
        self._pause_after = {DOWN: Phase.BOTTOM_PAUSE, UP: Phase.TOP_PAUSE}
        self._nominal_move_s = {d: tempo.nominal_s(phase) for d, phase in self._phase_of_move.items()}
        rom = exercise.rom_m if unit == "m" else exercise.rom_rad
        self._rom_guess = rom or (0.4 if unit == "m" else 1.5)
        self._rep_timeout_s = MAX_PHASE_FACTOR * tempo.rep_duration_s + 2 * MAX_PHASE_SLACK_S
        self._hist: deque[tuple[float, float, float]] = deque()  # (t, v, p)
        self._state = REST
        self._move: _Move | None = None
        self._slow_since: float | None = None
        self._v_base = 0.0  # velocity offset carried since the last detected stop (integration error)
        self.stopped_at_s: float | None = None  # a stop the tracker could not see (read and cleared)
        # The tempo sets the slowest a movement should go: its range over its nominal time.
        self._peaks = {d: _PeakSpeeds(self.settings, TEMPO_SPEED_FRACTION * self._rom_guess / max(t_s, 0.1))
                       for d, t_s in self._nominal_move_s.items()}
        self._rep_excursions: list[float] = []
        self.reps: list[Rep] = []
        self._rep: _RepInProgress | None = None
        self._open_final: tuple[Rep, Phase, float] | None = None  # last rep's final pause, still open
        self._final_pause_cut_s: float | None = None
        self._pending: list[PhaseEvent] = []
        self._t_last = 0.0
        self.current: tuple[int, Phase, float] | None = None

    # -- thresholds adapted from the set ----------------------------------------------------------
    def _threshold(self, direction: int) -> float:
        return self._peaks[direction].threshold

    @property
    def slowest_typical_peak(self) -> float | None:
        """The typical peak speed of the slower direction, once both have been seen: a rest is slower
        than a good share of it."""
        peaks = [p.typical for p in self._peaks.values()]
        return min(peaks) if min(peaks) > 0.0 else None

    @property
    def cruise(self) -> Cruise | None:
        """While a movement is under way, young enough to be a phase still running: the speed it is
        cruising above and until when (None at rest). A slow phase cruises with a quiet accelerometer
        and a still gyro, and its integrated speed may have drifted towards zero: the tracker must not
        take it for rest unless the speed fell well below the movement's own."""
        move = self._move
        if self._state == REST or move is None:
            return None
        if move.reversal and self.tempo.target_s(self._pause_after[-move.direction]):
            # The tempo asks for a pause before it: this "movement" may be the integration's error
            # left by the last one (an explosive concentric's), and the pause must still find rest.
            return None
        until_s = move.start_s + CRUISE_TARGET_FACTOR * self._nominal_move_s[move.direction] + CRUISE_SLACK_S
        return Cruise(CRUISE_FRACTION_OF_PEAK * move.peak_speed, move.seen_s, until_s)

    def _min_excursion(self) -> float:
        s = self.settings
        if len(self._rep_excursions) >= 2:
            ex = sorted(self._rep_excursions[-8:])
            return s.min_excursion_fraction_of_reps * ex[len(ex) // 2]
        return s.min_excursion_fraction_of_rom * self._rom_guess

    # -- streaming ------------------------------------------------------------------------------
    def update(self, frame: MotionFrame) -> list[PhaseEvent]:
        if len(frame) == 0:
            return []
        hist = self._hist
        ts, vs, ps = frame.t_s.tolist(), frame.velocity.tolist(), frame.position.tolist()
        rests = frame.still.tolist()
        n, k, stepped, scan_from = len(ts), 0, 0, 0
        while k < n:
            if k >= scan_from:
                upto = self._uneventful_until(frame, k)
                # The sample found is stepped, and a busy stretch may follow: step a while.
                scan_from = upto + STEPS_BETWEEN_SCANS
                if upto > k:
                    hist.extend(zip(ts[k:upto], vs[k:upto], ps[k:upto], strict=True))
                    self._t_last = ts[upto - 1]
                    self._check_rep_timeout(self._t_last)
                    self._trim_history()
                    k = upto
                    continue
            hist.append((ts[k], vs[k], ps[k]))
            self._t_last = ts[k]
            self._step(ts[k], vs[k], ps[k], bool(rests[k]))
            k += 1
            stepped += 1
            if stepped % 64 == 0:  # a whole recording may come as one frame: keep the history bounded
                self._trim_history()
        self._trim_history()
        out, self._pending = self._pending, []
        return out

    def _uneventful_until(self, frame: MotionFrame, k: int) -> int:
        """The first sample from k on (within a bounded window) at which `_step` could do more than
        note the sample: start a movement at rest; reverse, slow down or stop while moving. The
        samples before it are taken in one go, which is what makes `analyze` fast."""
        window = slice(k, k + SCAN_SAMPLES)  # bounded: a whole recording may be one frame
        rest = frame.still[window]
        if self._state == REST:
            # The carried velocity offset only drops to zero at a rest sample, where nothing starts.
            first_rest = int(np.argmax(rest)) if rest.any() else len(rest)
            v = frame.velocity[window].copy()
            v[:first_rest] -= self._v_base
            eventful = ~rest & ((v > self._threshold(UP)) | (-v > self._threshold(DOWN)))
        else:
            move = self._move
            assert move is not None
            speed = (frame.velocity[window] - self._v_base) * move.direction
            peak = np.maximum(np.maximum.accumulate(speed), move.peak_speed)
            floor = 2 * self.settings.floor_fraction * self._threshold(move.direction)
            eventful = rest | (speed <= floor) | (speed <= STOPPED_FRACTION_OF_PEAK * peak)
        hits = np.flatnonzero(eventful)
        end = int(hits[0]) if len(hits) else len(rest)
        if end == 0:
            return k
        if self._state == REST:
            if first_rest < end:
                self._v_base = 0.0
        else:
            assert move is not None
            move.peak_speed = float(peak[end - 1])
            self._slow_since = None
        return k + end

    def _trim_history(self) -> None:
        hist, keep_from = self._hist, self._t_last - self.settings.history_s
        while hist and hist[0][0] < keep_from:
            hist.popleft()

    def _step(self, t: float, v_raw: float, p: float, rest: bool) -> None:
        s = self.settings
        self._check_rep_timeout(t)
        if rest:
            self._v_base = 0.0  # the tracker zeroed the velocity: no offset left to carry
        v = v_raw - self._v_base
        if self._state == REST:
            for direction in (UP, DOWN):
                if v * direction > self._threshold(direction) and not rest:
                    start = self._start_edge(direction)
                    self._begin_move(direction, start, t)
                    return
            return
        move = self._move
        assert move is not None
        speed = v * move.direction
        move.peak_speed = max(move.peak_speed, speed)
        threshold = self._threshold(move.direction)
        reverse_at = s.reverse_fraction * self._threshold(-move.direction)
        if speed < -reverse_at and not rest:
            turn_s, turn_p = self._zero_crossing(move.direction)
            self._end_move(turn_s, turn_p, t, rest_follows=False)
            self._begin_move(-move.direction, turn_s, t, start_pos=turn_p, reversal=True)
            return
        levelled = self._levelled_off(t, v_raw, speed, move)
        if rest or abs(v) < s.floor_fraction * threshold * 2 or levelled:
            if self._slow_since is None:
                self._slow_since = t
            # Levelled off is already judged over FLAT_WINDOW_S: no need to hold on.
            if rest or levelled or t - self._slow_since >= s.hold_s:
                end_s, end_p = self._end_edge(move.direction)
                self._end_move(end_s, end_p, t, rest_follows=True)
                self._state = REST
                if not rest:
                    # The movement stopped where the velocity levelled off: whatever it reads now is
                    # the integration's error, carried until the tracker finds rest.
                    self._v_base = v_raw
                    self.stopped_at_s = t
        else:
            self._slow_since = None

    def _check_rep_timeout(self, t: float) -> None:
        rep = self._rep
        if rep is not None and rep.spans and t - rep.spans[0].end_s > self._rep_timeout_s:
            self._rep = None  # the second half never came: not a rep
            self.current = None

    def _levelled_off(self, t: float, v_raw: float, speed: float, move: _Move) -> bool:
        """Slowed to a fraction of its peak and flat since: stopped, even if the integrated velocity
        has drifted off zero (a cruise is flat too, but near its peak speed)."""
        if speed > STOPPED_FRACTION_OF_PEAK * move.peak_speed:
            return False
        target_s = self._nominal_move_s[move.direction]
        if t - move.start_s < MIN_PHASE_FACTOR_FOR_STOP * target_s:
            return False  # too early in the phase: a slow patch, not the end
        before = self._value_at(t - FLAT_WINDOW_S)
        return before is not None and abs(v_raw - before) < FLAT_FRACTION * self._threshold(move.direction)

    def _value_at(self, t_s: float) -> float | None:
        """The velocity at the last sample at or before t_s (the history's times never decrease)."""
        i = bisect.bisect_right(self._hist, t_s, key=_time_of)
        return self._hist[i - 1][1] if i else None

    # -- edges ------------------------------------------------------------------------------------
    def _start_edge(self, direction: int) -> tuple[float, float]:
        """Where the movement that just crossed the threshold really began: the last sample near the
        slowest speed of the stretch before it (a pause may carry a little drift), then the speed ramp
        extrapolated back to that level."""
        floor = self.settings.floor_fraction * self._threshold(direction)
        hist = list(self._hist)
        last = len(hist) - 1
        earliest = self._search_from(hist)
        speeds = [h[1] * direction for h in hist]
        base = max(0.0, min(speeds[earliest : last + 1]))
        i0 = last
        while i0 > earliest and speeds[i0] > base + floor:
            i0 -= 1
        i1 = min(last, i0 + 1)
        while i1 < last and speeds[i1] < base + 2 * floor:
            i1 += 1
        edge = extrapolate_to_rest(hist[i0], hist[i1], direction, backwards=True, base=base)
        if not self.settings.velocity_creeps:
            return edge
        # A pause whose integrated speed creeps (drift) has no clear "slowest" sample; the movement's
        # own acceleration marks its onset better: walk back while it is still accelerating hard.
        onset = acceleration_onset(hist, speeds, earliest, last)
        return max(edge, onset)

    def _end_edge(self, direction: int) -> tuple[float, float]:
        """Where the movement that just slowed down really stopped: the first sample after its last
        fast one that is near the slowest speed since."""
        floor = self.settings.floor_fraction * self._threshold(direction)
        hist = list(self._hist)
        assert self._move is not None
        last = len(hist) - 1
        speeds = [h[1] * direction for h in hist]
        first = next((k for k in range(last, -1, -1) if hist[k][0] <= self._move.start_s), 0)
        peak = max(range(first, last + 1), key=lambda k: speeds[k])
        base = max(0.0, min(speeds[peak : last + 1]))
        i = peak
        while i < last and speeds[i] > base + floor:
            i += 1
        # The last descent only: a sticking point earlier in the movement is no part of its settling.
        top = SETTLING_FIT_FRACTION * (speeds[peak] - base)
        j = i
        while j > peak and speeds[j - 1] <= base + top:
            j -= 1
        settled_s = settling_time(hist[j : i + 1], direction, base, floor, top)
        if settled_s is not None:
            return min(max(settled_s, hist[max(i - 1, peak)][0]), hist[i][0] + MAX_SETTLING_S), hist[i][2]
        # Too few samples to fit (a quick stop): extrapolate from two.
        i1 = max(peak, i - 1)
        while i1 > peak and speeds[i1] < base + 2 * floor:
            i1 -= 1
        return extrapolate_to_rest(hist[i], hist[i1], direction, backwards=False, base=base)

    def _search_from(self, hist: list[tuple[float, float, float]]) -> int:
        """How far back a start edge may lie: the previous edge, at most EDGE_LOOKBACK_S ago."""
        limit_s = hist[-1][0] - EDGE_LOOKBACK_S
        if self._move is not None and self._move.end_s is not None:
            limit_s = max(limit_s, self._move.end_s)
        return next((k for k, h in enumerate(hist) if h[0] >= limit_s), len(hist) - 1)

    def _zero_crossing(self, old_direction: int) -> tuple[float, float]:
        hist = self._hist
        base = self._v_base
        for i in range(len(hist) - 1, 0, -1):
            t1, v1, p1 = hist[i]
            t0, v0, p0 = hist[i - 1]
            v0, v1 = v0 - base, v1 - base
            if v0 * old_direction > 0 >= v1 * old_direction:
                f = v0 / (v0 - v1) if v0 != v1 else 0.0
                return t0 + f * (t1 - t0), p0 + f * (p1 - p0)
        t, _, p = hist[-1]
        return t, p

    # -- moves -> phases --------------------------------------------------------------------------
    def _begin_move(self, direction: int, start: tuple[float, float] | float, now_s: float,
                    start_pos: float | None = None, reversal: bool = False) -> None:
        if isinstance(start, tuple):
            start_s, pos = start
        else:
            start_s, pos = start, start_pos if start_pos is not None else self._hist[-1][2]
        self._state = direction
        self._slow_since = None
        self._move = _Move(direction, start_s, pos, now_s, reversal=reversal)
        rep = self._rep
        if rep is None:
            if direction == self._first_dir:
                self._rep = _RepInProgress(len(self.reps) + 1)
                self._emit_phase(self._phase_of_move[direction], start_s, now_s)
            return
        spans = rep.spans
        last = spans[-1]
        if direction == self._first_dir:
            first = spans[0]
            if start_s - first.end_s <= self._max_pause_s(self._pause_after[direction]):
                # Same direction again after a short stop (went deeper): one movement.
                rep.spans = [first]
                self._move = _Move(direction, first.start_s, self._first_start_pos, now_s)
                return
            # A long stop: what came before was not a rep's first half. Start over from here.
            self._peaks[direction].drop_last()
            self._rep = _RepInProgress(len(self.reps) + 1)
            self._emit_phase(self._phase_of_move[direction], start_s, now_s)
            return
        if last.phase is self._phase_of_move[self._first_dir]:
            if start_s < last.end_s:
                # The end was extrapolated past where this movement was already under way: they
                # meet where this one started (its start has been announced).
                last = spans[-1] = replace(last, end_s=max(last.start_s, start_s))
            spans.append(PhaseSpan(self._pause_after[self._first_dir], last.end_s, max(last.end_s, start_s)))
        self._emit_phase(self._phase_of_move[direction], start_s, now_s)

    def _end_move(self, end_s: float, end_pos: float, now_s: float, rest_follows: bool) -> None:
        move = self._move
        assert move is not None
        move.end_s, move.end_pos = end_s, end_pos
        self._peaks[move.direction].add(move.peak_speed)
        rep = self._rep
        if rep is None:
            self._note_non_rep_motion(move)
            return
        phase = self._phase_of_move[move.direction]
        if move.direction == self._first_dir:
            if not self._plausible_first_move(move):
                self._peaks[move.direction].drop_last()
                self._rep = None  # a dip, a shuffle or a walk, not a rep
                self.current = None
                self._note_non_rep_motion(move)
                return
            start_s = self._start_after_creep(move)
            self._close_final_pause(start_s)
            self._first_start_pos = move.start_pos
            rep.first_excursion = move.excursion
            rep.spans = [PhaseSpan(phase, start_s, end_s)]
            if rest_follows:
                self._emit_phase(self._pause_after[move.direction], end_s, now_s)
            return
        if move.excursion < self.settings.return_fraction * rep.first_excursion:
            # A bounce in the pause: fold it back into the pause.
            self._peaks[move.direction].drop_last()
            if rep.spans and rep.spans[-1].phase is self._pause_after[self._first_dir]:
                rep.spans.pop()
            return
        if max(rep.first_excursion, move.excursion) < self._min_excursion():
            # Both halves small: drift shrinks one half and grows the other, but not both.
            self._rep = None
            self.current = None
            return
        start_s = move.start_s
        if rep.spans and rep.spans[-1].phase is self._pause_after[self._first_dir]:
            # Only out of a pause: a movement that began by reversing the last one did not creep.
            start_s = self._start_after_creep(move)
            rep.spans[-1] = replace(rep.spans[-1], end_s=start_s)
        rep.spans.append(PhaseSpan(phase, start_s, end_s))
        self._complete_rep(rep, end_s, now_s, rest_follows)

    def _start_after_creep(self, move: _Move) -> float:
        """When a movement (judged a rep's phase) really began: if it began as a pause's integrated
        velocity crept over the threshold, where it accelerated out of the creep, so that the pause
        before it lasts until then. (Its start was announced at the creep.)"""
        if not self.settings.velocity_creeps:
            return move.start_s
        late = creep_before_onset(list(self._hist), move.start_s, move.direction, MIN_CREEP_S,
                                  CREEP_ACCEL_FRACTION, MAX_CREEP_MPS2)
        return move.start_s if late is None else late[0]

    def _plausible_first_move(self, move: _Move) -> bool:
        """Big enough to be a rep, not so big or so long that it must be something else."""
        assert move.end_s is not None
        if move.excursion < HALF_SIZE_SLACK * self._min_excursion():
            return False  # (between the slack and the minimum, the second half decides)
        if move.excursion > self._max_excursion():
            return False
        phase = self._phase_of_move[move.direction]
        duration_s = move.end_s - move.start_s
        target = self.tempo.nominal_s(phase)
        if not self.tempo.is_explosive(phase) and duration_s < MIN_PHASE_FACTOR * target:
            return False  # far quicker than any attempt at a rep: a twitch
        return duration_s <= max(MAX_PHASE_FACTOR * target + MAX_PHASE_SLACK_S, MAX_PHASE_FLOOR_S)

    def _max_excursion(self) -> float:
        if len(self._rep_excursions) >= 2:
            ex = sorted(self._rep_excursions[-8:])
            return 2.5 * ex[len(ex) // 2]
        return 3.0 * self._rom_guess

    def _max_pause_s(self, pause: Phase) -> float:
        return 2.0 * (self.tempo.target_s(pause) or 0.0) + 1.5

    def _complete_rep(self, rep: _RepInProgress, end_s: float, now_s: float, rest_follows: bool) -> None:
        final_pause = self._pause_after[-self._first_dir]
        spans = list(rep.spans)
        if len(spans) == 2:  # no pause between the movements: a zero-length one at the turnaround
            first, second = spans
            spans = [first, PhaseSpan(self._pause_after[self._first_dir], first.end_s, first.end_s), second]
        done = Rep(rep.index, (*spans, PhaseSpan(final_pause, end_s, end_s)), rep.first_excursion)
        self.reps.append(done)
        self._rep_excursions.append(rep.first_excursion)
        self._rep = None
        self._open_final = (done, final_pause, end_s)
        self._final_pause_cut_s = None
        self._pending.append(PhaseEvent("rep", done.index, done.start_s, now_s, rep=done))
        if rest_follows:
            self._emit_phase(final_pause, end_s, now_s, rep_index=done.index)

    def _note_non_rep_motion(self, move: _Move) -> None:
        if self._open_final is not None and self._final_pause_cut_s is None:
            self._final_pause_cut_s = move.start_s

    def _close_final_pause(self, end_s: float, cap_s: float | None = None) -> None:
        if self._open_final is None:
            return
        done, phase, start_s = self._open_final
        end = end_s if cap_s is None else min(end_s, cap_s)
        end = max(end, start_s)
        closed = Rep(done.index, (*done.phases[:-1], PhaseSpan(phase, start_s, end)), done.range_of_motion)
        self.reps[self.reps.index(done)] = closed
        self._open_final = None

    def _emit_phase(self, phase: Phase, start_s: float, now_s: float, rep_index: int | None = None) -> None:
        index = rep_index if rep_index is not None else (self._rep.index if self._rep else len(self.reps) + 1)
        self.current = (index, phase, start_s)
        self._pending.append(PhaseEvent("phase", index, start_s, now_s, phase=phase))

    _first_start_pos: float = 0.0

    def finish(self) -> list[PhaseEvent]:
        """End of stream: close the last rep's final pause (capped at its prescribed length) and drop
        an unfinished rep."""
        if self._open_final is not None:
            _, phase, start_s = self._open_final
            target = self.tempo.target_s(phase) or 0.0
            end = self._final_pause_cut_s if self._final_pause_cut_s is not None else self._t_last
            self._close_final_pause(end, cap_s=start_s + target)
        self._rep = None
        self.current = None
        out, self._pending = self._pending, []
        return out
