"""Post-set refinement: the velocity of a translation lift re-estimated with the whole set in hand.

Live, the velocity between two rests carries the integration's drift until the next rest reveals it,
and the detector has to read pauses through that drift. After the set both ends of every movement are
known, so each stretch between two rests is integrated with velocity zero at both ends (the error is
spread over the stretch, as a constant accelerometer offset would spread it). With that cleaner
velocity, quiet stretches that the live tracker could not trust (a pause that read as slow movement)
are checked again and, when the speed there agrees, become rests too; a few rounds settle it. Stretches
that never stop (a 4040 set) also lose their mean velocity over each rep cycle: the lift comes back to
the same place every rep. The refined frame then goes through a fresh RepDetector.

Rotation lifts need none of this: their rate comes from the gyro and does not drift.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import butter, find_peaks, sosfiltfilt

from tempocoach.events import MotionFrame, Phase, Rep
from tempocoach.motion.filters import principal_axis
from tempocoach.motion.tracker import TrackerSettings, lost_excursion_m
from tempocoach.sensors.base import STANDARD_GRAVITY, FloatArray, estimate_rate_hz, time_steps
from tempocoach.tempo import TempoCode


@dataclass(frozen=True)
class RefineSettings:
    # A hole in the samples longer than this breaks the integration. With the set in hand, the speed
    # across a shorter one is the straight line between its sides (the fit between rests takes up the
    # error); live, the tracker stops at its GAP_S. (120 sets with a 0.5-1.5 s hole: F1 0.963 -> 0.968.)
    gap_s: float = 3.0
    rest_window_s: float = TrackerSettings.rest_window_s  # the tracker's quiet flag needs this much
    quiet_lowpass_hz: float = TrackerSettings.lowpass_hz  # a pause is steady in acceleration low-passed
    quiet_acc_mps2: float = TrackerSettings.rest_acc_mps2  # ...at this cutoff, to within this
    min_pause_s: float = 0.15  # a quiet stretch this long may be a pause...
    pause_speed_mps: float = 0.04  # ...if the refined speed across it stays below this
    pause_speed_fraction: float = 0.25  # ...and below this share of the nearby movement's peak speed
    neighbourhood_s: float = 2.0
    rounds: int = 4
    long_stretch_cycles: float = 2.0  # stretches longer than this many rep cycles are detrended
    min_fit_rest_s: float = 0.5  # rests this long teach the sensor-error fit (turnarounds are shorter)
    prior_bias_mps2: float = 0.3  # typical size of a MEMS accelerometer's bias...
    prior_scale_error: float = 0.03  # ...and of its per-axis scale error
    equation_noise: float = 0.02  # m/s^2 at rest, m/s over a stretch
    lobe_tolerance_s: float = 0.15  # a lobe's middle this close to a rest is in it
    anchor_window_s: float = 0.3  # a reversal's zero velocity is searched this close to its lobe
    anchor_speed_mps: float = 0.06  # ...and only taken if the fitted velocity is this slow there
    # Only a set this long has a "typical" rep to compare its ends with. Three: a heavy set of two
    # with a set-up move read as a third has two alike to judge it by.
    outlier_min_reps: int = 3
    outlier_return_fraction: float = 0.3  # a rep's second half comes back at least this share...
    outlier_size_range: tuple[float, float] = (0.4, 2.5)  # ...and its size is within this of typical
    outlier_rush_fraction: float = 0.3  # ...and its eccentric is not quicker than this share of typical...
    outlier_speed_factor: float = 2.5  # ...and neither movement peaks faster than this many times typical
    # A set is one run of reps: a "rep" further from the run than this is the walk to the rack or the
    # fidgeting after it (the gap is also at least set_gap_min_s).
    set_gap_rep_durations: float = 3.0
    set_gap_min_s: float = 8.0
    busy_gap_fraction: float = 0.5  # a gap whose rms speed is this share of the reps' is no break...
    busy_gap_max_factor: float = 3.0  # ...unless it is this many times longer than a long gap
    min_set_reps: int = 3  # a recording of several sets: a run is a set of its own with this many reps
    min_set_fraction: float = 0.3  # ...and this share of the biggest run's...
    set_cadence_factor: float = 1.5  # ...and reps at most this much further apart than its reps...
    min_set_range_fraction: float = 0.6  # ...and at least this share of its reps' range of motion
    cruise_phase_s: float = 2.0  # movement phases this long have a constant-speed cruise...
    fit_phase_s: float = 2.5  # ...and from this long their accelerations are small enough to fit errors


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) index ranges where flags is True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _velocity_steps(t_s: FloatArray, acc_mps2: FloatArray, gap_s: float) -> FloatArray:
    """Trapezoidal velocity increments; nothing is known across a gap."""
    dt = time_steps(t_s, None)
    steps = 0.5 * (acc_mps2 + np.concatenate([acc_mps2[:1], acc_mps2[:-1]])) * dt
    steps[dt > gap_s] = 0.0
    return np.asarray(steps)


def _moving_mean(t_s: FloatArray, v: FloatArray, window_s: float) -> FloatArray:
    """Mean of v over a window_s window centred on each sample, slid inwards near the ends so it always
    spans a whole window (a truncated window over real motion does not average to zero)."""
    dt = time_steps(t_s, None)
    cum = np.concatenate([[0.0], np.cumsum(v * dt)])
    half = min(window_s, float(t_s[-1] - t_s[0])) / 2
    centre = np.clip(t_s, t_s[0] + half, t_s[-1] - half)
    lo = np.searchsorted(t_s, centre - half)
    hi = np.searchsorted(t_s, centre + half, side="right") - 1
    span = t_s[hi] - t_s[lo]
    return np.where(span > 0, (cum[hi + 1] - cum[lo + 1]) / np.maximum(span, 1e-9), v)


def velocity_between_rests(t_s: FloatArray, steps: FloatArray, rest: np.ndarray, cycle_s: float,
                           open_ended: FloatArray, settings: RefineSettings) -> FloatArray:
    """Integrate each stretch between rests with zero velocity at both of its ends. Before the first
    rest and after the last only one end is known: a stretch there longer than a few rep cycles (a
    recording that starts or stops mid-set) is integrated from its known end and loses its per-cycle
    mean; a shorter one keeps `open_ended` (the live velocity)."""
    n = len(t_s)
    v = np.zeros(n)
    for lo, hi in _runs(~rest):
        gained = np.cumsum(steps[lo:hi])
        if lo > 0 and hi < n:
            residual = gained[-1] + steps[hi]  # what is left at the next rest is error
            share = (t_s[lo:hi] - t_s[lo - 1]) / max(t_s[hi] - t_s[lo - 1], 1e-9)
            stretch = gained - residual * share
        elif lo > 0:
            stretch = gained
        elif hi < n:
            stretch = gained - (gained[-1] + steps[hi])
        else:
            stretch = np.asarray(open_ended[lo:hi], dtype=float)
        long_stretch = t_s[min(hi, n - 1)] - t_s[max(lo - 1, 0)] > settings.long_stretch_cycles * cycle_s
        if cycle_s > 0 and long_stretch:
            stretch = stretch - _moving_mean(t_s[lo:hi], stretch, cycle_s)
        elif lo == 0 or hi == n:
            stretch = open_ended[lo:hi]
        v[lo:hi] = stretch
    return v


def error_regressors(up_in_sensor: FloatArray) -> FloatArray:
    """Per sample, what the accelerometer's own errors add to the vertical acceleration, per unit of
    each error. A sensor-frame bias b reads as up.b; scale and cross-axis errors (a symmetric matrix M)
    read as g * up.M.up. Both change as the sensor tilts during the rep, so no single offset removes
    them."""
    g = STANDARD_GRAVITY
    x, y, z = up_in_sensor[:, 0], up_in_sensor[:, 1], up_in_sensor[:, 2]
    quadratic = g * np.column_stack([x * x, y * y, z * z, 2 * x * y, 2 * x * z, 2 * y * z])
    return np.hstack([up_in_sensor, quadratic])


def zero_velocity_points(rest: np.ndarray, turnarounds: list[int]) -> list[int]:
    """Sample indices where the velocity is known to be zero: both ends of each rest, and every
    turnaround outside a rest."""
    points = [i for lo, hi in _runs(rest) for i in (lo, hi - 1)]
    points += [i for i in turnarounds if not rest[i]]
    return sorted(set(points))


def sensor_error_fit(t_s: FloatArray, acc_mps2: FloatArray, regressors: FloatArray, rest: np.ndarray,
                     turnarounds: list[int], settings: RefineSettings) -> FloatArray:
    """The accelerometer's errors (see error_regressors), fitted by ridge regression towards a perfect
    sensor from what the lift guarantees: the acceleration is zero at rest, and the velocity is zero
    at every rest and turnaround, so nothing is gained between two of them."""
    dt = time_steps(t_s, None)
    rows: list[FloatArray] = []
    rhs: list[float] = []
    for lo, hi in _runs(rest):
        if t_s[hi - 1] - t_s[lo] >= settings.min_fit_rest_s:
            rows.append(regressors[lo:hi].mean(axis=0))
            rhs.append(float(acc_mps2[lo:hi].mean()))
    points = zero_velocity_points(rest, turnarounds)
    if len(points) >= 2:
        # What is gained from one point to the next: sums over (i, j], all at once (a zero row at the
        # end lets the last sum stop at the last sample).
        starts = np.asarray(points) + 1
        gained_x = np.add.reduceat(np.vstack([regressors * dt[:, None], np.zeros((1, 9))]), starts, axis=0)
        gained_a = np.add.reduceat(np.append(acc_mps2 * dt, 0.0), starts)
        for k, (i, j) in enumerate(itertools.pairwise(points)):
            if rest[i : j + 1].all():
                continue  # the same rest
            rows.append(gained_x[k])
            rhs.append(float(gained_a[k]))
    if not rows:
        return np.zeros(len(t_s))
    a = np.array(rows) / settings.equation_noise
    y = np.array(rhs) / settings.equation_noise
    prior = np.diag([1 / settings.prior_bias_mps2**2] * 3 + [1 / settings.prior_scale_error**2] * 6)
    weights = np.ones(len(y))
    theta: FloatArray = np.zeros(a.shape[1])
    # Some "zero velocity" points will be wrong (a cruise taken for a rest, a lobe that was not a
    # reversal): reweight them away (Tukey's biweight on the residuals).
    for _ in range(6):
        aw = a * weights[:, None]
        theta = np.asarray(np.linalg.solve(aw.T @ a + prior, aw.T @ y), dtype=float)
        residual = y - a @ theta
        scale = max(1.4826 * float(np.median(np.abs(residual))), 1.0)
        weights = np.clip(1 - (residual / (4.685 * scale)) ** 2, 0.0, None) ** 2
    return np.asarray(regressors @ theta)


def _pauses_found(t_s: FloatArray, v: FloatArray, quiet: np.ndarray, rest: np.ndarray,
                  settings: RefineSettings) -> np.ndarray:
    """Quiet stretches, not yet rests, where the refined speed says the bar really stopped."""
    found = np.zeros(len(t_s), dtype=bool)
    speed = np.abs(v)
    for lo, hi in _runs(quiet & ~rest):
        if t_s[hi - 1] - t_s[lo] < settings.min_pause_s:
            continue
        near_lo = np.searchsorted(t_s, t_s[lo] - settings.neighbourhood_s)
        near_hi = np.searchsorted(t_s, t_s[hi - 1] + settings.neighbourhood_s, side="right")
        peak = float(speed[near_lo:near_hi].max())
        limit = min(settings.pause_speed_mps, settings.pause_speed_fraction * peak)
        if float(speed[lo:hi].max()) < limit:
            found[lo:hi] = True
    return found


def reversal_anchors(t_s: FloatArray, v: FloatArray, turns: list[int], settings: RefineSettings
                     ) -> np.ndarray:
    """The sample nearest each reversal lobe where the velocity is slowest, if it is slow enough to be
    the reversal itself (a sticking point mid-movement also makes a lobe, but not a slow one)."""
    out = np.zeros(len(t_s), dtype=bool)
    for i in turns:
        lo = int(np.searchsorted(t_s, t_s[i] - settings.anchor_window_s))
        hi = int(np.searchsorted(t_s, t_s[i] + settings.anchor_window_s, side="right"))
        k = lo + int(np.argmin(np.abs(v[lo:hi])))
        if abs(v[k]) < settings.anchor_speed_mps:
            out[k] = True
    return out


def _widen_to_window(t_s: FloatArray, quiet: np.ndarray, window_s: float) -> np.ndarray:
    """The tracker flags quiet once a whole window behind a sample was quiet: the quiet began a
    window earlier than the flag."""
    out = quiet.copy()
    for lo, _ in _runs(quiet):
        start = int(np.searchsorted(t_s, t_s[lo] - window_s))
        out[start:lo] = True
    return out


IMPACT_S = 0.15  # an impact's ring dies out within about this long...
IMPACT_MPS2 = 2.0  # ...and stands this far off the acceleration around it
PAUSE_AT = {1: Phase.BOTTOM_PAUSE, -1: Phase.TOP_PAUSE}  # the pause a reversal lobe's sign stands for
SLOW_FACTOR = 1.5  # a movement (and its pause) may last this many times its nominal time
PAUSE_LOBES_SLACK_S = 2.0  # the brake and push lobes' middles lie within a second outside their pause
Lobe = tuple[int, int]  # (sample index of a lobe's middle, sign of its acceleration)
Span = tuple[float, float]  # seconds


def without_impacts(acc_mps2: FloatArray, rate_hz: float) -> FloatArray:
    """The acceleration with impacts taken out: a bar or the hips meeting the floor ring for a fraction
    of a second, and sampled, a ring need not average to zero, so it can pass for a lobe. Samples far
    (IMPACT_MPS2) from their running median over IMPACT_S, and their neighbours, take the median's
    value; a lift's own accelerations are broad enough for the median to follow them."""
    width = 2 * round(IMPACT_S * rate_hz / 2) + 1
    if width < 3 or len(acc_mps2) < width:
        return acc_mps2
    local = median_filter(acc_mps2, size=width, mode="nearest")
    spike = np.abs(acc_mps2 - local) > IMPACT_MPS2
    if not spike.any():
        return acc_mps2
    spike = np.convolve(spike, np.ones(width), mode="same") > 0
    return np.where(spike, local, acc_mps2)


