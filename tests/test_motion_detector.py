"""The streaming detector on seeded simulated sets, per lift type, and its promises: non-rep motion
is not counted, live packets and offline analysis agree, events come with bounded delay.

Aggregate accuracy over hundreds of sets lives in benchmarks/bench_detector.py; these tests pin the
behaviour so a regression fails loudly."""

from __future__ import annotations

import statistics
from dataclasses import replace

import numpy as np
import pytest

from tempocoach.events import Cruise, MotionFrame, Phase, PhaseEvent, Rep
from tempocoach.exercises import get_exercise
from tempocoach.motion.detector import DetectorSettings, RepDetector
from tempocoach.motion.pipeline import MotionPipeline, analyze_recording
from tempocoach.motion.scoring import match_reps
from tempocoach.motion.tracker import MotionTracker, TrackerSettings
from tempocoach.sensors.base import STANDARD_GRAVITY, ImuBatch
from tempocoach.sensors.sim_sensor import SensorConfig
from tempocoach.sensors.simulator import SimulatedSet, simulate_set
from tempocoach.tempo import parse_tempo


def _edge_errors(found: list[Rep], truth: list[Rep]) -> list[float]:
    errors = []
    for match, t in match_reps(found, truth):
        spans = {p.phase: p for p in match.phases}
        for p in t.phases:
            if p.phase in spans:
                errors += [abs(spans[p.phase].start_s - p.start_s), abs(spans[p.phase].end_s - p.end_s)]
    return errors


def _run(sim: SimulatedSet, packet: int | None = None) -> tuple[MotionPipeline, list[PhaseEvent]]:
    """Stream the set in BLE-sized packets (50 ms unless told otherwise)."""
    pipe = MotionPipeline(get_exercise(sim.exercise), parse_tempo(sim.tempo), sim.placement, sim.rate_hz)
    packet = packet or max(1, round(sim.rate_hz / 20))
    events: list[PhaseEvent] = []
    for batch in sim.batches(packet):
        events += pipe.update(batch)
    return pipe, events + pipe.finish()


@pytest.mark.parametrize(
    ("exercise", "tempo", "placement", "rate_hz"),
    [
        ("back-squat", "31X0", "bar", 100.0),  # eccentric first, pause, explosive concentric
        ("deadlift", "20X1", "bar", 100.0),  # concentric first
        ("overhead-press", "2020", "bar", 200.0),  # no pauses at all
        ("dumbbell-curl", "3010", "wrist", 100.0),  # rotation from the gyro
        ("lateral-raise", "2110", "wrist", 50.0),  # rotation at a low rate
        ("seated-leg-curl", "3110", "bar", 100.0),  # rotation whose concentric lowers the sensor
    ],
)
def test_counts_and_boundaries_per_lift_type(
    exercise: str, tempo: str, placement: str, rate_hz: float
) -> None:
    exact, errors = 0, []
    for seed in range(4):
        sim = simulate_set(exercise, tempo, reps=6, placement=placement, rate_hz=rate_hz, seed=seed)
        pipe, _ = _run(sim)
        assert abs(len(pipe.reps) - len(sim.truth)) <= 2, f"seed {seed}: {len(pipe.reps)} reps"
        exact += len(pipe.reps) == len(sim.truth)
        errors += _edge_errors(pipe.reps, sim.truth)
    assert exact >= 2
    assert statistics.median(errors) < 0.1


@pytest.mark.parametrize(("exercise", "tempo", "rate_hz", "seed"), [
    ("deadlift", "20X1", 100.0, 1),
    # The demo's set: rep 3's eccentric end, extrapolated, once fell after its concentric's start
    # and the bottom pause between them lasted -0.17 s.
    ("back-squat", "31X0", 52.0, 7000),
])
def test_phases_come_in_the_lifts_order_one_after_another(exercise: str, tempo: str, rate_hz: float,
                                                          seed: int) -> None:
    sim = simulate_set(exercise, tempo, reps=5, placement="bar", rate_hz=rate_hz, seed=seed)
    pipe, _ = _run(sim)
    assert pipe.reps
    for reps in (pipe.reps, pipe.refined()[0]):
        for rep in reps:
            assert [p.phase for p in rep.phases] == list(get_exercise(exercise).phase_order)
            assert all(p.end_s >= p.start_s for p in rep.phases)
            assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(rep.phases, rep.phases[1:], strict=False))


def test_motion_before_the_first_rep_is_not_a_rep() -> None:
    sim = simulate_set("back-squat", "31X0", reps=4, placement="bar", rate_hz=100, seed=3)
    first_rep_s = sim.truth[0].start_s
    keep = sim.batch.t_s < first_rep_s - 0.2  # unrack, walk out, settle: no rep yet
    gestures = ImuBatch(sim.batch.t_s[keep], sim.batch.acc_mps2[keep], sim.batch.gyr_radps[keep])
    record = analyze_recording(gestures, get_exercise("back-squat"), parse_tempo("31X0"), "bar")
    assert record.reps == []


