"""CuePlayer on a virtual clock: timing, priorities, no overlaps, stale cues, volume, WAV timeline."""

from __future__ import annotations

import asyncio
import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from tempocoach.audio.clip import SAMPLE_RATE_HZ, Clip, read_wav
from tempocoach.audio.outputs import NullOutput, WavFileOutput
from tempocoach.audio.player import CuePlayer, MonotonicClock, PlayRecord, VirtualClock
from tempocoach.audio.speech import SpeechRenderer
from tempocoach.audio.tones import tone
from tempocoach.coach.schedule import Cue
from tempocoach.errors import AudioError
from tempocoach.events import Phase

RATE = SAMPLE_RATE_HZ
WavPlayer = tuple[CuePlayer, VirtualClock, WavFileOutput]


def beep(hz: float, duration_s: float, label: str = "") -> Clip:
    return tone(hz, duration_s, label=label or f"{hz:g}")


def run_clock(player: CuePlayer, clock: VirtualClock, until_s: float, step_s: float) -> None:
    while clock.now_s() < until_s:
        clock.advance(step_s)
        player.pump()


@pytest.fixture
def wav_player(tmp_path: Path) -> WavPlayer:
    clock = VirtualClock()
    output = WavFileOutput(tmp_path / "session.wav")
    return CuePlayer(output, clock), clock, output


def by_label(player: CuePlayer) -> dict[str, PlayRecord]:
    return {r.label: r for r in player.history}


def test_clips_play_in_time_order_at_their_times(
    wav_player: WavPlayer,
) -> None:
    player, clock, _ = wav_player
    player.schedule(3.0, beep(500, 0.2, "c"))
    player.schedule(1.0, beep(400, 0.2, "a"))
    player.schedule(2.0, beep(450, 0.2, "b"))
    run_clock(player, clock, 4.0, 0.25)  # coarse pumps, like one per sensor batch
    records = sorted(player.history, key=lambda r: r.started_s or 0)
    assert [r.label for r in records] == ["a", "b", "c"]
    assert [r.started_s for r in records] == pytest.approx([1.0, 2.0, 3.0])
    assert all(r.outcome == "played" for r in records)


def test_wav_file_output_places_cues_at_their_sample_offsets(
    wav_player: WavPlayer,
) -> None:
    player, clock, output = wav_player
    first, second = beep(440, 0.3, "first"), beep(660, 0.2, "second")
    player.schedule(0.5, first)
    player.schedule(1.25, second)
    run_clock(player, clock, 2.0, 0.1)
    player.close()
    written = read_wav(output.path)
    assert written.sample_rate_hz == RATE
    a, b = round(0.5 * RATE), round(1.25 * RATE)
    assert not written.samples[:a].any()
    assert np.array_equal(written.samples[a : a + len(first)], first.samples)
    assert not written.samples[a + len(first) : b].any()
    assert np.array_equal(written.samples[b : b + len(second)], second.samples)
    assert len(written) == b + len(second)


def test_device_output_starts_at_the_pump_that_finds_it_due() -> None:
    clock, output = VirtualClock(), NullOutput()
    player = CuePlayer(output, clock)
    player.schedule(1.02, beep(440, 0.1, "x"))
    run_clock(player, clock, 1.5, 0.05)
    [(started_s, label)] = output.played
    assert label == "x" and started_s == pytest.approx(1.05)


def test_a_faster_session_clock_stretches_device_playback() -> None:
    # At --speed 2 a half-second clip holds the device for a whole second of session time.
    clock = VirtualClock()
    player = CuePlayer(NullOutput(), clock, clock_rate=2.0)
    first = player.schedule(0.0, beep(440, 0.5, "first"))
    second = player.schedule(0.6, beep(550, 0.5, "second"), expires_s=5.0)
    run_clock(player, clock, 3.0, 0.01)
    assert first.started_s is not None and first.ended_s is not None
    assert first.ended_s - first.started_s == pytest.approx(1.0)
    assert second.started_s == pytest.approx(first.ended_s, abs=0.011)