def zero_phase_lowpass(t_s: FloatArray, x: FloatArray, cutoff_hz: float) -> FloatArray | None:
    """x (samples along the first axis) low-passed forwards and back, so without lag, at cutoff_hz; None
    where the stretch is too short (under 32 samples) or sampled too slowly for that cutoff."""
    rate_hz = estimate_rate_hz(t_s) if len(t_s) >= 32 else 0.0
    if cutoff_hz >= 0.45 * rate_hz:
        return None
    return np.asarray(sosfiltfilt(butter(2, cutoff_hz, fs=rate_hz, output="sos"), x, axis=0))


def acceleration_lobes(t_s: FloatArray, acc_mps2: FloatArray, cycle_s: float, rom_m: float) -> list[Lobe]:
    """The broad lobes of acceleration that start, reverse and stop each movement. The accelerometer's
    tilt-dependent errors scale these lobes but barely move them, so they hold where the integrated
    velocity has drifted."""
    cutoff_hz = float(np.clip(3.0 / max(cycle_s, 1e-3), 0.3, 1.5))
    despiked = without_impacts(acc_mps2, estimate_rate_hz(t_s))
    smooth = zero_phase_lowpass(t_s, despiked - np.median(despiked), cutoff_hz)
    if smooth is None:
        return []
    # A sinusoid over the range of motion at the tempo's pace: the size of lobe to expect.
    expected = 0.5 * rom_m * (2 * np.pi / max(cycle_s, 1e-3)) ** 2
    # A lobe stands out from its neighbours and lies on its own side of zero: a pause between the
    # brake and the push is a dip between two lobes of one sign, not a lobe of the other.
    ups, _ = find_peaks(smooth, prominence=0.5 * expected, height=0.25 * expected)
    downs, _ = find_peaks(-smooth, prominence=0.5 * expected, height=0.25 * expected)
    return sorted([(i, 1) for i in ups.tolist()] + [(i, -1) for i in downs.tolist()])