def test_live_stream_and_offline_analysis_agree_however_the_stream_is_cut() -> None:
    # A WitMotion sends one sample per notification, a Movesense a dozen, a file arrives whole: the
    # core steps in fixed blocks, so every one of them gives analyze's events and post-set reps.
    sim = simulate_set("bench-press", "31X0", reps=5, placement="bar", rate_hz=100, seed=2)
    offline = analyze_recording(sim.batch, get_exercise("bench-press"), parse_tempo("31X0"), "bar")
    assert len(offline.reps) == 5

    def spans(reps: list[Rep]) -> list[list[tuple[Phase, float, float]]]:
        return [[(p.phase, p.start_s, p.end_s) for p in rep.phases] for rep in reps]

    for packet in (1, 3, 10, 37, len(sim.batch)):
        live, events = _run(sim, packet=packet)
        assert [(e.kind, e.start_s, e.detected_s) for e in events] == [
            (e.kind, e.start_s, e.detected_s) for e in offline.events], f"packets of {packet}"
        # The post-set report of a live session is the refined set, as analyze's is.
        assert spans(live.refined()[0]) == spans(offline.reps), f"packets of {packet}"


def test_a_late_packet_is_dropped_not_run_backwards() -> None:
    sim = simulate_set("back-squat", "31X0", reps=3, placement="bar", rate_hz=100, seed=3)
    packets = sim.batch.chunks(5)
    pipe = MotionPipeline(get_exercise("back-squat"), parse_tempo("31X0"), "bar", 100.0)
    events: list[PhaseEvent] = []
    for k, packet in enumerate(packets):
        events += pipe.update(packet)
        if k == 40:
            events += pipe.update(packets[38])  # resent by the radio after two newer ones
    events += pipe.finish()
    _, clean_events = _run(sim, packet=5)
    assert pipe.stale_samples == 5
    assert [e.start_s for e in events] == [e.start_s for e in clean_events]


@pytest.mark.parametrize(("exercise", "tempo", "placement"),
                         [("back-squat", "31X0", "bar"), ("bench-press", "3110", "bar"),
                          ("dumbbell-curl", "2020", "wrist")])
def test_the_detector_decides_the_same_however_its_input_is_cut(exercise: str, tempo: str,
                                                                 placement: str) -> None:
    # The detector takes uneventful stretches in one go; that must not change a single decision.
    sim = simulate_set(exercise, tempo, reps=5, placement=placement, rate_hz=100, seed=4)
    pipe, _ = _run(sim)
    motion = pipe.motion()

    def decisions(cut: int) -> list[tuple[str, float, float]]:
        detector = RepDetector(get_exercise(exercise), parse_tempo(tempo), unit=motion.unit)
        events = []
        for lo in range(0, len(motion), cut):
            part = slice(lo, lo + cut)
            events += detector.update(MotionFrame(motion.t_s[part], motion.position[part],
                                                  motion.velocity[part], motion.still[part], motion.unit))
        events += detector.finish()
        return [(e.kind, e.start_s, e.detected_s) for e in events]

    one_by_one = decisions(1)
    assert sum(kind == "rep" for kind, _, _ in one_by_one) >= 3
    assert decisions(len(motion)) == one_by_one
    assert decisions(37) == one_by_one


def test_a_twitching_forearm_does_not_hide_a_slow_rotation_lift() -> None:
    # In these seeded sets the forearm twists about its own length at ~1.4 Hz, faster than a 4 s
    # raise or pushdown turns the joint: the joint's axis must still be the one followed.
    matched, true = 0, 0
    for exercise, seed in (("triceps-pushdown", 154), ("lateral-raise", 5049)):
        sim = simulate_set(exercise, "4040", reps=6, placement="wrist", rate_hz=200, seed=seed)
        pipe, _ = _run(sim)
        matched += len(match_reps(pipe.refined()[0], sim.truth))
        true += len(sim.truth)
    assert matched >= 0.75 * true


def test_phase_events_arrive_with_bounded_delay() -> None:
    sim = simulate_set("back-squat", "31X0", reps=6, placement="bar", rate_hz=100, seed=0)
    _, events = _run(sim)
    delays = []
    for rep in sim.truth:
        for span in rep.phases:
            if span.duration_s <= 0:
                continue
            near = [
                e.detected_s - span.start_s for e in events
                if e.kind == "phase" and e.phase is span.phase and -0.5 < e.detected_s - span.start_s < 1.0
            ]
            if near:
                delays.append(min(near, key=abs))
    assert len(delays) >= 12
    assert statistics.median(delays) < 0.2
    assert all(e.detected_s >= e.start_s - 0.5 for e in events)


def _cruise_batch(rate_hz: float = 100.0, speed_mps: float = 0.1, cruise_s: float = 4.0, after_s: float = 3.2
                  ) -> tuple[ImuBatch, np.ndarray]:
    """Rest, a 0.4 s ramp down to speed_mps, a cruise at constant speed, a ramp back, rest."""
    t = np.arange(0, 2.8 + cruise_s + after_s, 1 / rate_hz)
    end_s = 2.4 + cruise_s
    v = np.interp(t, [0, 2.0, 2.4, end_s, end_s + 0.4, t[-1] + 1], [0, 0, -speed_mps, -speed_mps, 0, 0])
    a = np.gradient(v, t)
    acc = np.zeros((len(t), 3))
    acc[:, 2] = a + STANDARD_GRAVITY
    rng = np.random.default_rng(0)
    acc += rng.normal(0, 0.01, acc.shape)
    gyr = rng.normal(0, 0.003, acc.shape)
    return ImuBatch(t, acc, gyr), v