def test_higher_priority_cuts_a_lower_one(wav_player: WavPlayer) -> None:
    player, clock, output = wav_player
    long_low = beep(300, 1.0, "count")
    player.schedule(1.0, long_low, priority=0)
    player.schedule(1.3, beep(900, 0.2, "correction"), priority=5)
    run_clock(player, clock, 3.0, 0.5)
    records = by_label(player)
    assert records["count"].outcome == "cut"
    assert records["count"].ended_s == pytest.approx(1.3)
    assert records["correction"].started_s == pytest.approx(1.3)
    player.close()
    written = read_wav(output.path).samples
    cut_at = round(1.3 * RATE)
    # The low clip's samples stop where the cut came, and the high one follows at once.
    start = round(1.0 * RATE)
    assert np.array_equal(written[start:cut_at], long_low.samples[: cut_at - start])
    assert dominant_hz(written[cut_at : cut_at + round(0.2 * RATE)]) == pytest.approx(900, abs=10)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def test_equal_or_lower_priority_waits_its_turn(
    wav_player: WavPlayer,
) -> None:
    player, clock, _ = wav_player
    player.schedule(1.0, beep(300, 1.0, "first"), priority=3)
    player.schedule(1.3, beep(400, 0.2, "same"), priority=3, expires_s=5.0)
    player.schedule(1.4, beep(500, 0.2, "lower"), priority=1, expires_s=5.0)
    run_clock(player, clock, 4.0, 0.05)
    records = by_label(player)
    assert records["first"].outcome == "played"
    assert records["same"].started_s == pytest.approx(2.0)
    assert records["lower"].started_s == pytest.approx(2.2)


def test_stale_cues_are_dropped_not_played_late(
    wav_player: WavPlayer,
) -> None:
    player, clock, _ = wav_player
    player.schedule(1.0, beep(300, 1.0, "busy"), priority=2)
    player.schedule(1.2, beep(400, 0.2, "late"), priority=0, expires_s=1.5)
    player.schedule(1.2, beep(500, 0.2, "default-expiry"), priority=0)  # stale_after_s = 0.75 -> 1.95
    player.schedule(1.2, beep(600, 0.2, "patient"), priority=0, expires_s=2.5)
    run_clock(player, clock, 3.0, 0.1)
    records = by_label(player)
    assert records["late"].outcome == "stale" and records["late"].started_s is None
    assert records["default-expiry"].outcome == "stale"
    assert records["patient"].outcome == "played"
    assert records["patient"].started_s == pytest.approx(2.0)


def test_one_coarse_pump_goes_past_a_stale_cue_to_the_next(
    wav_player: WavPlayer,
) -> None:
    player, _, _ = wav_player
    dead = player.schedule(1.0, beep(440, 0.1, "dead"), expires_s=0.9)
    alive = player.schedule(1.5, beep(550, 0.1, "alive"))
    assert player.pump(2.0) == [alive]
    assert dead.outcome == "stale" and alive.started_s == pytest.approx(1.5)


def test_a_cue_scheduled_after_its_expiry_never_plays() -> None:
    clock = VirtualClock(10.0)
    player = CuePlayer(NullOutput(), clock)
    record = player.schedule(5.0, beep(440, 0.1, "old"))
    player.pump()
    assert record.outcome == "stale" and player.output.played == []  # type: ignore[attr-defined]


def test_nothing_ever_overlaps_under_random_load(tmp_path: Path) -> None:
    rng = random.Random(7)
    for trial in range(20):
        clock = VirtualClock()
        player = CuePlayer(WavFileOutput(tmp_path / f"t{trial}.wav"), clock)
        for k in range(30):
            at_s = rng.uniform(0, 10)
            player.schedule(
                at_s, beep(300 + 10 * k, rng.uniform(0.05, 0.8), f"c{k}"), priority=rng.randint(0, 3)
            )
        run_clock(player, clock, 12.0, rng.choice([0.01, 0.1, 0.5]))
        sounded = sorted(
            (r.started_s, r.ended_s)
            for r in player.history
            if r.started_s is not None and r.ended_s is not None
        )
        assert sounded, "something must have played"
        for (_, end_a), (start_b, _) in itertools.pairwise(sounded):
            assert start_b >= end_a - 1e-9
        for r in player.history:
            if r.started_s is not None:
                assert r.started_s >= r.at_s - 1e-9  # never early
                assert r.started_s <= r.expires_s + 1e-9  # never heard after it expired
            assert r.outcome in ("played", "cut", "stale")