def reversals(lobes: list[Lobe], push_sign: int) -> list[int]:
    """Lobes where the lift reverses (velocity zero in their middle). The push that starts the set and
    the brake that ends it are lobes too, both of `push_sign` (-1 for a lift that starts with its
    eccentric, +1 for one that starts with its concentric); a reversal has lobes of the other sign
    right before and after it. Two lobes of one sign in a row are the brake and the push around a
    pause, where the velocity is zero between the lobes, not in them. A first or last lobe of the other
    sign is a reversal whose push or brake was too gentle to show."""
    signs = [sign for _, sign in lobes]
    last = len(lobes) - 1

    def is_reversal(k: int, sign: int) -> bool:
        before = signs[k - 1] == -sign if k > 0 else sign != push_sign
        after = signs[k + 1] == -sign if k < last else sign != push_sign
        return before and after

    return [i for k, (i, sign) in enumerate(lobes) if is_reversal(k, sign)]


def brake_push_pairs(lobes: list[Lobe]) -> list[tuple[int, int, int]]:
    """(brake, push, sign) of each reversal through a pause: a brake and a push of one sign in a row,
    with lobes of the other sign somewhere before and after them (the movements into and out of the
    pause)."""
    signs = [sign for _, sign in lobes]
    return [(i, j, sign) for k, ((i, sign), (j, next_sign)) in enumerate(itertools.pairwise(lobes))
            if sign == next_sign and -sign in signs[:k] and -sign in signs[k + 2 :]]