def test_a_slow_cruise_is_not_taken_for_rest() -> None:
    batch, v_true = _cruise_batch()
    tracker = MotionTracker(get_exercise("back-squat"), "bar", TrackerSettings(sample_rate_hz=100))
    frames = [tracker.update(part) for part in batch.chunks(10)]
    still = np.concatenate([f.still for f in frames])
    velocity = np.concatenate([f.velocity for f in frames])
    cruise = (batch.t_s > 2.6) & (batch.t_s < 6.2)
    assert not still[cruise].any()
    assert np.abs(velocity[cruise] - v_true[cruise]).max() < 0.03
    assert still[batch.t_s > 8.0].all() and still[(batch.t_s > 0.5) & (batch.t_s < 1.9)].all()


def test_position_integrates_the_reported_velocity_across_packet_boundaries() -> None:
    # Position is the trapezoid integral of the (detrended) velocity the tracker reports, at every
    # sample: at a packet's first sample too, or each packet boundary adds a drift-sized step.
    sim = simulate_set("back-squat", "4040", reps=3, placement="bar", rate_hz=100, seed=1)
    tracker = MotionTracker(get_exercise("back-squat"), "bar",
                            TrackerSettings(sample_rate_hz=100, cycle_s=8.0))
    frame = MotionFrame.concat([tracker.update(part) for part in sim.batch.chunks(7)])
    step = np.diff(frame.position)
    trapezoid = 0.5 * (frame.velocity[1:] + frame.velocity[:-1]) * np.diff(frame.t_s)
    assert np.abs(step - trapezoid).max() < 1e-9


def test_a_cruise_slower_than_the_drift_tolerance_is_not_rest_once_the_set_shows_its_speeds() -> None:
    """A 0.055 m/s eccentric cruise lasting 5 s: the integrated speed tolerated at rest grows with the
    time since the last rest and would reach 0.055 m/s. Once the set has shown movements peaking at
    0.12 m/s, a rest must be well slower than that, for a rep's time (drift may outgrow it later)."""
    batch, _ = _cruise_batch(speed_mps=0.055, cruise_s=5.0, after_s=12.0)
    tracker = MotionTracker(get_exercise("back-squat"), "bar", TrackerSettings(sample_rate_hz=100))
    tracker.limit_rest_speed(0.12)
    frames = [tracker.update(part) for part in batch.chunks(10)]
    still = np.concatenate([f.still for f in frames])
    assert not still[(batch.t_s > 2.6) & (batch.t_s < 7.2)].any()
    assert still[batch.t_s > batch.t_s[-1] - 2.0].all()


def test_a_cruise_the_detector_sees_under_way_is_not_rest_though_its_integrated_speed_sank() -> None:
    """A 0.045 m/s cruise for 4 s with nothing set-wide known: the tolerated speed would pass it for
    rest after about 2 s. The detector sees the movement under way at a 0.05 m/s peak: no rest until
    its speed falls below 0.15x that, and the rest after it is still found."""
    batch, _ = _cruise_batch(speed_mps=0.045, cruise_s=4.0, after_s=6.0)
    exercise = get_exercise("back-squat")

    def still_when(cruise: tuple[float, float] | None) -> np.ndarray:
        tracker = MotionTracker(exercise, "bar", TrackerSettings(sample_rate_hz=100))
        tracker.expect_cruise(cruise)
        return np.concatenate([tracker.update(part).still for part in batch.chunks(10)])

    cruise = (batch.t_s > 2.6) & (batch.t_s < 6.2)
    assert still_when(None)[cruise].any()  # the trap this guards against
    still = still_when(Cruise(0.15 * 0.05, 2.1, 2.0 + 1.5 * 4.0 + 0.5))
    assert not still[cruise].any()
    assert still[batch.t_s > batch.t_s[-1] - 2.0].all()


def test_live_counts_the_reps_of_slow_eccentrics_whose_integrated_speed_sinks() -> None:
    # Leg press, 3 s eccentrics from a bar sensor at 50 Hz: the offset learned in the set-up leaves the
    # eccentric's integrated speed at 0.05 of a true 0.1 m/s. Taken for rest 2.5 s in, the offset was
    # "corrected" there, and every later eccentric read as standing still: live found 1 rep of 6.
    sim = simulate_set("leg-press", "3010", reps=6, placement="bar", rate_hz=50.0, seed=11)
    pipe, _ = _run(sim)
    assert len(match_reps(pipe.reps, sim.truth)) >= len(sim.truth) - 1


def test_gestures_around_a_slow_set_are_not_held_as_cruises() -> None:
    # Lat pulldown, 5 s eccentrics: reaching for the bar before the set and letting it go after leave
    # the integrated velocity drifting with quiet sensors. Were every movement the detector saw held
    # as a cruise (not only one that moved the sensors after it was seen), both read as reps.
    sim = simulate_set("lat-pulldown", "5010", reps=6, placement="bar", rate_hz=200.0, seed=67)
    pipe, _ = _run(sim)
    assert pipe.reps
    assert pipe.reps[0].start_s > sim.truth[0].start_s - 0.5
    assert pipe.reps[-1].end_s < sim.truth[-1].end_s + 0.5


def test_a_gap_in_the_samples_does_not_lose_the_rest_of_the_set() -> None:
    """0.4 s of samples lost in a pause: the reps after it are still found (across seeds)."""
    found_after, true_after = 0, 0
    for seed in range(4):
        sim = simulate_set("back-squat", "31X0", reps=6, placement="bar", rate_hz=100, seed=seed)
        pause = sim.truth[2].span(Phase.BOTTOM_PAUSE)
        assert pause is not None
        b = sim.batch
        hole = (b.t_s > pause.start_s + 0.1) & (b.t_s < pause.start_s + 0.5)
        holed = ImuBatch(b.t_s[~hole], b.acc_mps2[~hole], b.gyr_radps[~hole])
        assert np.diff(holed.t_s).max() > 0.35  # the gap stays visible
        record = analyze_recording(holed, get_exercise("back-squat"), parse_tempo("31X0"), "bar")
        found_after += len([r for r in record.reps if r.start_s > pause.end_s])
        true_after += len([r for r in sim.truth if r.start_s > pause.end_s])
    assert found_after >= true_after - 3


