"""A simulated set coached into a WAV: simulator -> motion pipeline -> live coach -> CuePlayer -> file.

This is the `run --wav FILE.wav` path end to end on sample time (a virtual clock), with real speech.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tempocoach.audio import CuePlayer, SpeechRenderer, VirtualClock, WavFileOutput, read_wav
from tempocoach.coach.focus import decide_focus
from tempocoach.coach.live import CoachSettings, LiveCoach, phrases_for_set
from tempocoach.coach.schedule import Cue
from tempocoach.exercises import get_exercise
from tempocoach.motion.pipeline import MotionPipeline
from tempocoach.sensors.simulator import simulate_set
from tempocoach.tempo import parse_tempo

LATENCY_S = 0.15


def coach_a_set_into_a_wav(tmp_path: Path) -> tuple[CuePlayer, list[Cue], Path, float]:
    sim = simulate_set(exercise="back-squat", tempo="31X0", reps=4, placement="bar", rate_hz=100, seed=1)
    origin_s = float(sim.batch.t_s[0])
    focus = decide_focus(None, "back-squat")
    renderer = SpeechRenderer("en-us", 170, tmp_path / "cache")
    stats = renderer.prerender(phrases_for_set("back-squat", "31X0", focus, planned_reps=4))
    assert stats.cold > 5 and stats.warm == 0

    coach = LiveCoach(
        "back-squat", "31X0", focus, settings=CoachSettings(output_latency_s=LATENCY_S), planned_reps=4
    )
    pipeline = MotionPipeline(get_exercise("back-squat"), parse_tempo("31X0"), "bar")
    clock = VirtualClock(origin_s)
    wav_path = tmp_path / "session.wav"
    player = CuePlayer(
        WavFileOutput(wav_path, origin_s=origin_s), clock, latency_s=LATENCY_S, renderer=renderer
    )
    released: list[Cue] = []

    def hand_over(cues: list[Cue]) -> None:
        for cue in cues:
            released.append(cue)
            player.schedule_cue(cue)

    hand_over(coach.start(origin_s))
    for batch in sim.batches(10):
        clock.t_s = float(batch.t_s[-1])
        for event in pipeline.update(batch):
            hand_over(coach.on_event(event))
        hand_over(coach.tick(clock.now_s()))
        player.pump()
    for event in pipeline.finish():
        hand_over(coach.on_event(event))
    hand_over(coach.finish(clock.now_s()))
    while not player.idle:
        clock.advance(0.05)
        hand_over(coach.tick(clock.now_s()))
        player.pump()
    player.close()
    return player, released, wav_path, origin_s


def test_a_coached_set_lands_in_the_wav_where_the_player_put_it(tmp_path: Path) -> None:
    player, released, wav_path, origin_s = coach_a_set_into_a_wav(tmp_path)
    assert len(released) >= 6
    assert len(player.history) == len(released)
    played = sorted(
        (r for r in player.history if r.started_s is not None and r.ended_s is not None),
        key=lambda r: r.started_s or 0.0,
    )
    assert sum(r.outcome == "played" for r in played) >= 5

    wav = read_wav(wav_path)
    rate = wav.sample_rate_hz
    sounding = np.zeros(len(wav), dtype=bool)
    previous_end_s = -np.inf
    for record in played:
        assert record.started_s is not None and record.ended_s is not None
        assert record.started_s >= previous_end_s - 1e-9, "two cues overlapped"
        assert record.started_s >= record.at_s - LATENCY_S - 1e-9, "a cue left before its time"
        previous_end_s = record.ended_s
        a, b = round((record.started_s - origin_s) * rate), round((record.ended_s - origin_s) * rate)
        assert wav.samples[a:b].size > 0
        assert np.sqrt(np.mean((wav.samples[a:b] / 32768.0) ** 2)) > 0.005, record.label
        sounding[a:b] = True
    assert not wav.samples[~sounding].any(), "sound outside any played cue"


def test_the_start_line_gives_way_to_the_first_call(tmp_path: Path) -> None:
    player, released, _, _ = coach_a_set_into_a_wav(tmp_path)
    start_line = player.history[0]
    assert released[0].kind == "start" and start_line.priority == 0
    first_in_set = next(r for r in player.history[1:] if r.started_s is not None)
    assert start_line.started_s is not None and start_line.ended_s is not None
    assert first_in_set.started_s is not None
    assert start_line.ended_s <= first_in_set.started_s + 1e-9
    if start_line.outcome == "cut":  # cut exactly where the higher-priority call began
        assert start_line.ended_s == first_in_set.started_s