def test_volume_scales_the_samples(tmp_path: Path) -> None:
    source = beep(440, 0.2, "a")
    loud, quiet = (
        CuePlayer(WavFileOutput(tmp_path / f"{v}.wav"), VirtualClock(), volume=v) for v in (1.0, 0.25)
    )
    for player in (loud, quiet):
        player.schedule(0.0, source)
        player.pump(0.0)
        player.close()
    peak_loud = np.abs(read_wav(tmp_path / "1.0.wav").samples.astype(np.int32)).max()
    peak_quiet = np.abs(read_wav(tmp_path / "0.25.wav").samples.astype(np.int32)).max()
    assert peak_loud == np.abs(source.samples.astype(np.int32)).max()
    assert peak_quiet / peak_loud == pytest.approx(0.25, abs=0.002)
    with pytest.raises(AudioError, match="volume"):
        CuePlayer(NullOutput(), VirtualClock(), volume=1.5)


def test_output_latency_is_paid_in_advance(wav_player: WavPlayer) -> None:
    player, clock, _ = wav_player
    player.latency_s = 0.2
    record = player.schedule(1.0, beep(440, 0.1, "x"))
    run_clock(player, clock, 2.0, 0.1)
    assert record.started_s == pytest.approx(0.8)


def test_text_is_spoken_through_the_renderer(tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path / "cache", engine="espeak-ng")
    clock = VirtualClock()
    player = CuePlayer(WavFileOutput(tmp_path / "s.wav"), clock, renderer=renderer)
    record = player.schedule(0.5, "two")
    run_clock(player, clock, 2.0, 0.1)
    player.close()
    spoken = renderer.clip("two")
    assert record.label == "two" and record.ended_s == pytest.approx(0.5 + spoken.duration_s)
    written = read_wav(tmp_path / "s.wav")
    assert written.rms() > 0.01
    with pytest.raises(AudioError, match="SpeechRenderer"):
        CuePlayer(NullOutput(), clock).schedule(0.0, "no renderer")


def test_coach_cues_play_tone_then_words(tmp_path: Path) -> None:
    renderer = SpeechRenderer("en-us", 170, tmp_path / "cache", engine="espeak-ng")
    clock = VirtualClock()
    player = CuePlayer(WavFileOutput(tmp_path / "s.wav"), clock, renderer=renderer)
    both = player.schedule_cue(Cue(1.0, "up", "phase_call", 2, Phase.CONCENTRIC, 1, 587.3, 1.5))
    only_tone = player.schedule_cue(Cue(3.0, "", "tone", 1, Phase.ECCENTRIC, 2, 392.0, 3.5))
    run_clock(player, clock, 5.0, 0.05)
    assert both.label == "up" and both.priority == 2 and both.expires_s == 1.5
    assert both.ended_s is not None and both.ended_s - 1.0 > renderer.clip("up").duration_s + 0.12
    assert only_tone.outcome == "played" and only_tone.ended_s == pytest.approx(3.12)
    with pytest.raises(AudioError, match="neither text nor tone"):
        player.schedule_cue(Cue(4.0, "", "tone", 1, None, 2, None, 4.5))


def test_async_run_wakes_for_a_new_event_instead_of_waiting_out_its_poll() -> None:
    output = NullOutput()
    player = CuePlayer(output, MonotonicClock())

    async def session() -> list[PlayRecord]:
        stop = asyncio.Event()
        runner = asyncio.create_task(player.run(stop, max_wait_s=2.0))  # a slow poll
        records = []
        for k in range(5):
            await asyncio.sleep(0.03)
            records.append(player.schedule(player.clock.now_s(), beep(440, 0.01, f"e{k}")))
        await asyncio.sleep(0.05)
        stop.set()
        await runner
        return records

    records = asyncio.run(session())
    assert [r.outcome for r in records] == ["played"] * 5
    latencies = [r.dispatch_latency_s for r in records]
    assert all(lat is not None and lat < 0.5 for lat in latencies), latencies