def test_a_sensor_without_gyro_still_finds_reps() -> None:
    """A Polar H10 streams no gyro: up comes from the low-passed accelerometer instead of the AHRS."""
    found, true = 0, 0
    for seed in range(3):
        sim = simulate_set("back-squat", "31X0", reps=6, placement="bar", rate_hz=100, seed=seed)
        b = sim.batch
        no_gyro = ImuBatch(b.t_s, b.acc_mps2, np.zeros_like(b.gyr_radps), None, {"gyro": "absent"})
        record = analyze_recording(no_gyro, get_exercise("back-squat"), parse_tempo("31X0"), "bar")
        found += len(record.reps)
        true += len(sim.truth)
        assert len(record.reps) <= len(sim.truth)
    assert found >= true // 2


def test_a_short_hole_in_the_stream_does_not_break_a_slow_eccentric() -> None:
    # A BLE packet or two lost mid-eccentric (0.4 s, in every rep of a 4010 set): the speed across the
    # hole is integrated from the acceleration on either side, so the cruise after it is not taken for
    # rest. Before, the tracker held the speed and trusted the next quiet moment as rest, and live
    # found 30 of the 45 reps it finds without the holes (now 42).
    found = {False: 0, True: 0}  # matched live reps, without and with the holes
    for seed in range(3):
        for exercise in ("back-squat", "bench-press", "overhead-press"):
            sim = simulate_set(exercise, "4010", reps=6, placement="bar", rate_hz=100, seed=seed,
                               sensor=SensorConfig(gap_prob=0.0))
            b = sim.batch
            keep = np.ones(len(b), dtype=bool)
            for rep in sim.truth:
                middle_s = rep.phases[0].start_s + 0.5 * rep.phases[0].duration_s
                keep &= ~((b.t_s > middle_s) & (b.t_s < middle_s + 0.4))
            holed_batch = ImuBatch(b.t_s[keep], b.acc_mps2[keep], b.gyr_radps[keep])
            for batch, holed in ((b, False), (holed_batch, True)):
                pipe = MotionPipeline(get_exercise(exercise), parse_tempo("4010"), "bar", 100.0)
                for lo in range(0, len(batch), 5):
                    pipe.update(batch.slice(lo, min(len(batch), lo + 5)))
                pipe.finish()
                found[holed] += len(match_reps(pipe.reps, sim.truth))
    assert found[True] >= 0.85 * found[False]


def test_a_rotation_lift_keeps_its_reps_across_a_one_second_hole() -> None:
    # 1.2 s of samples lost at the turn of the second rep: the angle across the hole follows the rates
    # on both sides of it (before, the rate the hole ended with turned it by a whole phase's range for
    # the set, and the refinement found 20 of the 24 reps, live 17).
    live, refined = 0, 0
    for exercise, tempo, seed in [("overhead-triceps-extension", "2020", 23), ("barbell-curl", "3010", 5),
                                  ("lateral-raise", "2110", 7), ("leg-extension", "3010", 3)]:
        sim = simulate_set(exercise, tempo, reps=6, placement="bar", rate_hz=100, seed=seed,
                           sensor=SensorConfig(gap_prob=0.0))
        b = sim.batch
        cut_s = sim.truth[1].phases[0].end_s - 0.6
        keep = ~((b.t_s > cut_s) & (b.t_s < cut_s + 1.2))
        holed = ImuBatch(b.t_s[keep], b.acc_mps2[keep], b.gyr_radps[keep])
        pipe = MotionPipeline(get_exercise(exercise), parse_tempo(tempo), "bar", 100.0)
        for lo in range(0, len(holed), 5):
            pipe.update(holed.slice(lo, min(len(holed), lo + 5)))
        pipe.finish()
        live += len(match_reps(pipe.reps, sim.truth))
        refined += len(match_reps(pipe.refined()[0], sim.truth))
    assert refined >= 23
    assert live >= 19


@pytest.mark.parametrize(("exercise", "tempo", "placement", "rate_hz", "seed"), [
    ("lat-pulldown", "20X1", "bar", 200.0, 9),
    ("push-up", "3010", "bar", 100.0, 24),
    ("dumbbell-press", "20X1", "wrist", 200.0, 51),
    ("rear-delt-fly", "3010", "bar", 200.0, 79),
])
def test_a_two_rep_set_does_not_count_the_set_up(exercise: str, tempo: str, placement: str,
                                                 rate_hz: float, seed: int) -> None:
    # Heavy sets are short. With two reps and a set-up move read as a third, the post-set pass now
    # compares the three (it needed four): the set-up is unlike the two reps and goes.
    sim = simulate_set(exercise, tempo, reps=2, placement=placement, rate_hz=rate_hz, seed=seed)
    pipe, _ = _run(sim)
    refined = pipe.refined()[0]
    assert len(refined) == 2
    assert len(match_reps(refined, sim.truth)) == 2