def paused_reversals(lobes: list[Lobe]) -> list[Lobe]:
    """Reversals through a pause (brake_push_pairs), each placed midway between its brake and its push,
    inside the pause."""
    return [((brake + push) // 2, sign) for brake, push, sign in brake_push_pairs(lobes)]


def steady_between_lobes(t_s: FloatArray, acc_mps2: FloatArray, lobes: list[Lobe], paused_signs: set[int],
                         lowpass_hz: float, steady_mps2: float, min_s: float) -> np.ndarray:
    """Quiet inside each reversal through a pause (brake_push_pairs) where the tempo programs a pause
    (paused_signs: +1 at the bottom, -1 at the top): the longest stretch between its brake and its
    push where the low-passed acceleration stays within steady_mps2 of its median there. Judged on
    change, not level, so a stale accelerometer offset (the sensor tilted since it was learned) cannot
    hide the pause the way it hides it from the live tracker. (Where no pause is programmed, two lobes
    of one sign are more often a wobble in a slow movement than a pause.)"""
    out = np.zeros(len(t_s), dtype=bool)
    smooth = zero_phase_lowpass(t_s, acc_mps2, lowpass_hz)
    if smooth is None:
        return out
    for i, j, sign in brake_push_pairs(lobes):
        if sign not in paused_signs:
            continue
        between = smooth[i:j]
        runs = _runs(np.abs(between - np.median(between)) < steady_mps2)
        if not runs:
            continue
        lo, hi = max(runs, key=lambda run: run[1] - run[0])
        if t_s[i + hi - 1] - t_s[i + lo] >= min_s:
            out[i + lo : i + hi] = True
    return out


def set_span(t_s: FloatArray, lobes: list[Lobe], push_sign: int, tempo: TempoCode) -> Span | None:
    """A span surely inside the set: from half a movement and a pause before its first reversal
    (through a pause or not) to half a movement and a pause after its last. (The push that starts a
    set and the brake that ends it may be too gentle to show as lobes, or a wobble may pass for them;
    the reversals and the tempo are steadier guides.)"""
    sign_of = dict(lobes)
    paused = paused_reversals(lobes)
    sign_of.update(paused)
    turns = sorted([*reversals(lobes, push_sign), *(i for i, _ in paused)])
    if not turns:
        return None
    # A lobe towards the concentric turns an eccentric into a concentric through the bottom pause,
    # and the other way round through the top pause. Only one lobe of a paused reversal may show, at
    # either end of the pause: the margin holds the whole pause.
    before = {1: Phase.ECCENTRIC, -1: Phase.CONCENTRIC}
    after = {1: Phase.CONCENTRIC, -1: Phase.ECCENTRIC}
    first, last = sign_of[turns[0]], sign_of[turns[-1]]
    first_s, last_s = float(t_s[turns[0]]), float(t_s[turns[-1]])
    move_before, pause_before = tempo.nominal_s(before[first]), tempo.nominal_s(PAUSE_AT[first])
    move_after, pause_after = tempo.nominal_s(after[last]), tempo.nominal_s(PAUSE_AT[last])
    start = first_s - 0.5 * move_before - pause_before
    end = last_s + 0.5 * move_after + pause_after
    # The push of the set's first movement, where it shows and is no further off than a slow lifter's
    # movement, starts the set for sure (a slow eccentric can outlast its nominal time by half).
    earliest = first_s - SLOW_FACTOR * (move_before + pause_before)
    latest = last_s + SLOW_FACTOR * (move_after + pause_after)
    lobe_s = [(float(t_s[i]), sign) for i, sign in lobes]
    pushes = [t for t, sign in lobe_s if sign == -first and earliest <= t < first_s]
    brakes = [t for t, sign in lobe_s if sign == -last and last_s < t <= latest]
    return min([start, *pushes[-1:]]), max([end, *brakes[:1]])


def outside_set(t_s: FloatArray, rest: np.ndarray, span: Span | None) -> np.ndarray:
    """The rests wholly before or after the set's span."""
    if span is None:
        return rest.copy()
    out = rest.copy()
    out[(t_s >= span[0]) & (t_s <= span[1])] = False
    return out


def _between_brake_and_push(t_s: FloatArray, lo: int, hi: int, pauses: list[tuple[int, int]],
                            tolerance_s: float) -> tuple[int, int] | None:
    """The part [lo', hi') of the quiet stretch [lo, hi) that lies between the brake and the push of
    a paused reversal (`pauses`: their sample indices, see brake_push_pairs), within tolerance; None if
    there is none. The brake's or the push's middle may fall just inside the quiet or just outside it:
    either way the pause is all of the quiet between them, not a stretch centred on one of them."""
    for brake, push in pauses:  # (in time order)
        if brake >= hi - 1:
            break
        if push > lo:
            start = max(lo, int(np.searchsorted(t_s, t_s[brake] - tolerance_s)))
            end = min(hi, int(np.searchsorted(t_s, t_s[push] + tolerance_s, side="right")))
            return start, end
    return None


def trusted_rests(t_s: FloatArray, candidates: np.ndarray, lobes: list[Lobe], span: Span | None,
                  tolerance_s: float, longest_pause_s: dict[int, float] | None = None) -> np.ndarray:
    """The candidate rests that cannot be a slow cruise. A cruise lies between the push that started
    it and the brake that ends it, lobes of opposite signs; a pause lies between a brake and a push
    the other way (the same sign) or holds a reversal's lobe; a rest before or after the set is safe.
    A pause held around a reversal's lobe lasts no longer than longest_pause_s[sign of the lobe] (+1:
    the bottom, -1: the top) when given: quiet further out is the movements' slow ends."""
    if not lobes:
        return candidates.copy()
    out = np.zeros(len(candidates), dtype=bool)
    lobe_t = t_s[[i for i, _ in lobes]]
    signs = [sign for _, sign in lobes]
    # Reversals through a pause the tempo programs: all the quiet between their brake and push is rest.
    # (Not when the brake comes far longer before the push than the pause lasts: a movement's start
    # and end were too gentle to make lobes, and the "pause" would hold all of its cruise.)
    pauses = [(brake, push) for brake, push, sign in brake_push_pairs(lobes)
              if longest_pause_s is None or (
                  longest_pause_s[sign] > 0.0
                  and t_s[push] - t_s[brake] <= longest_pause_s[sign] + PAUSE_LOBES_SLACK_S)]
    for lo, hi in _runs(candidates):
        first_inside = int(np.searchsorted(lobe_t, t_s[lo] - tolerance_s))
        first_after = int(np.searchsorted(lobe_t, t_s[hi - 1] + tolerance_s, side="right"))
        holds_lobe = first_after > first_inside
        if span is None:
            outside = first_inside == 0 or first_after == len(lobes)
        else:
            outside = t_s[hi - 1] <= span[0] or t_s[lo] >= span[1]
        paused = _between_brake_and_push(t_s, lo, hi, pauses, tolerance_s)
        if outside:
            out[lo:hi] = True
        elif paused is not None:
            out[paused[0] : paused[1]] = True
        elif holds_lobe:
            # A pause is centred on its reversal; quiet that runs on to one side is the next
            # movement's slow start, or the last one's slow end.
            middle = float(lobe_t[first_inside:first_after].mean())
            half_s = min(middle - t_s[lo], t_s[hi - 1] - middle)
            if longest_pause_s is not None:
                half_s = min(half_s, 0.5 * longest_pause_s[signs[first_inside]])
            half_s += tolerance_s
            lo = max(lo, int(np.searchsorted(t_s, middle - half_s)))
            hi = min(hi, int(np.searchsorted(t_s, middle + half_s, side="right")))
            out[lo:hi] = True
        elif first_inside > 0 and first_after < len(lobes) and signs[first_inside - 1] == signs[first_after]:
            out[lo:hi] = True
    return out


def fits_sensor_errors(tempo: TempoCode, vertical: bool, ahrs: bool, settings: RefineSettings | None = None
                       ) -> bool:
    """Does refine_translation fit the accelerometer's errors (when allowed to) for this lift?"""
    s = settings or RefineSettings()
    slowest_phase_s = max(tempo.nominal_s(Phase.ECCENTRIC), tempo.nominal_s(Phase.CONCENTRIC))
    return slowest_phase_s >= s.fit_phase_s and vertical and ahrs


def refine_translation(frame: MotionFrame, tempo: TempoCode, rom_m: float, vertical: bool, ahrs: bool,
                       eccentric_first: bool = True, settings: RefineSettings | None = None,
                       fit_errors: bool = True) -> MotionFrame | None:
    """The frame with refined velocity, position and rests; None when the frame lacks what refinement
    needs (no trace, or no rest anywhere to anchor the velocity) or refinement fared worse than the
    live estimate (its position wandered off further than any lift goes).

    ahrs: "up" came from an AHRS. Up from a low-passed accelerometer (a gravity frame, no gyro) moves
    with the lift itself, and the sensor-error fit, which regresses on up, would explain the lift away:
    it is left out. The acceleration lobes and the cruise test are used either way."""
    s = settings or RefineSettings()
    trace = frame.trace
    if trace is None or len(frame) < 2:
        return None
    cycle_s = tempo.rep_duration_s
    push_sign = -1 if eccentric_first else 1  # the acceleration's sign as the set's first movement starts
    slowest_phase_s = max(tempo.nominal_s(Phase.ECCENTRIC), tempo.nominal_s(Phase.CONCENTRIC))
    t_s = frame.t_s
    live_rest = frame.still.astype(bool)
    quiet = _widen_to_window(t_s, trace.quiet.astype(bool), s.rest_window_s) | live_rest
    acc = trace.acceleration
    rest = live_rest
    lobes: list[Lobe] = []
    turns: list[int] = []
    span: Span | None = None
    longest_pause_s: dict[int, float] | None = None
    slow = slowest_phase_s >= s.cruise_phase_s
    fit_sensor_errors = fit_errors and fits_sensor_errors(tempo, vertical, ahrs, s)
    if slow:
        # Phases this slow cruise at constant speed, which the live tracker may have taken for rest,
        # and their accelerations are small enough for the accelerometer's errors to matter.
        lobes = acceleration_lobes(t_s, acc, cycle_s, rom_m)
        span = set_span(t_s, lobes, push_sign, tempo)
        long_quiet = np.zeros(len(t_s), dtype=bool)
        for lo, hi in _runs(quiet):
            long_quiet[lo:hi] = t_s[hi - 1] - t_s[lo] >= s.min_fit_rest_s
        pause_s = {sign: tempo.nominal_s(pause) for sign, pause in PAUSE_AT.items()}
        paused_signs = {sign for sign, nominal_s in pause_s.items() if nominal_s >= s.min_fit_rest_s}
        pauses = steady_between_lobes(t_s, acc, lobes, paused_signs, s.quiet_lowpass_hz, s.quiet_acc_mps2,
                                      s.min_fit_rest_s)
        pauses &= ~outside_set(t_s, pauses, span)  # around the set, trusted_rests trusts any quiet
        longest_pause_s = {sign: SLOW_FACTOR * nominal_s for sign, nominal_s in pause_s.items()}
        rest = trusted_rests(t_s, live_rest | long_quiet | pauses, lobes, span, s.lobe_tolerance_s,
                             longest_pause_s)
        turns = reversals(lobes, push_sign)
        if fit_sensor_errors:
            # Zero acceleration is only certain outside the set: a slow reversal is quiet but still
            # accelerating. Zero velocity is certain there and at every reversal.
            regressors = error_regressors(trace.up_in_sensor)
            still = outside_set(t_s, rest, span)
            acc = acc - sensor_error_fit(t_s, acc, regressors, still, turns, s)
    if not rest.any():
        return None
    steps = _velocity_steps(t_s, acc, s.gap_s)
    v = velocity_between_rests(t_s, steps, rest, cycle_s, frame.velocity, s)
    anchors = np.zeros(len(t_s), dtype=bool)
    if fit_sensor_errors:
        # With the sensor's errors fitted, the velocity is near zero at each reversal: pin it there, so
        # drift cannot build up over a long set without rests.
        anchors = reversal_anchors(t_s, v, turns, s)
        v = velocity_between_rests(t_s, steps, rest | anchors, cycle_s, frame.velocity, s)
    for _ in range(s.rounds):
        found = _pauses_found(t_s, v, quiet, rest, s)
        if lobes:
            found = trusted_rests(t_s, found, lobes, span, s.lobe_tolerance_s, longest_pause_s)
        if not found.any():
            break
        rest = rest | found
        v = velocity_between_rests(t_s, steps, rest | anchors, cycle_s, frame.velocity, s)
    dt = time_steps(t_s, None)
    position = np.cumsum(0.5 * (v + np.concatenate([v[:1], v[:-1]])) * dt)
    wandered_m = float(np.ptp(position))
    if wandered_m > lost_excursion_m(rom_m) and wandered_m > float(np.ptp(frame.position)):
        return None
    return MotionFrame(t_s, position, v, rest, frame.unit, trace)


def with_tempo_sign(frame: MotionFrame, tempo: TempoCode, reps: list[Rep], faster_by: float = 1.5
                    ) -> MotionFrame:
    """A horizontal lift's frame signed by its speeds: which way a row's handle travels is no fact of
    gravity, and the live sign comes from the first real move, which may have been the lifter settling
    in. Where the tempo makes one movement clearly faster (faster_by, as 31X0 or 4212 do), the set's
    fastest movements go that way: the velocity's cubed sum over the reps found live (read either way
    round, they still span the set; letting go of the handle after it is fast too) must have the
    concentric's sign."""
    concentric_s, eccentric_s = tempo.nominal_s(Phase.CONCENTRIC), tempo.nominal_s(Phase.ECCENTRIC)
    if eccentric_s >= faster_by * concentric_s:
        expected = 1.0
    elif concentric_s >= faster_by * eccentric_s:
        expected = -1.0
    else:
        return frame
    dt = time_steps(frame.t_s, None)
    inside = np.ones(len(frame), dtype=bool)
    if len(reps) >= 2:
        inside = (frame.t_s >= reps[0].start_s) & (frame.t_s <= reps[-1].end_s)
    if expected * float(np.sum(frame.velocity[inside] ** 3 * dt[inside])) >= 0.0:
        return frame
    trace = frame.trace
    flipped_trace = replace(trace, acceleration=-trace.acceleration) if trace is not None else None
    return replace(frame, position=-frame.position, velocity=-frame.velocity, trace=flipped_trace)


def with_set_sign(frame: MotionFrame, moving_radps: float = 0.5,
                  reps_span_s: tuple[float, float] | None = None) -> MotionFrame | None:
    """A rotation lift's frame with every sample signed one way; None when the sign never changed.
    The way is the one the tracker read the set's reps with (given their span): its sign evidence
    forgets within a few seconds, so where it wavered, the sign held over most of the reps' turning
    wins, not the last word, which handling the weights after the set may have said. Without the span
    (or on a tie), the sign the last movement faster than moving_radps was read with (a slow turn of
    the wrist after the set is no evidence)."""
    if frame.sign is None or not len(frame):
        return None
    moving = np.abs(frame.velocity) >= moving_radps
    final = float(frame.sign[np.flatnonzero(moving)[-1] if moving.any() else -1])
    if reps_span_s is not None:
        inside = moving & (frame.t_s >= reps_span_s[0]) & (frame.t_s <= reps_span_s[1])
        vote = float(np.sum(frame.sign[inside] * np.abs(frame.velocity[inside])))
        final = float(np.sign(vote)) if vote != 0.0 else final
    flip = frame.sign * final  # +1 where the sample already had the final sign, -1 where not
    if (flip > 0).all():
        return None
    return replace(frame, position=frame.position * flip, velocity=frame.velocity * flip,
                   sign=np.full(len(frame), final))


def about_set_axis(frame: MotionFrame, cycle_s: float, lowpass_hz: float, min_rate_radps: float,
                   settled_deg: float = 20.0, lookback_cycles: float = 1.5,
                   reps_span_s: tuple[float, float] | None = None) -> MotionFrame | None:
    """A rotation lift's frame with the set's sign (with_set_sign), and the reps just before the live
    axis settled read again about the rotation axis of the whole set; None when neither changes
    anything. Live, the axis is learned as the set goes: until then a first rep is read about the axis
    of whatever the lifter did before it and can look far too small. The set's axis is the principal
    axis of the low-passed gyro wherever it turns faster than min_rate_radps, as the tracker learns it;
    the reps make most of that turning. Once the live axis is within settled_deg of it, the live
    reading stands; more than lookback_cycles rep cycles before that, it stands too (handling the
    weights before the set turns about the set's axis as well, but it is no rep)."""
    live = with_set_sign(frame, reps_span_s=reps_span_s) or frame
    unchanged = live if live is not frame else None
    trace = frame.rotation
    if trace is None or (smooth := zero_phase_lowpass(frame.t_s, trace.gyro_radps, lowpass_hz)) is None:
        return unchanged
    turning = smooth[np.linalg.norm(smooth, axis=1) > min_rate_radps]
    if len(turning) < 3:
        return unchanged
    axis = principal_axis(turning.T @ turning)
    close = np.abs(trace.axis @ axis) >= math.cos(math.radians(settled_deg))
    # (A live axis that never came close read the whole set wrong: all of it is read again.)
    settled = int(np.argmax(close)) if close.any() else len(frame)
    first = 0 if settled == len(frame) else int(
        np.searchsorted(frame.t_s, frame.t_s[settled] - lookback_cycles * cycle_s))
    if settled <= first:
        return unchanged
    span = slice(first, settled)
    rate = trace.gyro_radps[span] @ axis
    rate[frame.still[span].astype(bool)] = 0.0
    # Which way is the concentric: as the live signal reads it where the axis settled (or, if it never
    # did, over the stretch read again).
    agree = slice(settled, None) if settled < len(frame) else span
    if float((trace.gyro_radps[agree] @ axis) @ live.velocity[agree]) < 0.0:
        rate = -rate
    dt = time_steps(frame.t_s, None)[span]
    position = live.position.copy()
    position[span] = position[first] + np.cumsum(rate * dt) - rate[0] * dt[0]
    if settled < len(frame):
        position[settled:] += position[settled - 1] - live.position[settled - 1]
    velocity = live.velocity.copy()
    velocity[span] = rate
    return replace(live, position=position, velocity=velocity)


def smoothed_for_tempo(frame: MotionFrame, tempo: TempoCode, cycles_per_phase: float = 2.0,
                       max_cutoff_hz: float = 1.5) -> MotionFrame | None:
    """A rotation lift's rate and angle low-passed forwards and back at cycles_per_phase over the
    tempo's quicker movement phase: a wrist wobbles 0.1-1 Hz about every axis, the rotation's too,
    and at a slow tempo that wobble can stop a movement halfway. Zero-phase smoothing leaves a ramp
    that takes a good part of the phase where it was, so edges extrapolated along it stay put (a
    ramp over 1.5 s of a 4 s phase: within 0.05 s; a 0.5 s one starts 0.3 s early). None for tempos
    quick enough to need more than max_cutoff_hz."""
    quicker_s = min(tempo.nominal_s(Phase.ECCENTRIC), tempo.nominal_s(Phase.CONCENTRIC))
    cutoff_hz = cycles_per_phase / quicker_s
    if cutoff_hz > max_cutoff_hz:
        return None
    velocity = zero_phase_lowpass(frame.t_s, frame.velocity, cutoff_hz)
    position = zero_phase_lowpass(frame.t_s, frame.position, cutoff_hz)
    if velocity is None or position is None:
        return None
    return replace(frame, velocity=velocity, position=position)


def _peak_speeds(rep: Rep, frame: MotionFrame) -> tuple[float, float]:
    """The rep's peak speed up (concentric) and down (eccentric), in the frame's unit per second."""
    peaks = []
    for phase, sign in ((Phase.CONCENTRIC, 1.0), (Phase.ECCENTRIC, -1.0)):
        span = rep.span(phase)
        lo, hi = (np.searchsorted(frame.t_s, [span.start_s, span.end_s]) if span is not None else (0, 0))
        peaks.append(float(np.max(sign * frame.velocity[lo:hi], initial=0.0)))
    return peaks[0], peaks[1]


def _tempo_speedup(reps: list[Rep], phase: Phase, tempo: TempoCode | None) -> float:
    """How much quicker the tempo asks for the phase than the set's reps took it (at least 1)."""
    if tempo is None:
        return 1.0
    return max(1.0, float(np.median([rep.duration_of(phase) for rep in reps])) / tempo.nominal_s(phase))


def _halves(rep: Rep, frame: MotionFrame) -> tuple[float, float]:
    """How far the rep's first movement went, and how far the second came back."""
    middle = rep.phases[2].start_s if len(rep.phases) >= 3 else rep.phases[0].end_s
    start, turn, end = np.interp([rep.start_s, middle, rep.phases[-1].start_s], frame.t_s, frame.position)
    return abs(float(turn - start)), abs(float(end - turn))


# Reps this many times slower, or quicker, than the tempo's set the pace instead. Quicker needs more:
# live reads a slow phase short more often than long.
SLOWER_PACE_FACTOR = 1.5
QUICKER_PACE_FACTOR = 2.0
PAUSE_PACE_SLACK_S = 0.75  # pauses held this much longer than twice their target set theirs


def set_pace(reps: list[Rep], tempo: TempoCode, min_reps: int = 3) -> TempoCode:
    """The tempo a set was lifted at, as far as its reps show; the tempo itself where they keep it.
    Refinement and the post-set detector take what they expect (how long a movement, a pause and a
    rep last, how hard a movement accelerates) from it, so the reps of a lifter who ignored the tempo
    are still found; the report still judges them against the programmed tempo.
    - Movements: where the reps' movements (eccentric and concentric together, median over the reps)
      took far longer or shorter than the tempo's (SLOWER_PACE_FACTOR, QUICKER_PACE_FACTOR), each
      timed one at its median duration. The gate is on whole reps: live readings of one phase are
      often off by half (a slow eccentric read short, or, before a horizontal lift's sign is known,
      the phases swapped), while a lifter who ignores the tempo is off on the whole rep.
    - Pauses: at their median where that is far longer than the target (twice it and
      PAUSE_PACE_SLACK_S more: a lifter holding a pause the tempo has not got). Not shorter: live
      often reads through a pause that was held.
    Explosive phases stay explosive."""
    if len(reps) < min_reps:
        return tempo

    def median_s(phase: Phase) -> float:
        return float(np.median([rep.duration_of(phase) for rep in reps]))

    movements = (Phase.ECCENTRIC, Phase.CONCENTRIC)
    moving_s = float(np.median([sum(rep.duration_of(phase) for phase in movements) for rep in reps]))
    nominal_s = sum(tempo.nominal_s(phase) for phase in movements)
    off_pace = not nominal_s / QUICKER_PACE_FACTOR <= moving_s <= nominal_s * SLOWER_PACE_FACTOR
    paced: dict[Phase, float | None] = {}
    for phase in Phase:
        target_s = tempo.target_s(phase)
        if phase in movements:
            paced[phase] = median_s(phase) if off_pace and target_s is not None else target_s
        else:
            held_s = median_s(phase)
            paced[phase] = held_s if held_s > 2 * tempo.nominal_s(phase) + PAUSE_PACE_SLACK_S else target_s
    return TempoCode(eccentric_s=paced[Phase.ECCENTRIC], bottom_pause_s=paced[Phase.BOTTOM_PAUSE],
                     concentric_s=paced[Phase.CONCENTRIC], top_pause_s=paced[Phase.TOP_PAUSE])


def the_set_run(reps: list[Rep], frame: MotionFrame | None = None, settings: RefineSettings | None = None
                ) -> list[Rep]:
    """The set's own run of reps: of the runs (rep_runs), the one with the most lifting (_lifting; the
    earlier on a tie). Before and after a set the lifter walks, re-racks and fidgets, and some of that
    looks like reps; the set itself does not stop for several reps' time."""
    return max(rep_runs(reps, frame, settings), key=_lifting)


def separate_sets(reps: list[Rep], frame: MotionFrame | None = None, settings: RefineSettings | None = None
                  ) -> list[list[Rep]]:
    """A recording of several sets (a whole session on a watch): the runs that are sets of their own,
    in order. A set has at least min_set_reps reps and min_set_fraction of the biggest run's (the one
    with the most lifting, _lifting; warm-up sets are shorter than working sets), and keeps the
    biggest run's cadence and range of motion: the sets of one recording share a lift and a tempo,
    while the "reps" of a lifter moving about between sets are small and come at odd intervals.
    Always at least the set's own run (the_set_run)."""
    s = settings or RefineSettings()
    return sets_like_the_biggest(rep_runs(reps, frame, s), s) or [the_set_run(reps, frame, s)]


def sets_like_the_biggest(runs: list[list[Rep]], settings: RefineSettings | None = None) -> list[list[Rep]]:
    """Of runs of reps, in order, those that are sets of their own beside the biggest (the rule in
    separate_sets). Also for sets found in different stretches of a recording, refined apart."""
    s = settings or RefineSettings()
    if not runs:
        return []
    biggest = max(runs, key=_lifting)
    need = max(s.min_set_reps, s.min_set_fraction * len(biggest))
    slowest_s = s.set_cadence_factor * _cadence_s(biggest)
    alike = [run for run in runs if len(run) >= need and _cadence_s(run) <= slowest_s]
    if not alike:
        return []
    # The range of motion is held to the median set's, not the biggest's: refined ranges vary from set
    # to set by a third, and the set with the most lifting is often the one whose range came out big.
    smallest = s.min_set_range_fraction * float(np.median([_median_range(run) for run in alike]))
    return [run for run in alike if _median_range(run) >= smallest]


def recording_sets(found: list[list[Rep]], settings: RefineSettings | None = None) -> list[Rep]:
    """The reps of a whole recording from the sets found in its stretches (refined apart, each told
    from its own moving about only), held to the recording's biggest set as in separate_sets, and
    numbered: set_number per set, index through the recording."""
    if len(found) > 1:
        found = sets_like_the_biggest(found, settings) or [max(found, key=_lifting)]
    reps = [replace(rep, set_number=number) for number, one_set in enumerate(found, start=1)
            for rep in one_set]
    return [replace(rep, index=k + 1) for k, rep in enumerate(reps)]


def _lifting(run: list[Rep]) -> tuple[float, int]:
    """How much lifting a run of reps holds: its reps times their median range of motion (then its
    reps, where ranges are unknown). A lifter fidgeting after a set can make more "reps" than the set,
    but far smaller ones."""
    return len(run) * _median_range(run), len(run)


def _median_range(run: list[Rep]) -> float:
    return float(np.median([rep.range_of_motion for rep in run])) if run else 0.0


def _cadence_s(run: list[Rep]) -> float:
    """The median time from one rep's start to the next's."""
    return float(np.median(np.diff([rep.start_s for rep in run]))) if len(run) > 1 else math.inf


def rep_runs(reps: list[Rep], frame: MotionFrame | None = None, settings: RefineSettings | None = None
             ) -> list[list[Rep]]:
    """The "reps" split into runs by long gaps (at least set_gap_rep_durations reps' moving time). A
    "rep" that itself lasts that long (a long rest read as its pause) splits the runs and belongs to
    neither. With the motion at hand, a gap splits only if it was calmer than the reps: a gap that
    moves like the set is reps the detector missed, not a break."""
    s = settings or RefineSettings()
    if len(reps) < 2:
        return [reps]
    ends_s = [_moving_end_s(rep) for rep in reps]
    moving_s = [end - rep.start_s for rep, end in zip(reps, ends_s, strict=True)]
    gap_s = max(s.set_gap_min_s, s.set_gap_rep_durations * float(np.median(moving_s)))
    speed = _SpeedInSpans(frame)
    set_speed = speed.rms([(rep.start_s, end) for rep, end in zip(reps, ends_s, strict=True)])
    runs: list[list[Rep]] = [[]]
    last_end_s = -math.inf
    for rep, end_s, rep_moving_s in zip(reps, ends_s, moving_s, strict=True):
        long_gap = rep.start_s - last_end_s > gap_s
        # Reps the detector missed fill a few reps' time at most, not minutes (between the sets of a
        # session, a sensor knocked about in the rack can read as busy).
        busy = rep.start_s - last_end_s < s.busy_gap_max_factor * gap_s and set_speed > 0.0 and (
            speed.rms([(last_end_s, rep.start_s)]) > s.busy_gap_fraction * set_speed)
        if rep_moving_s > gap_s or (long_gap and not busy):
            runs.append([])
        if rep_moving_s <= gap_s:
            runs[-1].append(rep)
        last_end_s = end_s
    return [run for run in runs if run] or [[]]


def quietest_middle(frame: MotionFrame, from_s: float, to_s: float) -> int:
    """The sample in the middle of the longest still stretch between two times (their middle if the
    sensor never kept still): where a recording of several sets is cut between them."""
    lo, hi = (int(i) for i in np.searchsorted(frame.t_s, [from_s, to_s]))
    still = _runs(frame.still[lo:hi])
    if not still:
        return (lo + hi) // 2
    first, last = max(still, key=lambda run: run[1] - run[0])
    return lo + (first + last) // 2


class _SpeedInSpans:
    """RMS speed over any set of time spans, from running sums (one pass over the frame)."""

    def __init__(self, frame: MotionFrame | None) -> None:
        self._t = frame.t_s if frame is not None else np.zeros(0)
        v = frame.velocity if frame is not None else np.zeros(0)
        self._sum_sq = np.concatenate([[0.0], np.cumsum(v * v)])

    def rms(self, spans: list[tuple[float, float]]) -> float:
        if not len(self._t):
            return 0.0
        lo = np.searchsorted(self._t, [span[0] for span in spans], side="left")
        hi = np.searchsorted(self._t, [span[1] for span in spans], side="right")
        count = int(np.sum(hi - lo))
        return math.sqrt(float(np.sum(self._sum_sq[hi] - self._sum_sq[lo])) / count) if count else 0.0


def _moving_end_s(rep: Rep) -> float:
    """Where the rep's last movement ended (a final pause may last as long as the rest after it)."""
    return max((p.end_s for p in rep.phases if p.phase in (Phase.ECCENTRIC, Phase.CONCENTRIC)),
               default=rep.end_s)


def drop_edge_outliers(reps: list[Rep], frame: MotionFrame, settings: RefineSettings | None = None,
                       tempo: TempoCode | None = None) -> list[Rep]:
    """Keep the set's own run of reps (the_set_run), then drop a first or last "rep" that is not like
    the set's others: picking the bar up, walking it out or putting it down can look like a rep on its
    own, but it rarely comes back where it started, covers the set's range of motion, lowers the bar
    at the set's pace (or the tempo's, if given) or moves at the set's speeds. Reps inside the set are
    never dropped; the rest are renumbered."""
    s = settings or RefineSettings()
    reps = the_set_run(reps, frame, s)
    if len(reps) < s.outlier_min_reps or not len(frame):
        return [replace(rep, index=k + 1) for k, rep in enumerate(reps)]
    halves = [_halves(rep, frame) for rep in reps]
    typical = float(np.median([max(first, second) for first, second in halves]))

    # The typical eccentric: the set's median, or the tempo's if that is quicker (the median may hold
    # pauses read as part of the movement). Only far quicker is odd: lifters rush a last rep or two.
    eccentrics_s = [rep.duration_of(Phase.ECCENTRIC) for rep in reps]
    typical_eccentric_s = min(float(np.median(eccentrics_s)),
                              tempo.nominal_s(Phase.ECCENTRIC) if tempo is not None else math.inf)
    # The set's typical peak speed up and down, raised to the tempo's pace where that is quicker.
    peaks = [_peak_speeds(rep, frame) for rep in reps]
    typical_peaks = [float(np.median([p[i] for p in peaks])) * _tempo_speedup(reps, phase, tempo)
                     for i, phase in enumerate((Phase.CONCENTRIC, Phase.ECCENTRIC))]

    def odd(k: int) -> bool:
        first, second = halves[k]
        lopsided = min(first, second) < s.outlier_return_fraction * max(first, second)
        size = max(first, second) / max(typical, 1e-9)
        # Picking the bar up to the hang before a set of rows, or standing and setting it down after,
        # covers a rep's range, but lowers the bar in a fraction of the set's slow eccentric.
        rushed = eccentrics_s[k] < s.outlier_rush_fraction * typical_eccentric_s
        # Setting the bar down (or swinging it up from the floor) is several times faster than the
        # set's movements; a rushed last rep is not (on 480 simulated sets, 99% of the real first and
        # last reps peaked within 2.1 times the set's typical speed; the pick-ups and set-downs read as
        # reps mostly at 2.5-9 times).
        hurried = any(peak > s.outlier_speed_factor * typical_peak
                      for peak, typical_peak in zip(peaks[k], typical_peaks, strict=True))
        return lopsided or rushed or hurried or not s.outlier_size_range[0] <= size <= s.outlier_size_range[1]

    lo, hi = 0, len(reps)
    if odd(0):
        lo = 1
    if hi - lo > 1 and odd(hi - 1):
        hi -= 1
    kept = reps[lo:hi]
    return [replace(rep, index=k + 1) for k, rep in enumerate(kept)]