def test_the_post_set_pass_takes_a_pause_with_a_wobbling_wrist_for_rest() -> None:
    # A wrist sensor on a translation lift turns 0.1-0.2 rad/s while the bar is held in a pause. Live
    # keeps the strict gyro limit, but the post-set pass takes such a pause for rest, and the phases
    # around it keep their length (before: 90th-percentile duration errors 1.25, 0.75, 0.43 s).
    worst_s = []
    for exercise, tempo, seed in [("bench-press", "3110", 205), ("barbell-row", "5010", 123),
                                  ("back-squat", "4040", 203)]:
        sim = simulate_set(exercise, tempo, reps=6, placement="wrist", rate_hz=100.0, seed=seed)
        pipe, _ = _run(sim)
        errors = []
        for found, true in match_reps(pipe.refined()[0], sim.truth):
            spans = {p.phase: p for p in found.phases}
            errors += [abs(spans[p.phase].duration_s - p.duration_s) for p in true.phases if p.phase in spans]
        worst_s.append(float(np.percentile(errors, 90)))
    assert statistics.mean(worst_s) < 0.3


def test_a_gyro_reading_exactly_zero_at_rest_is_still_a_gyro() -> None:
    # A noiseless sensor (a coarse gyro step or a zero-rate deadband do the same) reads 0 rad/s while
    # the pad rests before the set. That is no sign of a missing gyro: the leg curl's rotation must
    # still come from the gyro (before, live took the first 0.2 s for an accelerometer-only sensor,
    # tracked the pad as a translation and found 2 reps of 6, the refinement none).
    sim = simulate_set("leg-curl", "3010", reps=6, placement="bar", rate_hz=100, seed=100,
                       sensor=SensorConfig.ideal())
    first_move = int(np.argmax(np.any(sim.batch.gyr_radps != 0, axis=1)))
    assert sim.batch.t_s[first_move] - sim.batch.t_s[0] > 0.3  # the lead-in reads exactly zero
    pipe, _ = _run(sim)
    assert pipe.unit == "rad"
    assert len(match_reps(pipe.reps, sim.truth)) >= 5
    assert len(match_reps(pipe.refined()[0], sim.truth)) == 6


def test_a_stream_without_gyro_is_known_by_its_moving_accelerometer() -> None:
    # No metadata says the gyro is absent, but the pad moves while it reads zero: no gyro, so the leg
    # extension is followed along the pad's path (a translation, in metres). However long the sensor
    # lay still before (here 30 s), the zeros only decide once it moves.
    sim = simulate_set("leg-extension", "3010", reps=6, placement="bar", rate_hz=100, seed=1)
    b = sim.batch
    still_t = b.t_s[0] - 30.0 + np.arange(3000) * 0.01
    lying = ImuBatch(still_t, np.tile(b.acc_mps2[0], (3000, 1)), np.zeros((3000, 3)))
    stream = ImuBatch.concat([lying, ImuBatch(b.t_s, b.acc_mps2, np.zeros_like(b.gyr_radps))])
    pipe = MotionPipeline(get_exercise("leg-extension"), parse_tempo("3010"), "bar", 100.0)
    for lo in range(0, len(stream), 5):
        pipe.update(stream.slice(lo, min(len(stream), lo + 5)))
    pipe.finish()
    assert pipe.unit == "m"
    assert len(match_reps(pipe.refined()[0], sim.truth)) >= 4


def test_a_rotation_lift_without_gyro_is_followed_along_the_pads_path() -> None:
    # An accelerometer-only sensor on a leg extension's pad: no turning to read, so the pad's path is
    # tracked as a translation lift's (before, no rep at all was found).
    matched, true = 0, 0
    for seed, tempo in enumerate(["3010", "2020", "31X0"], start=1):
        sim = simulate_set("leg-extension", tempo, reps=6, placement="bar", rate_hz=100, seed=seed)
        b = sim.batch
        no_gyro = ImuBatch(b.t_s, b.acc_mps2, np.zeros_like(b.gyr_radps), None, {"gyro": "absent"})
        record = analyze_recording(no_gyro, get_exercise("leg-extension"), parse_tempo(tempo), "bar")
        assert record.motion.unit == "m"
        matched += len(match_reps(record.reps, sim.truth))
        true += len(sim.truth)
    assert matched >= 0.8 * true


def test_a_sensor_without_gyro_finds_the_reps_of_a_slow_tempo() -> None:
    # 4 s eccentrics and concentrics cruise; without a gyro the post-set pass still reads the
    # reversals from the acceleration lobes (a low-passed up is good enough for that).
    matched, true = 0, 0
    for seed, exercise in enumerate(["back-squat", "bench-press", "deadlift", "overhead-press"]):
        sim = simulate_set(exercise, "4040", reps=6, placement="bar", rate_hz=100, seed=1020 + seed)
        b = sim.batch
        no_gyro = ImuBatch(b.t_s, b.acc_mps2, np.zeros_like(b.gyr_radps), None, {"gyro": "absent"})
        record = analyze_recording(no_gyro, get_exercise(exercise), parse_tempo("4040"), "bar")
        matched += len(match_reps(record.reps, sim.truth))
        true += len(sim.truth)
    assert matched >= 0.75 * true


def _ramped_rotation_frame(exercise: str, tempo: str, reps: int, seed: int
                           ) -> tuple[MotionFrame, list[float]]:
    """A rotation lift's angle rate as the gyro gives it: each movement eases in and out over 0.6 s and
    turns 1.2 rad, pauses are still, and the rate carries 0.03 rad/s of noise. Returns the frame and
    the true start of every movement."""
    rate_hz, ramp_s, turn_rad = 100.0, 0.6, 1.2
    ex, code = get_exercise(exercise), parse_tempo(tempo)
    pieces, starts, t_now = [np.zeros(200)], [], 2.0
    for _ in range(reps):
        for phase in ex.phase_order:
            duration_s = code.nominal_s(phase)
            n = round(duration_s * rate_hz)
            if phase in (Phase.ECCENTRIC, Phase.CONCENTRIC):
                tau = (np.arange(n) + 1) / rate_hz
                ease = np.sin(np.pi / 2 * np.minimum(np.minimum(tau, duration_s - tau) / ramp_s, 1.0)) ** 2
                sign = 1.0 if phase is Phase.CONCENTRIC else -1.0
                pieces.append(sign * turn_rad / (duration_s - ramp_s) * ease)
                starts.append(t_now)
            elif n:
                pieces.append(np.zeros(n))
            t_now += n / rate_hz
    pieces.append(np.zeros(200))
    truth = np.concatenate(pieces)
    t = np.arange(len(truth)) / rate_hz
    velocity = truth + np.random.default_rng(seed).normal(0.0, 0.03, len(t))
    return MotionFrame(t, np.cumsum(velocity) / rate_hz, velocity, truth == 0.0, "rad"), starts


def test_a_rotation_lifts_movements_start_where_the_gyro_says_not_where_acceleration_peaks() -> None:
    # The acceleration-onset guard is for integrated velocity, which creeps in a pause; the gyro's rate
    # does not, and the guard would only make a gently starting movement late.
    def mean_start_error(settings: DetectorSettings) -> float:
        errors = []
        for seed in range(3):
            frame, starts = _ramped_rotation_frame("lateral-raise", "4212", 4, seed)
            detector = RepDetector(get_exercise("lateral-raise"), parse_tempo("4212"), settings, unit="rad")
            detector.update(frame)
            detector.finish()
            found = [p.start_s for rep in detector.reps for p in rep.phases
                     if p.phase in (Phase.ECCENTRIC, Phase.CONCENTRIC)]
            assert len(found) == len(starts)
            errors += [f - s for f, s in zip(found, starts, strict=True)]
        return float(np.mean(errors))

    gyro = DetectorSettings.for_unit("rad")
    assert not gyro.velocity_creeps
    assert abs(mean_start_error(gyro)) < 0.1
    assert mean_start_error(replace(gyro, velocity_creeps=True)) > mean_start_error(gyro) + 0.04


def _curl_from_the_first_sample(acc_scale: float, rate_hz: float = 100.0) -> ImuBatch:
    """Four slow curls (4 s up, 4 s down, 1.6 rad, easing in and out) with the sensor on the forearm
    0.3 m from the elbow, turning about its x axis; the recording starts with the first rep (no rest
    to learn the accelerometer's offset at) and the accelerometer reads acc_scale times the force."""
    n = round(4.0 * rate_hz)
    ease = (1.0 - np.cos(np.pi * np.arange(n) / n)) / 2.0
    phi = np.tile(np.concatenate([1.6 * ease, 1.6 * (1.0 - ease)]), 4)
    t = np.arange(len(phi)) / rate_hz
    wrist = 0.3 * np.column_stack([np.zeros(len(t)), np.sin(phi), -np.cos(phi)])
    force = np.gradient(np.gradient(wrist, t, axis=0), t, axis=0) + np.array([0.0, 0.0, STANDARD_GRAVITY])
    c, s = np.cos(phi), np.sin(phi)  # the sensor's frame is the world's turned by phi about x
    acc = np.column_stack([force[:, 0], c * force[:, 1] + s * force[:, 2], c * force[:, 2] - s * force[:, 1]])
    gyr = np.column_stack([np.gradient(phi, t), np.zeros(len(t)), np.zeros(len(t))])
    return ImuBatch(t, acc_scale * acc, gyr)


@pytest.mark.parametrize("acc_scale", [0.97, 0.98, 0.99])
def test_a_curl_reads_its_concentric_up_before_any_rest_taught_the_accelerometer(acc_scale: float) -> None:
    # Which way is up for a rotation lift is read from how the wrist accelerates as the elbow speeds up
    # and slows down, not from the integrated velocity: with no rest yet, that drifts (an accelerometer
    # 1-3% low) and read most of these curls upside down.
    batch = _curl_from_the_first_sample(acc_scale)
    tracker = MotionTracker(get_exercise("dumbbell-curl"), "wrist", TrackerSettings(sample_rate_hz=100.0))
    frames = [tracker.update(batch.slice(i, i + 5)) for i in range(0, len(batch), 5)]
    velocity = np.concatenate([frame.velocity for frame in frames])
    turning = np.abs(batch.gyr_radps[:, 0]) > 0.2
    read_up = np.sign(velocity[turning]) == np.sign(batch.gyr_radps[turning, 0])
    assert read_up.mean() > 0.85


def test_a_horizontal_rotation_lifts_first_move_is_read_as_it_starts() -> None:
    """A cable fly (concentric first, no up or down to sign it by): 2 s still, then the arms turn about
    the vertical at up to 1 rad/s. The sign is settled once the move is 0.3 rad big; before that the
    gyro's rate is read as if this move were the first one, so the first concentric is not held back
    until then."""
    rate_hz = 100.0
    t = np.arange(0.0, 4.0, 1.0 / rate_hz)
    turning = np.where(t > 2.0, -np.sin(np.pi / 2 * np.clip((t - 2.0) / 0.5, 0.0, 1.0)) ** 2, 0.0)
    gyr = np.column_stack([np.zeros(len(t)), np.zeros(len(t)), turning])
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY], (len(t), 1))
    tracker = MotionTracker(get_exercise("cable-fly"), "wrist", TrackerSettings(sample_rate_hz=rate_hz))
    frames = [tracker.update(part) for part in ImuBatch(t, acc, gyr).chunks(5)]
    velocity = np.concatenate([f.velocity for f in frames])
    position = np.concatenate([f.position for f in frames])
    early = (t > 2.3) & (position < 0.3)  # moving, not yet 0.3 rad from where it started
    assert early.sum() > 10
    assert (velocity[early] > 0.0).all()
    np.testing.assert_allclose(velocity[t > 2.3], -turning[t > 2.3], atol=0.05)


def test_a_steady_slow_turn_is_no_rest_before_the_gyro_bias_is_known() -> None:
    """A lifter who never kept still before the set (no rest has taught the gyro's bias) lowers a cable
    fly's arms at a steady 0.45 rad/s for 5 s. The gyro is judged on change until its bias is known,
    and a steady turn does not change; but no gyro's bias is that large: it is a slow cruise."""
    rate_hz = 100.0
    t = np.arange(0.0, 6.0, 1.0 / rate_hz)
    turning = 0.45 * np.clip(t / 0.5, 0.0, 1.0)
    rng = np.random.default_rng(3)
    gyr = np.column_stack([np.zeros(len(t)), np.zeros(len(t)), turning]) + rng.normal(0, 0.003, (len(t), 3))
    acc = np.tile([0.0, 0.0, STANDARD_GRAVITY], (len(t), 1)) + rng.normal(0, 0.01, (len(t), 3))
    tracker = MotionTracker(get_exercise("cable-fly"), "wrist", TrackerSettings(sample_rate_hz=rate_hz))
    frames = [tracker.update(part) for part in ImuBatch(t, acc, gyr).chunks(5)]
    still = np.concatenate([f.still for f in frames])
    velocity = np.concatenate([f.velocity for f in frames])
    assert not still[t > 0.5].any()  # (it may start from rest)
    np.testing.assert_allclose(np.abs(velocity[t > 1.0]), 0.45, atol=0.02)


@pytest.mark.parametrize(("exercise", "tempo", "rate_hz", "seed"), [
    # The walk-out ends in a short step: the speed rest is entered at, over a short movement, once
    # passed for a 0.07 m/s^2 accelerometer offset and every eccentric drifted past the threshold.
    ("overhead-press", "3010", 200.0, 88),
    # The lifter never keeps still for long before the set: the offset was never learned at all and
    # the accelerometer's 0.16 m/s^2 error hid every rep.
    ("push-up", "2110", 200.0, 135),
])
def test_live_counts_every_rep_when_the_set_up_teaches_the_offset_badly(exercise: str, tempo: str,
                                                                         rate_hz: float, seed: int) -> None:
    sim = simulate_set(exercise, tempo, reps=6, placement="bar", rate_hz=rate_hz, seed=seed)
    pipe, _ = _run(sim)
    assert len(match_reps(pipe.reps, sim.truth)) >= len(sim.truth) - 1


def test_a_bottom_pause_whose_velocity_creeps_is_still_a_pause_live() -> None:
    # The demo's set: the accelerometer's offset reads differently with the bar at the bottom, the
    # integrated velocity creeps up through the 1.2 s pause and crossed the concentric's threshold.
    # The rep's spans must still say the concentric began when the lifter drove the bar up.
    sim = simulate_set("back-squat", "31X0", reps=5, placement="bar", rate_hz=52.0, seed=7000)
    pipe, _ = _run(sim)
    (found, true), *_ = match_reps(pipe.reps, sim.truth)
    assert found.index == true.index == 1
    assert abs(found.duration_of(Phase.BOTTOM_PAUSE) - true.duration_of(Phase.BOTTOM_PAUSE)) < 0.25
    concentric_s = [s.start_s for rep in (found, true) for s in rep.phases if s.phase is Phase.CONCENTRIC]
    assert abs(concentric_s[0] - concentric_s[1]) < 0.1


def _eased_frame(segments: list[tuple[float, float]], seed: int, rate_hz: float = 100.0,
                 ramp_s: float = 0.3) -> tuple[MotionFrame, list[float]]:
    """A translation lift's velocity from (duration_s, distance_m) segments one after another (distance
    0: still), each movement easing in and out over ramp_s, with 5 mm/s of noise. Returns the frame
    and the start of every movement."""
    pieces, starts, t_now = [], [], 0.0
    for duration_s, distance_m in segments:
        n = round(duration_s * rate_hz)
        if distance_m:
            tau = (np.arange(n) + 1) / rate_hz
            ease = np.sin(np.pi / 2 * np.minimum(np.minimum(tau, duration_s - tau) / ramp_s, 1.0)) ** 2
            pieces.append(distance_m / (duration_s - ramp_s) * ease)
            starts.append(t_now)
        else:
            pieces.append(np.zeros(n))
        t_now += n / rate_hz
    truth = np.concatenate(pieces)
    t = np.arange(len(truth)) / rate_hz
    velocity = truth + np.random.default_rng(seed).normal(0.0, 0.005, len(t))
    return MotionFrame(t, np.cumsum(velocity) / rate_hz, velocity, truth == 0.0, "m"), starts


def test_a_brisk_move_before_the_set_does_not_hide_its_slow_eccentrics() -> None:
    """5010 barbell rows: the lifter pulls the bar off the floor and lowers it to the hang at 0.6 m/s
    before the set, whose eccentrics then crawl at 0.065 m/s. A start threshold learned from that
    lowering alone (0.16 x 0.6 m/s) sat above every eccentric of the set."""
    set_up = [(2.0, 0.0), (1.5, 0.5), (1.0, 0.0), (0.8, -0.3), (3.0, 0.0)]
    reps = [(1.0, 0.3), (0.2, 0.0), (5.0, -0.3), (0.2, 0.0)] * 6
    frame, starts = _eased_frame([*set_up, *reps, (3.0, 0.0)], seed=4)
    detector = RepDetector(get_exercise("barbell-row"), parse_tempo("5010"))
    detector.update(frame)
    detector.finish()
    concentric_starts = starts[2::2]
    found = [rep.start_s for rep in detector.reps if rep.start_s > 4.0]
    assert len(found) == 6
    assert max(abs(a - b) for a, b in zip(found, concentric_starts, strict=True)) < 0.15


def test_live_counts_a_set_from_a_cheap_gyro_that_starts_still() -> None:
    """A back squat, 2110, with a gyro 0.18 rad/s off (a Feather nRF52840's is as bad). Left to the
    AHRS's integral feedback, the bias tilted the attitude towards its rejection angle for most of the
    set, no rest lasted long enough to learn from, and live found 1 rep of 6. The bar sat still in the
    rack as the stream began: that teaches the bias at once."""
    sim = simulate_set("back-squat", "2110", reps=6, placement="bar", rate_hz=100.0, seed=56,
                       sensor=SensorConfig(gyr_bias_radps=0.18))
    pipe, _ = _run(sim)
    assert len(match_reps(pipe.reps, sim.truth)) >= 5


def _run_programmed(sim: SimulatedSet, programmed: str) -> MotionPipeline:
    """Stream a set lifted at its own tempo into a pipeline told another (the programmed one)."""
    pipe = MotionPipeline(get_exercise(sim.exercise), parse_tempo(programmed), sim.placement, sim.rate_hz)
    for batch in sim.batches(max(1, round(sim.rate_hz / 20))):
        pipe.update(batch)
    pipe.finish()
    return pipe


@pytest.mark.parametrize(("exercise", "lifted", "programmed", "placement"), [
    ("back-squat", "1010", "4040", "bar"),  # every phase rushed
    ("bench-press", "1010", "4040", "bar"),
    ("dumbbell-curl", "1010", "4040", "wrist"),
    ("leg-extension", "4040", "31X0", "bar"),  # the explosive concentric ground out over 4 s
])
def test_reps_lifted_far_off_the_programmed_tempo_are_still_counted(exercise: str, lifted: str,
                                                                   programmed: str, placement: str) -> None:
    # A coach counts the reps of a lifter who does not keep the tempo (and says so). A 1 s eccentric
    # against 4 s used to be taken for a swing, and a 4 s concentric against X for no movement at all:
    # two seeds each, live found 0-7 of 12 and the post-set pass 0-6.
    live = refined = 0
    for seed in (1, 2):
        sim = simulate_set(exercise, lifted, reps=6, placement=placement, rate_hz=100.0, seed=seed)
        pipe = _run_programmed(sim, programmed)
        live += len(match_reps(pipe.reps, sim.truth))
        refined += len(match_reps(pipe.refined()[0], sim.truth))
    assert live >= 9
    assert refined >= 11


@pytest.mark.parametrize("exercise", ["bench-press", "overhead-press", "leg-press"])
def test_the_post_set_pass_finds_the_reps_of_a_lifter_far_slower_than_the_tempo(exercise: str) -> None:
    # 4040 against a programmed 2010: live counted them, but the post-set pass expected the tempo's
    # brisk accelerations and took the slow cruises for rests (0-1 of 12 found). It now expects the
    # pace the live reps show.
    refined = 0
    for seed in (1, 2):
        sim = simulate_set(exercise, "4040", reps=6, placement="bar", rate_hz=100.0, seed=seed)
        refined += len(match_reps(_run_programmed(sim, "2010").refined()[0], sim.truth))
    assert refined >= 11


def test_the_post_set_pass_finds_the_reps_of_a_lifter_holding_pauses_the_tempo_has_not() -> None:
    # 4212 lifted against a programmed 3010: 2 s pauses where the post-set pass expected none, so it
    # trusted none of that quiet as rest and found 2 of 6. Live read the bottom pauses at ~2 s.
    sim = simulate_set("leg-press", "4212", reps=6, placement="bar", rate_hz=100.0, seed=40)
    assert len(match_reps(_run_programmed(sim, "3010").refined()[0], sim.truth)) >= 5


def test_live_reps_that_are_mostly_handling_make_no_false_pace() -> None:
    # A slow wrist row at 50 Hz: live found 3 "reps", 1 of them real and far quicker than 4040. Refined
    # at that pace alone the post-set pass found 2 of 6; refined both ways, the tempo's reading wins.
    sim = simulate_set("barbell-row", "4040", reps=6, placement="wrist", rate_hz=50.0, seed=10239)
    pipe, _ = _run(sim)
    assert len(match_reps(pipe.reps, sim.truth)) <= 2
    assert len(match_reps(pipe.refined()[0], sim.truth)) >= 5
